// Real processes: member 0 runs the test-only Byzantine build (metronome-bft-byzantine:
// the service over a core that also sends the attacks found on main: votes with phases
// 4..3n+5 for every vote it casts, unsolicited block answers claiming everything below
// 2^40 pruned with its decision and a bad or missing state, floods of future votes).
// The three honest members keep certifying, none restarts or fast-forwards, and the
// attacks were seen (refused as malformed) rather than lost on the way.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/integration/bft/bft_harness.h"

namespace metronome::bft::testing {
namespace {

constexpr int kMembers = 4;
constexpr int kByzantine = 0;

double Commits(BftTestnet* net, int i) { return net->Metric(i, "metronome_bft_commits_total"); }

TEST(BftByzantineTest, HonestMembersKeepCertifyingUnderTheAttacksFoundOnMain) {
  std::unique_ptr<BftTestnet> net = BftTestnet::Create(TestDirectory("byzantine"), kMembers);
  ASSERT_NE(net, nullptr);
  ASSERT_TRUE(net->StartBft(kByzantine, {}, 0, kByzantineBftBinary));
  for (int i = 1; i < kMembers; ++i) ASSERT_TRUE(net->StartBft(i));
  ASSERT_TRUE(PollUntil(
      [&] {
        for (int i = 0; i < kMembers; ++i) {
          if (net->Metric(i, "metronome_bft_peers_connected") < kMembers - 1) return false;
        }
        return true;
      },
      30000));
  for (int i = 0; i < kMembers; ++i) ASSERT_TRUE(net->StartInterpreter(i, {"--saturate"}));

  double start[kMembers];
  for (int i = 1; i < kMembers; ++i) start[i] = std::max(0.0, Commits(net.get(), i));
  const std::string certificates = "metronome_bft_certificates_issued_total";
  const double certified = std::max(0.0, net->Metric(1, certificates));
  ASSERT_TRUE(PollUntil(
      [&] {
        for (int i = 1; i < kMembers; ++i) {
          if (Commits(net.get(), i) < start[i] + 100) return false;
        }
        return net->Metric(1, certificates) >= certified + 5;
      },
      120000))
      << "honest members stopped certifying; member 1:\n"
      << net->BftStderr(1);

  for (int i = 1; i < kMembers; ++i) {
    EXPECT_TRUE(net->BftRunning(i)) << "member " << i << " died:\n" << net->BftStderr(i);
    EXPECT_EQ(net->BftStderr(i).find("assertion failed"), std::string::npos) << "member " << i;
    EXPECT_EQ(net->BftStderr(i).find("metronome-bft started"),
              net->BftStderr(i).rfind("metronome-bft started"))
        << "member " << i << " restarted";
    EXPECT_EQ(net->Metric(i, "metronome_bft_fast_forwards_total"), 0) << "member " << i;
    const std::string metrics = net->Metrics(i);
    // The phase attack arrived and was refused where the bytes are decoded.
    EXPECT_TRUE(
        MetricHasSample(metrics, "metronome_bft_rejections_total", "reason=\"malformed_vote\""))
        << "member " << i;
  }
  for (int i = 0; i < kMembers; ++i) EXPECT_EQ(net->TerminateInterpreter(i), 0);
}

}  // namespace
}  // namespace metronome::bft::testing
