// A running metronome-bft exports every metric operators rely on (DESIGN §7), with
// samples, on its metrics listener; its peers count reaches n - 1.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "tests/integration/bft/bft_harness.h"

namespace metronome::bft::testing {
namespace {

constexpr int kMembers = 4;

TEST(BftMetricsTest, EveryMetricHasSamplesAndPeersConnectedReachesThree) {
  std::unique_ptr<BftTestnet> net = BftTestnet::Create(TestDirectory("metrics"), kMembers);
  ASSERT_NE(net, nullptr);
  ASSERT_TRUE(net->StartAllBfts());
  // Member 0's interpreter also sends one answer to a request never made, so the
  // labelled rejections family gets a sample.
  ASSERT_TRUE(net->StartInterpreter(0, {"--stale-ack-on-attach"}));
  for (int i = 1; i < kMembers; ++i) ASSERT_TRUE(net->StartInterpreter(i));
  // An interpreter with another member's interpreter key: member 0 refuses it.
  ChildProcess impostor;
  ASSERT_TRUE(
      impostor.Spawn({kTestInterpreterBinary, "--bft", net->address(0, "interpreter"), "--key",
                      net->interpreter_key(1), "--federation", net->federation_file()},
                     net->directory() + "/impostor.stdout", net->directory() + "/impostor.stderr"));

  // Enough activity for every histogram: decisions, interpreter round trips (bodies
  // and validations come with certificates), durable writes.
  std::string text;
  ASSERT_TRUE(PollUntil(
      [&] {
        text = net->Metrics(0);
        return MetricValue(text, "metronome_bft_certificates_issued_total").value_or(0) >= 1 &&
               MetricValue(text, "metronome_bft_commits_total").value_or(0) >= 5 &&
               MetricHasSample(text, "metronome_bft_interpreter_stream_failures_total",
                               "reason=\"handshake_refused\"") &&
               MetricHasSample(text, "metronome_bft_rejections_total",
                               "reason=\"interpreter_stale_answer\"");
      },
      120000, 500))
      << text;

  const std::vector<std::string> names = {
      "metronome_bft_view",
      "metronome_bft_phase",
      "metronome_bft_commits_total",
      "metronome_bft_commit_latency_seconds_count",
      "metronome_bft_timeouts_total",
      "metronome_bft_view_changes_total",
      "metronome_bft_peers_connected",
      "metronome_bft_messages_received_total",
      "metronome_bft_messages_sent_total",
      "metronome_bft_rejections_total",
      "metronome_bft_interpreter_stream_failures_total",
      "metronome_bft_interpreter_round_trip_seconds_count",
      "metronome_bft_storage_write_seconds_count",
      "metronome_build_info",
  };
  for (const std::string& name : names) {
    EXPECT_TRUE(MetricHasSample(text, name)) << name << " has no sample";
  }
  EXPECT_TRUE(MetricHasSample(text, "metronome_build_info", "service=\"bft\"")) << text;
  EXPECT_GT(MetricValue(text, "metronome_bft_commit_latency_seconds_count").value_or(0), 0);
  EXPECT_GT(MetricValue(text, "metronome_bft_interpreter_round_trip_seconds_count").value_or(0), 0);
  EXPECT_GT(MetricValue(text, "metronome_bft_storage_write_seconds_count").value_or(0), 0);
  EXPECT_GT(MetricValue(text, "metronome_bft_view").value_or(0), 0);
  for (int i = 0; i < kMembers; ++i) {
    EXPECT_EQ(net->Metric(i, "metronome_bft_peers_connected"), kMembers - 1) << "member " << i;
  }
  EXPECT_EQ(impostor.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace metronome::bft::testing
