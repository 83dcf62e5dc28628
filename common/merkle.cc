#include "common/merkle.h"

#include <sodium.h>

#include "common/assert.h"
#include "common/hash.h"

namespace metronome {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

Hash256 NodeHash(const Hash256& left, const Hash256& right) {
  uint8_t buffer[1 + 32 + 32];
  buffer[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), buffer + 1);
  std::copy(right.begin(), right.end(), buffer + 33);
  return Blake2b256(buffer, sizeof(buffer));
}

// One level up: pairs are hashed, an odd last node is promoted unchanged.
std::vector<Hash256> ParentLevel(const std::vector<Hash256>& level) {
  METRONOME_ASSERT(level.size() > 1);
  std::vector<Hash256> parents;
  parents.reserve((level.size() + 1) / 2);
  for (size_t i = 0; i + 1 < level.size(); i += 2)
    parents.push_back(NodeHash(level[i], level[i + 1]));
  if (level.size() % 2 == 1) parents.push_back(level.back());
  return parents;
}

}  // namespace

Hash256 MerkleLeafHash(const Bytes& leaf_data) {
  Bytes buffer;
  buffer.reserve(1 + leaf_data.size());
  buffer.push_back(kLeafPrefix);
  buffer.insert(buffer.end(), leaf_data.begin(), leaf_data.end());
  return Blake2b256(buffer);
}

Hash256 MerkleRoot(const std::vector<Hash256>& leaf_hashes) {
  if (leaf_hashes.empty()) return Blake2b256(nullptr, 0);
  std::vector<Hash256> level = leaf_hashes;
  while (level.size() > 1) level = ParentLevel(level);
  return level.front();
}

MerkleProof MakeMerkleProof(const std::vector<Hash256>& leaf_hashes, uint64_t leaf_index) {
  METRONOME_ASSERT(leaf_index < leaf_hashes.size());
  MerkleProof proof;
  proof.leaf_index = leaf_index;
  proof.leaf_count = leaf_hashes.size();
  std::vector<Hash256> level = leaf_hashes;
  uint64_t index = leaf_index;
  while (level.size() > 1) {
    const uint64_t sibling = index ^ 1;
    if (sibling < level.size()) proof.siblings.push_back(level[sibling]);
    level = ParentLevel(level);
    index /= 2;
  }
  METRONOME_ASSERT(index == 0);
  METRONOME_ASSERT(proof.siblings.size() <= kMerkleSiblingsMax);
  return proof;
}

bool VerifyMerkleProof(const MerkleProof& proof, const Hash256& leaf_hash, const Hash256& root) {
  if (proof.leaf_count == 0 || proof.leaf_index >= proof.leaf_count) return false;
  if (proof.siblings.size() > kMerkleSiblingsMax) return false;
  uint64_t node = proof.leaf_index;
  uint64_t last = proof.leaf_count - 1;
  Hash256 running = leaf_hash;
  for (const Hash256& sibling : proof.siblings) {
    if (last == 0) return false;  // More siblings than levels.
    if ((node & 1) == 1 || node == last) {
      running = NodeHash(sibling, running);
      // Levels where this node was the promoted odd one contribute no sibling.
      while ((node & 1) == 0 && node != 0) {
        node >>= 1;
        last >>= 1;
      }
    } else {
      running = NodeHash(running, sibling);
    }
    node >>= 1;
    last >>= 1;
  }
  // Promoted levels above the last sibling keep the running hash unchanged.
  return last == 0 && sodium_memcmp(running.data(), root.data(), root.size()) == 0;
}

void EncodeMerkleProof(const MerkleProof& proof, Writer* writer) {
  METRONOME_ASSERT(proof.siblings.size() <= kMerkleSiblingsMax);
  writer->Kind(ArtefactKind::kMerkleProof);
  writer->U64(proof.leaf_index);
  writer->U64(proof.leaf_count);
  writer->U32(static_cast<uint32_t>(proof.siblings.size()));
  for (const Hash256& sibling : proof.siblings) writer->Fixed(sibling);
}

MerkleProof DecodeMerkleProof(Reader* reader) {
  MerkleProof proof;
  reader->ExpectKind(ArtefactKind::kMerkleProof);
  proof.leaf_index = reader->U64();
  proof.leaf_count = reader->U64();
  const uint32_t count = reader->Count(kMerkleSiblingsMax, "merkle sibling");
  for (uint32_t i = 0; i < count && reader->ok(); ++i) {
    proof.siblings.push_back(reader->Fixed<32>());
  }
  return proof;
}

}  // namespace metronome
