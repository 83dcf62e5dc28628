#include "common/merkle.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "common/hash.h"

namespace metronome {
namespace {

std::vector<Hash256> Leaves(size_t count) {
  std::vector<Hash256> leaves;
  for (size_t i = 0; i < count; ++i) leaves.push_back(MerkleLeafHash(BytesOf(std::to_string(i))));
  return leaves;
}

Hash256 Node(const Hash256& left, const Hash256& right) {
  Bytes buffer = {0x01};
  buffer.insert(buffer.end(), left.begin(), left.end());
  buffer.insert(buffer.end(), right.begin(), right.end());
  return Blake2b256(buffer);
}

TEST(MerkleTest, EmptyTreeRootIsHashOfNothing) { EXPECT_EQ(MerkleRoot({}), Blake2b256(Bytes{})); }

TEST(MerkleTest, SingleLeafIsItsOwnRoot) {
  const std::vector<Hash256> leaves = Leaves(1);
  EXPECT_EQ(MerkleRoot(leaves), leaves[0]);
}

TEST(MerkleTest, LeafAndNodeHashesAreDomainSeparated) {
  const Bytes data = BytesOf("x");
  Bytes prefixed = {0x00};
  prefixed.insert(prefixed.end(), data.begin(), data.end());
  EXPECT_EQ(MerkleLeafHash(data), Blake2b256(prefixed));
  EXPECT_NE(MerkleLeafHash(data), Blake2b256(data));
}

TEST(MerkleTest, OddNodeIsPromotedNotDuplicated) {
  const std::vector<Hash256> leaves = Leaves(3);
  EXPECT_EQ(MerkleRoot(leaves), Node(Node(leaves[0], leaves[1]), leaves[2]));
  // Duplicating the last leaf (Bitcoin's rule) must give a different root.
  std::vector<Hash256> duplicated = leaves;
  duplicated.push_back(leaves[2]);
  EXPECT_NE(MerkleRoot(leaves), MerkleRoot(duplicated));
}

TEST(MerkleTest, ProofRejectsWrongLeafIndexCountOrRoot) {
  const std::vector<Hash256> leaves = Leaves(5);
  const Hash256 root = MerkleRoot(leaves);
  const MerkleProof proof = MakeMerkleProof(leaves, 2);
  EXPECT_TRUE(VerifyMerkleProof(proof, leaves[2], root));
  EXPECT_FALSE(VerifyMerkleProof(proof, leaves[3], root));
  MerkleProof moved = proof;
  moved.leaf_index = 3;
  EXPECT_FALSE(VerifyMerkleProof(moved, leaves[2], root));
  MerkleProof resized = proof;
  resized.leaf_count = 3;  // Leaf 2 would be a promoted odd node.
  EXPECT_FALSE(VerifyMerkleProof(resized, leaves[2], root));
  MerkleProof extended = proof;
  extended.siblings.push_back(root);
  EXPECT_FALSE(VerifyMerkleProof(extended, leaves[2], root));
  MerkleProof outside = proof;
  outside.leaf_index = 5;
  EXPECT_FALSE(VerifyMerkleProof(outside, leaves[2], root));
}

TEST(MerkleTest, ProofRoundTripsThroughEncoding) {
  const MerkleProof proof = MakeMerkleProof(Leaves(7), 6);
  Writer writer;
  EncodeMerkleProof(proof, &writer);
  Reader reader(writer.bytes());
  EXPECT_EQ(DecodeMerkleProof(&reader), proof);
  reader.ExpectEnd();
  EXPECT_TRUE(reader.ok());
}

RC_GTEST_PROP(MerkleProperty, EveryLeafOfRandomTreesHasAValidProof, ()) {
  const size_t count = *rc::gen::inRange<size_t>(1, 200);
  const std::vector<Hash256> leaves = Leaves(count);
  const Hash256 root = MerkleRoot(leaves);
  for (size_t i = 0; i < count; ++i) {
    const MerkleProof proof = MakeMerkleProof(leaves, i);
    RC_ASSERT(VerifyMerkleProof(proof, leaves[i], root));
    // The same proof must not prove any other leaf.
    RC_ASSERT(!VerifyMerkleProof(proof, leaves[(i + 1) % count], root) || count == 1);
  }
}

}  // namespace
}  // namespace metronome
