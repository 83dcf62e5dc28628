// Benchmark: memory of an honest bft while one peer floods it. Members 1..3 are real
// metronome-bft processes with test interpreters; member 0's identity is taken by this
// process, which dials them with the product's FederationTransport (member 0's key, so
// its messages pass the handshake) and sends member 1, as fast as the link takes them,
// validly signed proposals for the views member 0 leads just ahead of member 1's view,
// each carrying a body of --message-mib MiB. Reports member 1's resident memory before
// the flood, its peak during the flood (sampled, and VmHWM), the bytes offered, the
// inbound budget's drops for member 0, and whether the three honest members kept
// committing (q = 3 of 4).
//
//   bft_flood [--json PATH] [--duration-s 30] [--message-mib 3]
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/assert.h"
#include "common/consensus_statements.h"
#include "common/domain_tags.h"
#include "common/federation_file.h"
#include "common/key_file.h"
#include "common/ledger.h"
#include "common/metrics.h"
#include "services/bft/core/certificate_checker.h"
#include "services/bft/shell/federation_transport.h"
#include "services/bft/shell/wire.h"
#include "tests/integration/bft/bft_harness.h"
#include "tools/bench/bench_report.h"

namespace metronome::bench {
namespace {

using bft::testing::BftTestnet;
using bft::testing::MetricValue;
using Clock = std::chrono::steady_clock;

constexpr int kMembers = 4;
constexpr uint32_t kFlooder = 0;
constexpr uint32_t kVictim = 1;

// A field of /proc/PID/status in KiB (VmRSS, VmHWM); 0 when unreadable.
uint64_t StatusKib(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0)
      return std::strtoull(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return 0;
}

// metronome_bft_inbound_dropped_total{peer="0",reason=...}: the flooder's messages the
// victim's inbound budget dropped.
double InboundDropped(const std::string& metrics, const std::string& reason) {
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("metronome_bft_inbound_dropped_total{", 0) == 0 &&
        line.find("peer=\"0\"") != std::string::npos &&
        line.find("reason=\"" + reason + "\"") != std::string::npos) {
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return 0;
}

// A proposal by member 0 for `view` whose body holds `bytes` bytes of proposer blocks.
v1::ConsensusMessage FloodProposal(const Federation& federation, const SigningKey& key,
                                   uint64_t view, size_t bytes) {
  bft::Proposal proposal;
  for (size_t left = bytes; left > 0;) {  // Proposer blocks of at most 1 MiB each.
    const size_t size = std::min(left, kProposerBlockBytesMax);
    proposal.body.transactions.push_back(
        Transaction{ProposerBlock{Bytes(size, static_cast<uint8_t>(view + left))}});
    left -= size;
  }
  proposal.justify_qc = bft::GenesisQc(bft::GenesisBlock(LedgerHash(Ledger{})).hash());
  proposal.statement.protocol_id = federation.protocol_id();
  proposal.statement.view = view;
  Header& header = proposal.statement.header;
  header.parent_hash = proposal.justify_qc.block_hash;
  header.height = 1;
  header.view = view;
  header.post_state_hash.fill(static_cast<uint8_t>(view));
  header.content_root = ContentRoot(proposal.body);
  proposal.signed_by = {kFlooder, SignTagged(key, kTagProposal, federation.id(),
                                             EncodeProposalStatement(proposal.statement))};
  return bft::ToProto(bft::Message{proposal});
}

struct Flood {
  uint64_t messages = 0;
  uint64_t bytes = 0;
};

// Sends until `end`: each round, fresh proposals for the next views member 0 leads above
// the victim's view, each queued several times (the transport drops the oldest beyond
// its queue, so the link is never idle).
Flood RunFlood(BftTestnet& net, const Federation& federation, const SigningKey& key,
               size_t message_bytes, Clock::time_point end) {
  prometheus::Registry registry;
  bft::TransportOptions options;
  for (int i = 0; i < kMembers; ++i) options.peer_addresses.push_back(net.address(i, "federation"));
  options.peer_queue_max = 8;
  bft::FederationTransport transport(options, federation, kFlooder, key, &registry);
  transport.SetHandlers([](uint32_t, v1::ConsensusMessage) {}, [](uint32_t) {});
  transport.Start();
  Flood flood;
  while (Clock::now() < end) {
    const uint64_t view =
        static_cast<uint64_t>(std::max(0.0, net.Metric(kVictim, "metronome_bft_view")));
    for (uint64_t k = 1; k <= 4; ++k) {
      const uint64_t ahead = (view / kMembers + k) * kMembers;  // Views member 0 leads.
      const v1::ConsensusMessage message = FloodProposal(federation, key, ahead, message_bytes);
      for (int copy = 0; copy < 4; ++copy) {
        transport.Send(kVictim, message, "proposal");
        ++flood.messages;
        flood.bytes += message.ByteSizeLong();
      }
    }
  }
  transport.Stop();
  return flood;
}

nlohmann::json Measure(int duration_s, size_t message_bytes, const std::string& root) {
  std::unique_ptr<BftTestnet> net = BftTestnet::Create(root + "/flood", kMembers);
  METRONOME_ASSERT(net != nullptr);
  for (int i = 1; i < kMembers; ++i) METRONOME_ASSERT(net->StartBft(i));
  METRONOME_ASSERT(bft::testing::PollUntil(
      [&] {
        for (int i = 1; i < kMembers; ++i) {
          if (net->Metric(i, "metronome_bft_peers_connected") < kMembers - 2) return false;
        }
        return true;
      },
      60000, 200));
  for (int i = 1; i < kMembers; ++i) METRONOME_ASSERT(net->StartInterpreter(i, {"--saturate"}));
  METRONOME_ASSERT(bft::testing::PollUntil(
      [&] { return net->Metric(kVictim, "metronome_bft_commits_total") >= 20; }, 120000, 500));
  const pid_t victim = net->BftPid(kVictim);
  const uint64_t rss_before = StatusKib(victim, "VmRSS");
  const double commits_before = net->Metric(kVictim, "metronome_bft_commits_total");
  std::ifstream federation_file(net->federation_file());
  std::stringstream text;
  text << federation_file.rdbuf();
  absl::StatusOr<Federation> federation = ParseFederationToml(text.str());
  absl::StatusOr<SigningKey> key = ReadKeyFile(net->member_dir(0) + "/bft.key");
  METRONOME_ASSERT(federation.ok() && key.ok());

  uint64_t rss_peak = rss_before;
  const auto end = Clock::now() + std::chrono::seconds(duration_s);
  std::thread sampler([&] {
    while (Clock::now() < end) {
      rss_peak = std::max(rss_peak, StatusKib(victim, "VmRSS"));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // A sampling period.
    }
  });
  const Flood flood = RunFlood(*net, *federation, *key, message_bytes, end);
  sampler.join();
  const std::string metrics = net->Metrics(kVictim);
  const double dropped = InboundDropped(metrics, "bytes") + InboundDropped(metrics, "messages");
  return {
      {"message_mib", static_cast<double>(message_bytes) / (1 << 20)},
      {"seconds", duration_s},
      {"offered_mib", flood.bytes >> 20},
      {"rss_before_mib", rss_before / 1024},
      {"rss_peak_mib", rss_peak / 1024},
      {"hwm_mib", StatusKib(victim, "VmHWM") / 1024},
      {"rss_after_mib", StatusKib(victim, "VmRSS") / 1024},
      {"dropped_messages", dropped},
      {"commits_during",
       MetricValue(metrics, "metronome_bft_commits_total").value_or(0) - commits_before},
      {"victim_alive", net->BftRunning(kVictim)},
  };
}

}  // namespace
}  // namespace metronome::bench

int main(int argc, char** argv) {
  using namespace metronome;
  bench::BenchFlags flags = bench::ParseBenchFlags(argc, argv);
  if (flags.version) {
    std::cout << "bft_flood " << MetronomeVersion() << "\n";
    return 0;
  }
  int duration_s = 30;
  double message_mib = 3;
  for (int i = 1; i + 1 < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--duration-s") duration_s = std::atoi(argv[i + 1]);
    if (flag == "--message-mib") message_mib = std::atof(argv[i + 1]);
  }
  if (duration_s <= 0 || message_mib <= 0 || message_mib > 3.9) {
    std::cerr << "error: --duration-s must be > 0 and --message-mib in (0, 3.9]\n";
    return 2;
  }
  if (!flags.json_path.empty()) {
    flags.json_path = std::filesystem::absolute(flags.json_path).string();
  }
  const std::string root = bench::EnterRunfiles("flood");
  if (root.empty()) return 2;
  nlohmann::json rows = nlohmann::json::array();
  rows.push_back(bench::Measure(duration_s, static_cast<size_t>(message_mib * (1 << 20)), root));
  bench::Report("bft_flood",
                {"message_mib", "seconds", "offered_mib", "rss_before_mib", "rss_peak_mib",
                 "hwm_mib", "rss_after_mib", "dropped_messages", "commits_during", "victim_alive"},
                rows, flags);
  std::filesystem::remove_all(root);
  return 0;
}
