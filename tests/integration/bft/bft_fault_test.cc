// Real metronome-bft members under crashes and a partition:
// - kill -9 a non-leader, then the current leader, then a leader right after it sent a
//   proposal: the others keep committing; each restarts from its database, catches up
//   and commits again;
// - a member cut off for 30 s by stalling every byte to and from it, then healed,
//   catches up;
// and through it all no member signs two different artefacts for one view and phase,
// checked from the own-signature logs each member serves on its ConsensusStream.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "common/canonical.h"
#include "common/federation_file.h"
#include "common/quorum_certificate.h"
#include "tests/integration/bft/bft_harness.h"
#include "tests/support/tcp_proxy.h"

namespace metronome::bft::testing {
namespace {

constexpr int kMembers = 4;
constexpr int kCommitTimeoutMs = 120000;

// The highest committed height member i logged (across restarts).
uint64_t CommittedHeight(BftTestnet* net, int i) {
  uint64_t height = 0;
  for (const CommittedLine& line : net->CommittedLines(i)) height = std::max(height, line.height);
  return height;
}

// Waits until every member in `members` has logged a commit at `height` or above.
bool AllCommitBeyond(BftTestnet* net, const std::vector<int>& members, uint64_t height,
                     int timeout_ms = kCommitTimeoutMs) {
  return PollUntil(
      [&] {
        for (int i : members) {
          if (CommittedHeight(net, i) < height) return false;
        }
        return true;
      },
      timeout_ms, 300);
}

std::vector<int> AllBut(int excluded) {
  std::vector<int> members;
  for (int i = 0; i < kMembers; ++i) {
    if (i != excluded) members.push_back(i);
  }
  return members;
}

uint64_t HighestCommitted(BftTestnet* net, const std::vector<int>& members) {
  uint64_t height = 0;
  for (int i : members) height = std::max(height, CommittedHeight(net, i));
  return height;
}

// Every own artefact member i ever signed, by (kind, view, phase): more than one
// distinct payload under one key is a double signature.
void ExpectNoDoubleSigning(BftTestnet* net, int i) {
  // The history replays the durable own-signature log in full before any other record
  // (StreamPublisher::Subscribe), and received artefacts keep arriving while the
  // federation runs: the first record not signed by member i ends its own log.
  auto past_own_log = [](const std::vector<v1::StreamRecord>& so_far) {
    return !so_far.empty() && so_far.back().source() != v1::StreamRecord::SOURCE_OWN;
  };
  const std::vector<v1::StreamRecord> records =
      net->Subscribe(i, 0, /*include_history=*/true, SIZE_MAX, 30000, past_own_log);
  ASSERT_TRUE(past_own_log(records)) << "member " << i << ": the stream ended after "
                                     << records.size() << " records, within its own log";
  std::map<std::tuple<int, uint64_t, int>, std::set<std::string>> signed_by_slot;
  size_t own = 0;
  for (const v1::StreamRecord& record : records) {
    if (record.source() != v1::StreamRecord::SOURCE_OWN || !record.has_artefact()) continue;
    ++own;
    const std::string& payload = record.artefact().payload();
    ASSERT_FALSE(payload.empty());
    const int kind = static_cast<uint8_t>(payload[0]);
    int phase = 0;
    uint64_t view = record.view();
    if (kind == static_cast<int>(ArtefactKind::kVote)) {
      const Bytes bytes(payload.begin(), payload.end());
      Reader reader(bytes);
      const VoteStatement vote = DecodeVoteStatement(&reader);
      ASSERT_TRUE(reader.ok()) << reader.error();
      phase = static_cast<int>(vote.phase);
      view = vote.view;
    }
    signed_by_slot[{kind, view, phase}].insert(payload);
  }
  EXPECT_GT(own, 0u) << "member " << i << " served no own-signature log";
  for (const auto& [slot, payloads] : signed_by_slot) {
    EXPECT_EQ(payloads.size(), 1u)
        << "member " << i << " signed " << payloads.size() << " different artefacts of kind "
        << std::get<0>(slot) << " in view " << std::get<1>(slot) << " phase " << std::get<2>(slot);
  }
}

class BftFaultTest : public ::testing::Test {
 protected:
  void StartNet(const std::string& name) {
    net_ = BftTestnet::Create(TestDirectory(name), kMembers);
    ASSERT_NE(net_, nullptr);
    absl::StatusOr<Federation> federation = ReadFederationFile(net_->federation_file());
    ASSERT_TRUE(federation.ok()) << federation.status();
    federation_ = std::make_unique<Federation>(*federation);
  }

  // The leader of the view member `observer` is in.
  int CurrentLeader(int observer) {
    const double view = net_->Metric(observer, "metronome_bft_view");
    return static_cast<int>(federation_->LeaderOf(static_cast<uint64_t>(view)));
  }

  std::unique_ptr<BftTestnet> net_;
  std::unique_ptr<Federation> federation_;
};

TEST_F(BftFaultTest, KilledMembersAndLeadersRestartFromDiskCatchUpAndNeverSignTwice) {
  StartNet("kill");
  ASSERT_TRUE(net_->StartAllBfts());
  for (int i = 0; i < kMembers; ++i) ASSERT_TRUE(net_->StartInterpreter(i));
  ASSERT_TRUE(AllCommitBeyond(net_.get(), AllBut(-1), 5));

  // 1. A non-leader.
  int victim = (CurrentLeader(0) + 1) % kMembers;
  EXPECT_EQ(net_->KillBft(victim), -SIGKILL);
  uint64_t height = HighestCommitted(net_.get(), AllBut(victim));
  EXPECT_TRUE(AllCommitBeyond(net_.get(), AllBut(victim), height + 5))
      << "the others stopped committing without member " << victim;
  ASSERT_TRUE(net_->StartBft(victim, {}, kMembers - 1));
  height = HighestCommitted(net_.get(), AllBut(victim));
  EXPECT_TRUE(AllCommitBeyond(net_.get(), AllBut(-1), height + 3))
      << "member " << victim << " did not catch up after its restart";

  // 2. The current leader.
  victim = CurrentLeader((victim + 1) % kMembers);
  EXPECT_EQ(net_->KillBft(victim), -SIGKILL);
  height = HighestCommitted(net_.get(), AllBut(victim));
  EXPECT_TRUE(AllCommitBeyond(net_.get(), AllBut(victim), height + 5))
      << "the others stopped committing without leader " << victim;
  ASSERT_TRUE(net_->StartBft(victim, {}, kMembers - 1));
  height = HighestCommitted(net_.get(), AllBut(victim));
  EXPECT_TRUE(AllCommitBeyond(net_.get(), AllBut(-1), height + 3))
      << "leader " << victim << " did not catch up after its restart";

  // 3. A leader right after it sent a proposal: watch its proposals counter and kill it
  // the moment it moves.
  int leader = -1;
  double proposals = -1;
  ASSERT_TRUE(PollUntil(
      [&] {
        const int now_leader = CurrentLeader(0);
        const std::string metrics = net_->Metrics(now_leader);
        const std::optional<double> sent =
            MetricValue(metrics, "metronome_bft_messages_sent_total{type=\"proposal\"}");
        if (now_leader == leader && sent && proposals >= 0 && *sent > proposals) return true;
        leader = now_leader;
        proposals = sent.value_or(0);
        return false;
      },
      60000, 5));
  EXPECT_EQ(net_->KillBft(leader), -SIGKILL);
  height = HighestCommitted(net_.get(), AllBut(leader));
  EXPECT_TRUE(AllCommitBeyond(net_.get(), AllBut(leader), height + 5))
      << "the others stopped committing after leader " << leader << " died mid-view";
  ASSERT_TRUE(net_->StartBft(leader, {}, kMembers - 1));
  height = HighestCommitted(net_.get(), AllBut(leader));
  EXPECT_TRUE(AllCommitBeyond(net_.get(), AllBut(-1), height + 3))
      << "leader " << leader << " did not catch up after its restart";

  for (int i = 0; i < kMembers; ++i) ExpectNoDoubleSigning(net_.get(), i);
  // The same chain everywhere: every height any two members committed has one hash.
  std::map<uint64_t, std::string> hashes;
  for (int i = 0; i < kMembers; ++i) {
    for (const CommittedLine& line : net_->CommittedLines(i)) {
      auto [it, inserted] = hashes.emplace(line.height, line.hash);
      EXPECT_EQ(it->second, line.hash) << "member " << i << " height " << line.height;
    }
  }
}

// Rewrites member i's peer list so that it reaches member j through `ports[j]`.
void RewritePeers(const std::string& config_path, const std::vector<int>& ports) {
  std::ifstream in(config_path);
  std::stringstream text;
  text << in.rdbuf();
  std::string config = text.str();
  const size_t begin = config.find("peers = [");
  const size_t end = config.find("]", begin);
  ASSERT_NE(begin, std::string::npos);
  std::string peers = "peers = [\n";
  for (int port : ports) peers += "  \"127.0.0.1:" + std::to_string(port) + "\",\n";
  config.replace(begin, end - begin, peers);
  std::ofstream(config_path, std::ios::trunc) << config;
}

TEST_F(BftFaultTest, AMemberCutOffForThirtySecondsCatchesUpWhenHealed) {
  StartNet("partition");
  // proxies[i][j]: the only way from member i to member j.
  std::vector<std::vector<std::unique_ptr<metronome::testing::TcpProxy>>> proxies(kMembers);
  for (int i = 0; i < kMembers; ++i) {
    std::vector<int> ports;
    for (int j = 0; j < kMembers; ++j) {
      proxies[i].push_back(
          std::make_unique<metronome::testing::TcpProxy>(0, net_->port(j, "federation")));
      ports.push_back(proxies[i][j]->port());
    }
    RewritePeers(net_->bft_config(i), ports);
  }
  ASSERT_TRUE(net_->StartAllBfts());
  for (int i = 0; i < kMembers; ++i) ASSERT_TRUE(net_->StartInterpreter(i));
  ASSERT_TRUE(AllCommitBeyond(net_.get(), AllBut(-1), 5));

  const int cut = 3;
  auto partition = [&](bool on) {
    for (int j = 0; j < kMembers; ++j) {
      proxies[cut][j]->SetPartitioned(on);
      proxies[j][cut]->SetPartitioned(on);
    }
  };
  partition(true);
  const auto cut_at = std::chrono::steady_clock::now();
  const uint64_t cut_height = CommittedHeight(net_.get(), cut);
  const uint64_t others_height = HighestCommitted(net_.get(), AllBut(cut));
  // The others go on for the whole 30 s; the partition's length is part of the scenario.
  EXPECT_TRUE(PollUntil(
      [&] {
        return std::chrono::steady_clock::now() - cut_at >= std::chrono::seconds(30) &&
               HighestCommitted(net_.get(), AllBut(cut)) >= others_height + 10;
      },
      kCommitTimeoutMs, 500))
      << "the three connected members stopped committing";
  // Nothing reached the cut member: at most the decision in flight when it was cut.
  EXPECT_LE(CommittedHeight(net_.get(), cut), cut_height + 1);
  EXPECT_EQ(net_->Metric(cut, "metronome_bft_peers_connected"), 0)
      << "silent peers must be noticed and dropped";

  partition(false);
  const uint64_t healed_height = HighestCommitted(net_.get(), AllBut(cut));
  EXPECT_TRUE(AllCommitBeyond(net_.get(), {cut}, healed_height + 2))
      << "the healed member did not catch up";
  EXPECT_TRUE(PollUntil([&] { return net_->Metric(cut, "metronome_bft_peers_connected") == 3; },
                        30000, 300));
  for (int i = 0; i < kMembers; ++i) ExpectNoDoubleSigning(net_.get(), i);
}

}  // namespace
}  // namespace metronome::bft::testing
