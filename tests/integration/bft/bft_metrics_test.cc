// A running metronome-bft exports every metric operators rely on (DESIGN §7), with
// samples, on its metrics listener; its peers count reaches n - 1.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
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
      "metronome_bft_certificates_refused_total",
      "metronome_bft_certificates_refused",
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

// How often member `i`'s interpreter emitted `kind` for each PoW height's certificate.
std::map<uint64_t, int> CertificateEvents(const BftTestnet& net, int i, const std::string& kind) {
  std::map<uint64_t, int> counts;
  std::istringstream lines(net.InterpreterEvents(i));
  for (std::string line; std::getline(lines, line);) {
    const nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
    if (event.is_object() && event.value("event", "") == kind) {
      ++counts[event.value("pow_height", uint64_t{0})];
    }
  }
  return counts;
}

std::map<uint64_t, int> Refusals(const BftTestnet& net, int i) {
  return CertificateEvents(net, i, "certificate_refused");
}

TEST(BftMetricsTest, ARefusedCertificateIsAlarmedAndNeverResentInALoop) {
  std::unique_ptr<BftTestnet> net = BftTestnet::Create(TestDirectory("refused"), kMembers);
  ASSERT_NE(net, nullptr);
  ASSERT_TRUE(net->StartAllBfts());
  ASSERT_TRUE(net->StartInterpreter(0, {"--refuse-certificates", "--saturate"}));
  for (int i = 1; i < kMembers; ++i) ASSERT_TRUE(net->StartInterpreter(i, {"--saturate"}));
  ASSERT_TRUE(PollUntil([&] { return !Refusals(*net, 0).empty(); }, 120000, 200));
  const auto first_refusal = std::chrono::steady_clock::now();
  // Five resend intervals (certificate_resend_ms, 2 s) pass: the bft offers each
  // certificate once and then waits for a new attachment.
  ASSERT_TRUE(PollUntil(
      [&] { return std::chrono::steady_clock::now() - first_refusal > std::chrono::seconds(10); },
      20000, 500));
  const std::map<uint64_t, int> refusals = Refusals(*net, 0);
  for (const auto& [pow_height, count] : refusals) {
    EXPECT_EQ(count, 1) << "certificate at PoW height " << pow_height << " offered " << count
                        << " times after its refusal";
  }
  const std::string text = net->Metrics(0);
  EXPECT_EQ(MetricValue(text, "metronome_bft_certificates_refused_total").value_or(0),
            static_cast<double>(refusals.size()));
  EXPECT_GE(MetricValue(text, "metronome_bft_certificates_refused").value_or(0), 1) << text;
  // A re-attached interpreter (fixed, say) is offered the refused certificates again.
  ASSERT_EQ(net->TerminateInterpreter(0), 0);
  ASSERT_TRUE(net->StartInterpreter(0, {"--saturate"}));
  ASSERT_TRUE(PollUntil(
      [&] {
        const std::map<uint64_t, int> applied = CertificateEvents(*net, 0, "certificate");
        for (const auto& [pow_height, count] : refusals) {
          if (applied.count(pow_height) == 0) return false;
        }
        return true;
      },
      30000, 200))
      << net->InterpreterEvents(0);
  EXPECT_EQ(net->Metric(0, "metronome_bft_certificates_refused"), 0);
}

}  // namespace
}  // namespace metronome::bft::testing
