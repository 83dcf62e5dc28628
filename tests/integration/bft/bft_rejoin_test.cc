// Real processes (issue "One Byzantine member cannot crash, stall or strand anyone"):
//  - a member stopped for longer than the others' retention (committed_history = 16,
//    down for five times that; short timeouts, so views led by the stopped member pass
//    quickly) restarts, fast-forwards with the ledger that travels
//    with the decision, and votes again within 30 s; the certificates it issues after
//    that have the same identity and header count as the others';
//  - a member restarted with a wiped database signs nothing until a QC above the views
//    its peers prove (DESIGN §3), then rejoins; its old and new own-signature logs and
//    the peers' received records show no slot signed twice.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "common/checkpoint_certificate.h"
#include "common/consensus_statements.h"
#include "tests/integration/bft/bft_harness.h"

namespace metronome::bft::testing {
namespace {

constexpr int kMembers = 4;
constexpr int kAway = 3;
constexpr char kVotesSent[] = "metronome_bft_messages_sent_total{type=\"vote\"}";

double Commits(BftTestnet* net, int i) { return net->Metric(i, "metronome_bft_commits_total"); }

bool CommitsMore(BftTestnet* net, int i, double more, int timeout_ms = 120000) {
  const double start = std::max(0.0, Commits(net, i));
  return PollUntil([&] { return Commits(net, i) >= start + more; }, timeout_ms, 200);
}

// Starts every member with `overrides`, then waits until all are connected.
bool StartAll(BftTestnet* net, const std::vector<std::string>& overrides) {
  for (int i = 0; i < kMembers; ++i) {
    if (!net->StartBft(i, overrides)) return false;
  }
  return PollUntil(
      [&] {
        for (int i = 0; i < kMembers; ++i) {
          if (net->Metric(i, "metronome_bft_peers_connected") < kMembers - 1) return false;
        }
        return true;
      },
      30000);
}

size_t HeaderCount(const v1::CheckpointReply& reply) {
  const std::string& encoded = reply.certificate().encoded();
  const Bytes bytes(encoded.begin(), encoded.end());
  Reader reader(bytes);
  const CheckpointCertificate certificate = DecodeCheckpointCertificate(&reader);
  EXPECT_TRUE(reader.ok()) << reader.error();
  return certificate.headers.size();
}

// (kind, view, phase) of a signed statement.
std::tuple<int, uint64_t, int> SlotOf(const v1::StreamRecord& record) {
  const std::string& payload = record.artefact().payload();
  const int kind = static_cast<uint8_t>(payload[0]);
  if (kind != static_cast<int>(ArtefactKind::kVote)) return {kind, record.view(), 0};
  const Bytes bytes(payload.begin(), payload.end());
  Reader reader(bytes);
  const VoteStatement vote = DecodeVoteStatement(&reader);
  return {kind, vote.view, static_cast<int>(vote.phase)};
}

// Member i's own-signature log, replayed in full before any other record.
std::vector<v1::StreamRecord> OwnLog(BftTestnet* net, int i) {
  auto past_own_log = [](const std::vector<v1::StreamRecord>& so_far) {
    return !so_far.empty() && so_far.back().source() != v1::StreamRecord::SOURCE_OWN;
  };
  std::vector<v1::StreamRecord> records =
      net->Subscribe(i, 0, /*include_history=*/true, SIZE_MAX, 30000, past_own_log);
  std::vector<v1::StreamRecord> own;
  for (v1::StreamRecord& record : records) {
    if (record.source() == v1::StreamRecord::SOURCE_OWN && record.has_artefact()) {
      own.push_back(std::move(record));
    }
  }
  return own;
}

TEST(BftRejoinTest, MemberDownLongerThanRetentionCatchesUpAndVotesAgain) {
  std::unique_ptr<BftTestnet> net = BftTestnet::Create(TestDirectory("rejoin"), kMembers);
  ASSERT_NE(net, nullptr);
  const std::vector<std::string> overrides = {
      "consensus.committed_history=16", "consensus.idle_interval_ms=100",
      "consensus.timeout_ms_base=200", "consensus.timeout_ms_max=800"};
  ASSERT_TRUE(StartAll(net.get(), overrides));
  for (int i = 0; i < kMembers; ++i) ASSERT_TRUE(net->StartInterpreter(i, {"--saturate"}));
  ASSERT_TRUE(CommitsMore(net.get(), kAway, 20));

  ASSERT_EQ(net->TerminateBft(kAway), 0);
  ASSERT_TRUE(CommitsMore(net.get(), 0, 5 * 16)) << "the others did not go on";

  ASSERT_TRUE(net->StartBft(kAway, overrides, kMembers - 1));
  const double votes_before = std::max(0.0, net->Metric(kAway, kVotesSent));
  EXPECT_TRUE(PollUntil(
      [&] {
        return net->Metric(kAway, "metronome_bft_fast_forwards_total") >= 1 &&
               net->Metric(kAway, kVotesSent) > votes_before + 10;
      },
      30000))
      << "no fast-forward and votes within 30 s of the restart:\n"
      << net->BftStderr(kAway);
  ASSERT_TRUE(CommitsMore(net.get(), kAway, 20, 30000));
  const double rejoined_height = net->Metric(kAway, "metronome_bft_committed_height");
  ASSERT_TRUE(CommitsMore(net.get(), kAway, 20));
  for (int i = 0; i < kMembers; ++i) EXPECT_EQ(net->TerminateInterpreter(i), 0);

  // Certificates decided after the rejoin: the same identity and header count as a
  // member that never left (blocks travel with the Commit QCs that decided them).
  const std::map<uint64_t, v1::CheckpointReply> reference = net->Certificates(0);
  size_t compared = 0;
  for (const auto& [height, reply] : net->Certificates(kAway)) {
    auto other = reference.find(height);
    ASSERT_NE(other, reference.end()) << "pow height " << height << " only at the rejoined member";
    EXPECT_EQ(reply.certificate().identity().SerializeAsString(),
              other->second.certificate().identity().SerializeAsString());
    EXPECT_EQ(HeaderCount(reply), HeaderCount(other->second)) << "pow height " << height;
    EXPECT_LE(HeaderCount(reply), 16u);
    ++compared;
  }
  EXPECT_GE(compared, 5u) << "rejoined at height " << rejoined_height;
  for (int i = 0; i < kMembers; ++i) EXPECT_TRUE(net->BftRunning(i)) << "member " << i;
}

TEST(BftRejoinTest, WipedMemberSignsNothingUntilTheRuleHoldsThenRejoins) {
  std::unique_ptr<BftTestnet> net = BftTestnet::Create(TestDirectory("wiped"), kMembers);
  ASSERT_NE(net, nullptr);
  ASSERT_TRUE(net->StartAllBfts());
  for (int i = 0; i < kMembers; ++i) ASSERT_TRUE(net->StartInterpreter(i, {"--saturate"}));
  ASSERT_TRUE(CommitsMore(net.get(), kAway, 30));

  const std::vector<v1::StreamRecord> old_log = OwnLog(net.get(), kAway);
  ASSERT_FALSE(old_log.empty());
  ASSERT_EQ(net->KillBft(kAway), -SIGKILL);
  std::filesystem::rename(net->data_dir(kAway), net->data_dir(kAway) + ".wiped");
  const size_t log_offset = net->BftStderr(kAway).size();

  ASSERT_TRUE(net->StartBft(kAway, {}, kMembers - 1));
  const std::string released = "signing: the federation has moved past";
  ASSERT_TRUE(PollUntil(
      [&] { return net->BftStderr(kAway).find(released, log_offset) != std::string::npos; }, 30000))
      << net->BftStderr(kAway).substr(log_offset);
  const std::string log = net->BftStderr(kAway).substr(log_offset);
  const std::string waiting = "signing nothing until a QC above view ";
  const size_t at = log.find(waiting);
  ASSERT_NE(at, std::string::npos) << log;
  const uint64_t threshold = std::stoull(log.substr(at + waiting.size()));
  ASSERT_GT(threshold, 0u);
  ASSERT_TRUE(CommitsMore(net.get(), kAway, 20, 30000));
  const double votes = net->Metric(kAway, kVotesSent);
  ASSERT_TRUE(PollUntil([&] { return net->Metric(kAway, kVotesSent) > votes + 5; }, 30000));

  // Everything the new database logged lies above the threshold.
  const std::vector<v1::StreamRecord> new_log = OwnLog(net.get(), kAway);
  ASSERT_FALSE(new_log.empty());
  for (const v1::StreamRecord& record : new_log) EXPECT_GT(record.view(), threshold);

  // Old log, new log and every peer's received records of this key: one payload a slot.
  std::map<std::tuple<int, uint64_t, int>, std::set<std::string>> by_slot;
  for (const auto* log_records : {&old_log, &new_log}) {
    for (const v1::StreamRecord& record : *log_records) {
      by_slot[SlotOf(record)].insert(record.artefact().payload());
    }
  }
  size_t received = 0;
  for (int peer = 0; peer < kMembers; ++peer) {
    if (peer == kAway) continue;
    for (const v1::StreamRecord& record :
         net->Subscribe(peer, 0, /*include_history=*/true, SIZE_MAX, 5000)) {
      if (!record.has_artefact() || record.artefact().signer_index() != kAway ||
          record.source() != v1::StreamRecord::SOURCE_RECEIVED) {
        continue;
      }
      by_slot[SlotOf(record)].insert(record.artefact().payload());
      ++received;
    }
  }
  EXPECT_GT(received, 0u);
  for (const auto& [slot, payloads] : by_slot) {
    EXPECT_EQ(payloads.size(), 1u)
        << "kind " << std::get<0>(slot) << " view " << std::get<1>(slot) << " phase "
        << std::get<2>(slot) << " signed " << payloads.size() << " times";
  }
  for (int i = 0; i < kMembers; ++i) EXPECT_EQ(net->TerminateInterpreter(i), 0);
}

}  // namespace
}  // namespace metronome::bft::testing
