#include "services/bft/core/block_tree.h"

#include <algorithm>

#include "common/assert.h"

namespace metronome::bft {

BlockTree::BlockTree(const Block& genesis, size_t blocks_max, uint64_t committed_history)
    : blocks_max_(blocks_max), committed_history_(committed_history) {
  METRONOME_ASSERT(blocks_max >= 16);
  committed_hash_ = genesis.hash();
  committed_height_ = genesis.header.height;
  retained_from_height_ = committed_height_;
  blocks_[committed_hash_] = genesis;
}

bool BlockTree::Insert(const Block& block) {
  const Hash256 hash = block.hash();
  if (blocks_.count(hash) != 0) return true;
  if (block.header.height <= committed_height_) return false;
  if (blocks_.size() >= blocks_max_) return false;
  blocks_[hash] = block;
  METRONOME_ASSERT(blocks_.size() <= blocks_max_);
  return true;
}

const Block* BlockTree::Find(const Hash256& hash) const {
  auto found = blocks_.find(hash);
  return found == blocks_.end() ? nullptr : &found->second;
}

bool BlockTree::Extends(const Hash256& descendant, const Hash256& ancestor) const {
  const Block* ancestor_block = Find(ancestor);
  if (ancestor_block == nullptr) return false;
  const uint64_t ancestor_height = ancestor_block->header.height;
  Hash256 cursor = descendant;
  while (true) {
    if (cursor == ancestor) return true;
    const Block* block = Find(cursor);
    if (block == nullptr || block->header.height <= ancestor_height) return false;
    cursor = block->header.parent_hash;
  }
}

std::optional<std::vector<Block>> BlockTree::UncommittedPathTo(
    const Hash256& target, std::optional<Hash256>* missing) const {
  *missing = std::nullopt;
  std::vector<Block> path;
  Hash256 cursor = target;
  while (cursor != committed_hash_) {
    const Block* block = Find(cursor);
    if (block == nullptr) {
      *missing = cursor;
      return std::nullopt;
    }
    if (block->header.height <= committed_height_) return std::nullopt;  // Another branch.
    path.push_back(*block);
    cursor = block->header.parent_hash;
  }
  std::reverse(path.begin(), path.end());
  return path;
}

void BlockTree::Commit(const std::vector<Block>& path) {
  METRONOME_ASSERT(!path.empty());
  METRONOME_ASSERT(path.front().header.parent_hash == committed_hash_);
  committed_hash_ = path.back().hash();
  committed_height_ = path.back().header.height;
  Prune();
}

void BlockTree::ResetTo(const Block& block) {
  blocks_.clear();
  committed_hash_ = block.hash();
  committed_height_ = block.header.height;
  retained_from_height_ = committed_height_;
  blocks_[committed_hash_] = block;
}

void BlockTree::Prune() {
  // Keep the committed chain's last `committed_history_` blocks and everything above the
  // committed height that still descends from the committed block.
  std::map<Hash256, Block> kept;
  Hash256 cursor = committed_hash_;
  uint64_t lowest = committed_height_;
  while (const Block* block = Find(cursor)) {
    if (committed_height_ - block->header.height > committed_history_) break;
    kept[cursor] = *block;
    lowest = block->header.height;
    if (block->header.height == 0) break;
    cursor = block->header.parent_hash;
  }
  for (const auto& [hash, block] : blocks_) {
    if (block.header.height > committed_height_ && Extends(hash, committed_hash_)) {
      kept[hash] = block;
    }
  }
  blocks_.swap(kept);
  retained_from_height_ = lowest;
  METRONOME_ASSERT(blocks_.count(committed_hash_) == 1);
}

std::vector<Block> BlockTree::AncestorsOf(const Hash256& hash, uint64_t stop_height,
                                          size_t count) const {
  std::vector<Block> chain;
  Hash256 cursor = hash;
  while (chain.size() < count) {
    const Block* block = Find(cursor);
    if (block == nullptr || block->header.height <= stop_height) break;
    chain.push_back(*block);
    cursor = block->header.parent_hash;
  }
  return chain;
}

}  // namespace metronome::bft
