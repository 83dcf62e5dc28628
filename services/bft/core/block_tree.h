#ifndef METRONOME_SERVICES_BFT_CORE_BLOCK_TREE_H_
#define METRONOME_SERVICES_BFT_CORE_BLOCK_TREE_H_

#include <map>
#include <optional>
#include <vector>

#include "services/bft/core/messages.h"

namespace metronome::bft {

// The blocks a replica holds: the committed chain's recent history and the uncommitted
// tree above it. Bounded: at most `blocks_max` blocks; Insert refuses more. Pure;
// not thread-safe.
class BlockTree {
 public:
  BlockTree(const Block& genesis, size_t blocks_max, uint64_t committed_history);

  // Inserts a block whose header hash and content root the caller checked. Returns
  // false (and stores nothing) when the tree is full or the block is at or below the
  // committed height without being committed already.
  bool Insert(const Block& block);
  const Block* Find(const Hash256& hash) const;
  bool Contains(const Hash256& hash) const { return Find(hash) != nullptr; }

  // True when `descendant` is `ancestor` or has it as an ancestor, as far as the tree
  // knows (a missing link means false).
  bool Extends(const Hash256& descendant, const Hash256& ancestor) const;

  // The blocks from just above the committed block up to `target`, oldest first, when
  // `target` descends from the committed block and every link is present. Otherwise
  // nullopt, with *missing set to the first absent hash (when one is absent).
  std::optional<std::vector<Block>> UncommittedPathTo(const Hash256& target,
                                                      std::optional<Hash256>* missing) const;

  // Marks the path as committed and prunes forks and history below the new commit.
  // REQUIRES: `path` came from UncommittedPathTo and is non-empty.
  void Commit(const std::vector<Block>& path);
  // Jumps the committed block to `block` (fast-forward), dropping everything else.
  void ResetTo(const Block& block);

  const Hash256& committed_hash() const { return committed_hash_; }
  uint64_t committed_height() const { return committed_height_; }
  // The lowest committed height still held.
  uint64_t retained_from_height() const { return retained_from_height_; }
  size_t size() const { return blocks_.size(); }

  // The chain from `hash` down through its ancestors (at most `count` blocks, stopping
  // above `stop_height` or at a missing parent), newest first.
  std::vector<Block> AncestorsOf(const Hash256& hash, uint64_t stop_height, size_t count) const;

 private:
  void Prune();

  size_t blocks_max_;
  uint64_t committed_history_;
  std::map<Hash256, Block> blocks_;
  Hash256 committed_hash_{};
  uint64_t committed_height_ = 0;
  uint64_t retained_from_height_ = 0;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_BLOCK_TREE_H_
