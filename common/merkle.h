#ifndef METRONOME_COMMON_MERKLE_H_
#define METRONOME_COMMON_MERKLE_H_

#include <vector>

#include "common/bytes.h"
#include "common/canonical.h"

namespace metronome {

// A binary Merkle tree over BLAKE2b-256 in the style of RFC 6962: leaves hash as
// H(0x00 || data), inner nodes as H(0x01 || left || right), and an odd node at the end
// of a level is promoted unchanged to the next level. It is never paired with itself,
// which is what made Bitcoin's tree ambiguous (CVE-2012-2459). The root of no leaves is
// H(""). Pure functions; thread-safe.

Hash256 MerkleLeafHash(const Bytes& leaf_data);
Hash256 MerkleRoot(const std::vector<Hash256>& leaf_hashes);

// An inclusion proof: the leaf's position, the tree size, and the sibling hashes from
// the bottom level up (promoted levels contribute no sibling).
struct MerkleProof {
  uint64_t leaf_index = 0;
  uint64_t leaf_count = 0;
  std::vector<Hash256> siblings;

  bool operator==(const MerkleProof& other) const {
    return leaf_index == other.leaf_index && leaf_count == other.leaf_count &&
           siblings == other.siblings;
  }
};

// The most siblings a proof may hold: a tree of 2^64 leaves is 64 levels deep.
constexpr uint32_t kMerkleSiblingsMax = 64;

// REQUIRES: leaf_index < leaf_hashes.size().
MerkleProof MakeMerkleProof(const std::vector<Hash256>& leaf_hashes, uint64_t leaf_index);

// True when `proof` shows `leaf_hash` at proof.leaf_index in the tree of
// proof.leaf_count leaves with root `root` (RFC 9162 §2.1.3.2). A proof with extra or
// missing siblings, or an index outside the tree, is rejected. As in RFC 6962 the root
// does not commit to the leaf count: a proof may verify under more than one count of
// the same shape, and still proves only that the leaf sits at leaf_index.
bool VerifyMerkleProof(const MerkleProof& proof, const Hash256& leaf_hash, const Hash256& root);

void EncodeMerkleProof(const MerkleProof& proof, Writer* writer);
MerkleProof DecodeMerkleProof(Reader* reader);

}  // namespace metronome

#endif  // METRONOME_COMMON_MERKLE_H_
