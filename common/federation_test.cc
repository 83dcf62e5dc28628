#include "common/federation.h"

#include <gtest/gtest.h>

#include "common/test_support.h"

namespace metronome {
namespace {

FederationSpec SpecOf(const testing::TestFederation& test) {
  FederationSpec spec;
  spec.chain_id = test.federation.chain_id();
  spec.members = test.federation.members();
  return spec;
}

TEST(FederationTest, QuorumFollowsTheFormula) {
  struct Case {
    uint32_t n;
    std::optional<uint32_t> f;
    uint32_t expected_f;
    uint32_t expected_q;
  };
  const Case cases[] = {{1, {}, 0, 1}, {3, {}, 0, 2},  {4, {}, 1, 3},
                        {7, {}, 2, 5}, {10, {}, 3, 7}, {10, 0u, 0, 6}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.n);
    const testing::TestFederation test = testing::MakeTestFederation(c.n, "devchain", 1, c.f);
    EXPECT_EQ(test.federation.f(), c.expected_f);
    EXPECT_EQ(test.federation.q(), c.expected_q);
  }
}

TEST(FederationTest, RejectsDuplicateKeysWithReason) {
  FederationSpec spec = SpecOf(testing::MakeTestFederation(4));
  spec.members[3] = spec.members[0];
  std::string error;
  EXPECT_FALSE(Federation::Make(spec, &error).has_value());
  EXPECT_NE(error.find("members"), std::string::npos);
}

TEST(FederationTest, RejectsFAboveBound) {
  FederationSpec spec = SpecOf(testing::MakeTestFederation(4));
  spec.f = 2;
  std::string error;
  EXPECT_FALSE(Federation::Make(spec, &error).has_value());
  EXPECT_EQ(error.rfind("f:", 0), 0u) << error;
}

TEST(FederationTest, RejectsStatedNOrQThatDisagree) {
  FederationSpec spec = SpecOf(testing::MakeTestFederation(4));
  std::string error;
  spec.n = 5;
  EXPECT_FALSE(Federation::Make(spec, &error).has_value());
  EXPECT_EQ(error.rfind("n:", 0), 0u) << error;
  spec.n = 4;
  spec.q = 4;
  EXPECT_FALSE(Federation::Make(spec, &error).has_value());
  EXPECT_EQ(error.rfind("q:", 0), 0u) << error;
  spec.q = 3;
  EXPECT_TRUE(Federation::Make(spec, &error).has_value());
}

TEST(FederationTest, IdCoversEveryField) {
  const testing::TestFederation test = testing::MakeTestFederation(7);
  const FederationSpec base = SpecOf(test);
  std::string error;
  const Hash256 base_id = Federation::Make(base, &error)->id();
  std::vector<FederationSpec> variants(6, base);
  variants[0].chain_id = "other";
  variants[1].epoch = 1;
  std::swap(variants[2].members[0], variants[2].members[1]);
  variants[3].f = 1;
  variants[4].leader_selection = LeaderSelection::kHashing;
  variants[5].members.pop_back();
  for (size_t i = 0; i < variants.size(); ++i) {
    SCOPED_TRACE(i);
    std::optional<Federation> variant = Federation::Make(variants[i], &error);
    ASSERT_TRUE(variant.has_value()) << error;
    EXPECT_NE(variant->id(), base_id);
  }
}

TEST(FederationTest, EncodingRoundTrips) {
  const testing::TestFederation test = testing::MakeTestFederation(4);
  std::string error;
  std::optional<Federation> decoded = Federation::Decode(test.federation.encoded(), &error);
  ASSERT_TRUE(decoded.has_value()) << error;
  EXPECT_EQ(decoded->id(), test.federation.id());
}

TEST(FederationTest, DecodeRejectsInconsistentEncodedQuorum) {
  const testing::TestFederation test = testing::MakeTestFederation(4);
  Bytes encoded = test.federation.encoded();
  // q is the u32 before leader_selection:u8 and protocol_id:u32.
  encoded[encoded.size() - 6] ^= 1;
  std::string error;
  EXPECT_FALSE(Federation::Decode(encoded, &error).has_value());
  EXPECT_NE(error.find("q:"), std::string::npos) << error;
}

TEST(FederationTest, LeaderSelectionCoversEveryMemberAndIsDeterministic) {
  for (LeaderSelection selection : {LeaderSelection::kRoundRobin, LeaderSelection::kHashing}) {
    FederationSpec spec = SpecOf(testing::MakeTestFederation(4));
    spec.leader_selection = selection;
    std::string error;
    const Federation federation = *Federation::Make(spec, &error);
    std::vector<int> led(4, 0);
    for (uint64_t view = 0; view < 400; ++view) {
      const uint32_t leader = federation.LeaderOf(view);
      ASSERT_LT(leader, 4u);
      EXPECT_EQ(leader, federation.LeaderOf(view));
      ++led[leader];
    }
    for (int count : led) EXPECT_GT(count, 50);
  }
}

TEST(FederationTest, FingerprintIsFourGroupsOfHex) {
  Hash256 id{};
  id[0] = 0xab;
  EXPECT_EQ(FederationFingerprint(id), "ab00:0000:0000:0000");
}

}  // namespace
}  // namespace metronome
