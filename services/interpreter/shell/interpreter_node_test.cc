#include "services/interpreter/shell/interpreter_node.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>

#include "common/ledger.h"
#include "common/proto_bytes.h"
#include "common/server.h"
#include "common/test_support.h"
#include "services/interpreter/core/durable_state.h"
#include "services/interpreter/shell/chain_server.h"
#include "services/interpreter/shell/fake_adapter.h"
#include "tests/support/wait_for.h"

// The interpreter node in one process: a real Chain API server on loopback with an
// in-process adapter (FakeAdapter, real handshake and gRPC), and the bft side driven
// directly through the node's BftClient::Handler entry points, its answers recorded.
namespace metronome::interpreter {
namespace {

using metronome::testing::MakeCertificateSignedByQuorum;
using metronome::testing::MakeTestFederation;
using metronome::testing::TestFederation;
using metronome::testing::WaitFor;
using testing::FakeAdapter;

constexpr uint64_t kNowMs = 1'700'000'000'000;

class FakeStore : public TrackerStore {
 public:
  absl::Status Save(const TrackerState& state) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failing_) return absl::UnavailableError("disk full (test)");
    saved_ = state;
    return absl::OkStatus();
  }
  absl::Status SaveEvidence(const Bytes& evidence) override {
    std::lock_guard<std::mutex> lock(mutex_);
    evidence_ = evidence;
    return absl::OkStatus();
  }
  void SetFailing(bool failing) {
    std::lock_guard<std::mutex> lock(mutex_);
    failing_ = failing;
  }
  std::optional<TrackerState> saved() {
    std::lock_guard<std::mutex> lock(mutex_);
    return saved_;
  }
  Bytes evidence() {
    std::lock_guard<std::mutex> lock(mutex_);
    return evidence_;
  }

 private:
  std::mutex mutex_;
  bool failing_ = false;
  std::optional<TrackerState> saved_;
  Bytes evidence_;
};

// What the node sent to its bft, in order.
class BftRecorder {
 public:
  bool Send(v1::InterpreterToBft frame) {
    std::lock_guard<std::mutex> lock(mutex_);
    frames_.push_back(std::move(frame));
    return true;
  }
  std::vector<v1::InterpreterToBft> frames() {
    std::lock_guard<std::mutex> lock(mutex_);
    return frames_;
  }
  // Waits for the first frame satisfying `match`.
  std::optional<v1::InterpreterToBft> WaitFor(
      const std::function<bool(const v1::InterpreterToBft&)>& match, int timeout_ms = 10000) {
    std::optional<v1::InterpreterToBft> found;
    metronome::testing::WaitFor(
        [&] {
          for (const v1::InterpreterToBft& frame : frames()) {
            if (match(frame)) {
              found = frame;
              return true;
            }
          }
          return false;
        },
        timeout_ms);
    return found;
  }
  std::vector<CheckpointCandidate> candidates() {
    std::vector<CheckpointCandidate> out;
    for (const v1::InterpreterToBft& frame : frames()) {
      if (!frame.has_new_checkpoint_candidate()) continue;
      const Bytes bytes = BytesOf(frame.new_checkpoint_candidate().candidate());
      Reader reader(bytes);
      out.push_back(DecodeTransaction(&reader).candidate());
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<v1::InterpreterToBft> frames_;
};

Ledger LedgerAt(uint64_t height, const Bytes& hash) {
  Ledger ledger;
  ledger.last_checkpoint = Transaction{CheckpointCandidate{"devchain", height, hash, {}}};
  return ledger;
}

Body CandidateBody(uint64_t height, const Bytes& hash, const std::string& chain_id = "devchain") {
  return Body{{Transaction{CheckpointCandidate{chain_id, height, hash, {}}}}};
}

class InterpreterNodeTest : public ::testing::Test {
 protected:
  virtual InterpreterNodeOptions Options() {
    InterpreterNodeOptions options;
    options.rules.chain_id = "devchain";  // k 6, k_min 4, interval 5.
    options.query_wait_ms = 200;
    options.apply_resend_ms = 600000;  // Only after attaches, unless a test wants more.
    options.unix_ms = [this] { return now_ms_.load(); };
    return options;
  }
  virtual TrackerState Restored() { return TrackerState{}; }

  void SetUp() override {
    node_ = std::make_unique<InterpreterNode>(Options(), federation_.federation, Restored(),
                                              &store_, &registry_);
    ChainServerOptions chain_options;
    chain_options.adapter_key = adapter_key_.public_key();
    chain_options.handshake_timeout_ms = 2000;
    chain_server_ = std::make_unique<ChainServer>(chain_options, federation_.federation,
                                                  interpreter_key_, node_.get(), &registry_);
    node_->SetChainSender(
        [this](v1::InterpreterToAdapter frame) { return chain_server_->Send(std::move(frame)); });
    node_->SetBftSender([this](v1::InterpreterToBft frame) { return bft_.Send(std::move(frame)); });
    node_->SetFrozenListener([this](bool frozen) {
      std::lock_guard<std::mutex> lock(mutex_);
      frozen_reports_.push_back(frozen);
    });
    ServerSpec spec;
    spec.service_name = "interpreter";
    spec.listeners = {{"chain", "127.0.0.1:0"}};
    spec.services = {chain_server_->service()};
    absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServer(spec);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    address_ = "127.0.0.1:" + std::to_string(server_->ports().at("chain"));
    node_->Start();
    node_->OnAttached();  // The bft side is attached from the start.
  }

  void TearDown() override {
    adapter_.Disconnect();
    chain_server_->Stop();
    server_->Shutdown();
    node_->Stop();
  }

  // Connects the adapter with its best chain up to `tip` and waits until the node has
  // its tip.
  void ConnectAdapter(uint64_t tip) {
    adapter_.SetBestTip(tip);
    std::string failure;
    ASSERT_TRUE(adapter_.Connect(address_, &failure)) << failure;
    ASSERT_TRUE(WaitForTip(tip));
  }
  bool WaitForTip(uint64_t tip) {
    return WaitFor([&] {
      const InterpreterNode::Status status = node_->GetStatus();
      return status.adapter_stream != 0 && status.tip && status.tip->height() == tip;
    });
  }

  v1::CreateBlockBodyResponse Create(const Ledger& parent, uint32_t timeout_ms = 2000) {
    const uint64_t id = next_request_id_++;
    v1::BftToInterpreter frame;
    frame.mutable_create_block_body()->set_request_id(id);
    frame.mutable_create_block_body()->set_parent_ledger(StringOf(EncodeLedger(parent)));
    frame.mutable_create_block_body()->set_timeout_ms(timeout_ms);
    node_->OnFrame(frame);
    std::optional<v1::InterpreterToBft> answer = bft_.WaitFor([id](const auto& out) {
      return out.has_create_block_body() && out.create_block_body().request_id() == id;
    });
    EXPECT_TRUE(answer) << "no answer to create_block_body " << id;
    return answer ? answer->create_block_body() : v1::CreateBlockBodyResponse{};
  }

  v1::ValidateBlockBodyResponse ValidateEncoded(const std::string& body, const Ledger& parent,
                                                uint32_t timeout_ms = 2000) {
    const uint64_t id = next_request_id_++;
    v1::BftToInterpreter frame;
    frame.mutable_validate_block_body()->set_request_id(id);
    frame.mutable_validate_block_body()->set_body(body);
    frame.mutable_validate_block_body()->set_parent_ledger(StringOf(EncodeLedger(parent)));
    frame.mutable_validate_block_body()->set_timeout_ms(timeout_ms);
    node_->OnFrame(frame);
    std::optional<v1::InterpreterToBft> answer = bft_.WaitFor([id](const auto& out) {
      return out.has_validate_block_body() && out.validate_block_body().request_id() == id;
    });
    EXPECT_TRUE(answer) << "no answer to validate_block_body " << id;
    return answer ? answer->validate_block_body() : v1::ValidateBlockBodyResponse{};
  }
  v1::ValidateBlockBodyResponse Validate(const Body& body, const Ledger& parent,
                                         uint32_t timeout_ms = 2000) {
    return ValidateEncoded(StringOf(EncodeBody(body)), parent, timeout_ms);
  }

  Bytes CertificateFor(uint64_t height, const Bytes& hash,
                       const TestFederation* federation = nullptr) {
    return EncodeCheckpointCertificate(MakeCertificateSignedByQuorum(
        federation ? *federation : federation_, CheckpointCandidate{"devchain", height, hash, {}}));
  }

  v1::CertificateAck Deliver(const Bytes& certificate,
                             std::optional<v1::CheckpointIdentity> identity = std::nullopt) {
    const uint64_t id = next_request_id_++;
    v1::BftToInterpreter frame;
    v1::NewCheckpointCertificate* message = frame.mutable_new_checkpoint_certificate();
    message->set_request_id(id);
    message->mutable_certificate()->set_encoded(StringOf(certificate));
    if (identity) *message->mutable_certificate()->mutable_identity() = *identity;
    node_->OnFrame(frame);
    std::optional<v1::InterpreterToBft> answer = bft_.WaitFor([id](const auto& out) {
      return out.has_certificate_ack() && out.certificate_ack().request_id() == id;
    });
    EXPECT_TRUE(answer) << "no certificate_ack " << id;
    return answer ? answer->certificate_ack() : v1::CertificateAck{};
  }

  // How many apply_checkpoint frames for `height` the adapter has received.
  int AppliesFor(uint64_t height) {
    int count = 0;
    for (const v1::ApplyCheckpoint& apply : adapter_.apply_checkpoints()) {
      if (apply.certificate().identity().pow_height() == height) ++count;
    }
    return count;
  }

  std::vector<bool> frozen_reports() {
    std::lock_guard<std::mutex> lock(mutex_);
    return frozen_reports_;
  }

  TestFederation federation_ = MakeTestFederation(4);
  SigningKey interpreter_key_ = SigningKey::FromSeed(Seed{42});
  SigningKey adapter_key_ = SigningKey::FromSeed(Seed{43});
  std::atomic<uint64_t> now_ms_{kNowMs};
  prometheus::Registry registry_;
  FakeStore store_;
  BftRecorder bft_;
  std::unique_ptr<InterpreterNode> node_;
  std::unique_ptr<ChainServer> chain_server_;
  std::unique_ptr<RunningServer> server_;
  std::string address_;
  FakeAdapter adapter_{federation_.federation, adapter_key_};
  uint64_t next_request_id_ = 1000;
  std::mutex mutex_;
  std::vector<bool> frozen_reports_;
};

// ---- The Chain API server ------------------------------------------------------------------

TEST_F(InterpreterNodeTest, OnlyTheConfiguredAdapterKeyMayAttach) {
  FakeAdapter stranger(federation_.federation, SigningKey::FromSeed(Seed{44}));
  std::string failure;
  EXPECT_FALSE(stranger.Connect(address_, &failure));
  EXPECT_NE(failure.find("adapter key"), std::string::npos) << failure;
  EXPECT_EQ(node_->GetStatus().adapter_stream, 0u);
  ConnectAdapter(10);
}

TEST_F(InterpreterNodeTest, ANewerAdapterStreamReplacesTheOlder) {
  ConnectAdapter(10);
  const uint64_t first_stream = node_->GetStatus().adapter_stream;
  FakeAdapter newer(federation_.federation, adapter_key_);
  newer.SetBestTip(11);
  std::string failure;
  ASSERT_TRUE(newer.Connect(address_, &failure)) << failure;
  EXPECT_TRUE(WaitFor([&] { return !adapter_.connected(); })) << "the older stream is closed";
  ASSERT_TRUE(WaitForTip(11));
  EXPECT_NE(node_->GetStatus().adapter_stream, first_stream);
  newer.Disconnect();
  EXPECT_TRUE(WaitFor([&] { return node_->GetStatus().adapter_stream == 0; }));
}

// ---- Candidates ------------------------------------------------------------------------------

TEST_F(InterpreterNodeTest, ADueCandidateIsProposedToTheBftOncePerCandidate) {
  ConnectAdapter(20);  // Depth 6: height 14, due (≥ 5, no checkpoint yet).
  ASSERT_TRUE(bft_.WaitFor([](const auto& f) { return f.has_new_checkpoint_candidate(); }));
  adapter_.SendTip();  // The same tip again: the same candidate, not proposed again.
  adapter_.SetBestTip(21);
  adapter_.SendTip();
  ASSERT_TRUE(WaitFor([&] { return bft_.candidates().size() >= 2; }));
  const std::vector<CheckpointCandidate> candidates = bft_.candidates();
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_EQ(candidates[0], (CheckpointCandidate{"devchain", 14, FakeAdapter::BestHash(14), {}}));
  EXPECT_EQ(candidates[1], (CheckpointCandidate{"devchain", 15, FakeAdapter::BestHash(15), {}}));
}

TEST_F(InterpreterNodeTest, NothingIsProposedBeforeIntervalHeights) {
  ConnectAdapter(9);  // Height 3 at depth 6: not due before 5.
  for (uint64_t tip = 10; tip <= 11; ++tip) {
    adapter_.SetBestTip(tip);
    adapter_.SendTip();
  }
  ASSERT_TRUE(WaitFor([&] { return !bft_.candidates().empty(); }));
  const std::vector<CheckpointCandidate> candidates = bft_.candidates();
  ASSERT_EQ(candidates.size(), 1u) << "only tip 11 makes one due";
  EXPECT_EQ(candidates[0].pow_height, 5u);
}

TEST_F(InterpreterNodeTest, ANewBftStreamHearsOfTheDueCandidateAgain) {
  ConnectAdapter(20);
  ASSERT_TRUE(WaitFor([&] { return bft_.candidates().size() == 1; }));
  node_->OnDetached();
  node_->OnAttached();
  ASSERT_TRUE(WaitFor([&] { return bft_.candidates().size() == 2; }));
  EXPECT_EQ(bft_.candidates()[1].pow_height, 14u);
}

// ---- create_block_body -----------------------------------------------------------------------

TEST_F(InterpreterNodeTest, ABodyCarriesTheCandidateDueAfterTheParentLedgersCheckpoint) {
  ConnectAdapter(31);  // Depth 6: height 25 = 20 + interval.
  const v1::CreateBlockBodyResponse response = Create(LedgerAt(20, FakeAdapter::BestHash(20)));
  ASSERT_TRUE(response.has_body()) << response.no_body().message();
  const Bytes bytes = BytesOf(response.body());
  Reader reader(bytes);
  EXPECT_EQ(DecodeBody(&reader), CandidateBody(25, FakeAdapter::BestHash(25)));
}

TEST_F(InterpreterNodeTest, NoBodyWhileNothingIsDue) {
  ConnectAdapter(30);  // Height 24 < 25.
  const v1::CreateBlockBodyResponse response = Create(LedgerAt(20, FakeAdapter::BestHash(20)));
  ASSERT_TRUE(response.has_no_body());
  EXPECT_EQ(response.no_body().code(), "not_due");
}

TEST_F(InterpreterNodeTest, NoBodyWithoutAChainSide) {
  const v1::CreateBlockBodyResponse response = Create(Ledger{});
  ASSERT_TRUE(response.has_no_body());
  EXPECT_EQ(response.no_body().code(), "chain_unavailable");
}

TEST_F(InterpreterNodeTest, NoBodyWhenTheChainSideIsSilentAndTheAnswerStillComesInTime) {
  ConnectAdapter(30);
  adapter_.SetAnswering(false);
  const auto started = std::chrono::steady_clock::now();
  const v1::CreateBlockBodyResponse response = Create(Ledger{}, /*timeout_ms=*/300);
  ASSERT_TRUE(response.has_no_body());
  EXPECT_EQ(response.no_body().code(), "chain_unavailable");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST_F(InterpreterNodeTest, NoBodyWhenTheBlockAtDepthIsOffTheLedgersCheckpoint) {
  adapter_.AddSideBranch(10, 15);
  ConnectAdapter(31);
  const v1::CreateBlockBodyResponse response = Create(LedgerAt(12, FakeAdapter::SideHash(12)));
  ASSERT_TRUE(response.has_no_body());
  EXPECT_EQ(response.no_body().code(), "not_descending_from_checkpoint");
}

TEST_F(InterpreterNodeTest, NoBodyForAMalformedLedger) {
  ConnectAdapter(31);
  const uint64_t id = next_request_id_++;
  v1::BftToInterpreter frame;
  frame.mutable_create_block_body()->set_request_id(id);
  frame.mutable_create_block_body()->set_parent_ledger("not a ledger");
  node_->OnFrame(frame);
  std::optional<v1::InterpreterToBft> answer = bft_.WaitFor([id](const auto& f) {
    return f.has_create_block_body() && f.create_block_body().request_id() == id;
  });
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->create_block_body().no_body().code(), "malformed_ledger");
}

// ---- validate_block_body ---------------------------------------------------------------------

TEST_F(InterpreterNodeTest, ADeepCandidateOnTheBestChainIsAccepted) {
  ConnectAdapter(30);
  const v1::ValidateBlockBodyResponse response = Validate(
      CandidateBody(25, FakeAdapter::BestHash(25)), LedgerAt(20, FakeAdapter::BestHash(20)));
  EXPECT_EQ(response.verdict(), v1::ValidateBlockBodyResponse::VERDICT_ACCEPT) << response.reason();
  EXPECT_EQ(response.reason(), "");
  // Descent is asked relative to the parent ledger's checkpoint, with a bounded wait.
  const std::vector<v1::BlockQuery> queries = adapter_.block_queries();
  ASSERT_FALSE(queries.empty());
  EXPECT_EQ(BytesOf(queries.back().checkpoint_hash()), FakeAdapter::BestHash(20));
  EXPECT_GT(queries.back().wait_ms(), 0u);
  EXPECT_LE(queries.back().wait_ms(), 200u);
}

TEST_F(InterpreterNodeTest, AShallowCandidateIsRejected) {
  ConnectAdapter(28);
  const v1::ValidateBlockBodyResponse response = Validate(
      CandidateBody(25, FakeAdapter::BestHash(25)), LedgerAt(20, FakeAdapter::BestHash(20)));
  EXPECT_EQ(response.verdict(), v1::ValidateBlockBodyResponse::VERDICT_REJECT);
  EXPECT_EQ(response.reason(), "too_shallow: depth 3 < k_min 4");
}

TEST_F(InterpreterNodeTest, ACandidateOffTheBestChainIsRejected) {
  adapter_.AddSideBranch(20, 29);
  ConnectAdapter(30);
  const v1::ValidateBlockBodyResponse response = Validate(
      CandidateBody(25, FakeAdapter::SideHash(25)), LedgerAt(20, FakeAdapter::BestHash(20)));
  EXPECT_EQ(response.verdict(), v1::ValidateBlockBodyResponse::VERDICT_REJECT);
  EXPECT_EQ(response.reason(), "not_on_best_chain");
}

TEST_F(InterpreterNodeTest, ACandidateNotDescendingFromTheLedgersCheckpointIsRejected) {
  adapter_.AddSideBranch(20, 23);
  ConnectAdapter(32);
  const v1::ValidateBlockBodyResponse response = Validate(
      CandidateBody(27, FakeAdapter::BestHash(27)), LedgerAt(22, FakeAdapter::SideHash(22)));
  EXPECT_EQ(response.verdict(), v1::ValidateBlockBodyResponse::VERDICT_REJECT);
  EXPECT_EQ(response.reason(), "not_descending_from_checkpoint");
}

TEST_F(InterpreterNodeTest, AnUnknownCandidateIsUnknown) {
  ConnectAdapter(30);
  const v1::ValidateBlockBodyResponse response =
      Validate(CandidateBody(25, Bytes(32, 0x77)), LedgerAt(20, FakeAdapter::BestHash(20)));
  EXPECT_EQ(response.verdict(), v1::ValidateBlockBodyResponse::VERDICT_UNKNOWN);
  EXPECT_EQ(response.reason().rfind("unknown_block", 0), 0u) << response.reason();
}

TEST_F(InterpreterNodeTest, ASilentChainSideIsUnknownWithinTheBftsTimeout) {
  ConnectAdapter(30);
  adapter_.SetAnswering(false);
  const v1::ValidateBlockBodyResponse response = Validate(
      CandidateBody(25, FakeAdapter::BestHash(25)), LedgerAt(20, FakeAdapter::BestHash(20)), 300);
  EXPECT_EQ(response.verdict(), v1::ValidateBlockBodyResponse::VERDICT_UNKNOWN);
  EXPECT_EQ(response.reason().rfind("chain_unavailable", 0), 0u) << response.reason();
}

TEST_F(InterpreterNodeTest, BodiesThatFailWithoutChainFactsAreJudgedWithoutAsking) {
  ConnectAdapter(30);
  const Ledger parent = LedgerAt(20, FakeAdapter::BestHash(20));
  EXPECT_EQ(Validate(Body{}, parent).verdict(), v1::ValidateBlockBodyResponse::VERDICT_ACCEPT);
  EXPECT_EQ(Validate(CandidateBody(25, FakeAdapter::BestHash(25), "litecoin"), parent).reason(),
            "wrong_chain: 'litecoin' is not 'devchain'");
  EXPECT_EQ(Validate(CandidateBody(24, FakeAdapter::BestHash(24)), parent).reason(),
            "below_interval: pow height 24 < next due height 25");
  const v1::ValidateBlockBodyResponse malformed = ValidateEncoded("junk", parent);
  EXPECT_EQ(malformed.verdict(), v1::ValidateBlockBodyResponse::VERDICT_REJECT);
  EXPECT_EQ(malformed.reason().rfind("malformed_body", 0), 0u) << malformed.reason();
  EXPECT_TRUE(adapter_.block_queries().empty());
}

class InterpreterNodeMinAgeTest : public InterpreterNodeTest {
 protected:
  InterpreterNodeOptions Options() override {
    InterpreterNodeOptions options = InterpreterNodeTest::Options();
    options.rules.min_age_ms = 60'000;
    return options;
  }
};

TEST_F(InterpreterNodeMinAgeTest, ACandidateSeenTooRecentlyIsRejectedAndNotProposed) {
  adapter_.SetFirstSeen(FakeAdapter::BestHash(25), kNowMs - 10'000);
  ConnectAdapter(31);
  const Ledger parent = LedgerAt(20, FakeAdapter::BestHash(20));
  EXPECT_EQ(Validate(CandidateBody(25, FakeAdapter::BestHash(25)), parent).reason(),
            "too_recent: first seen 10000 ms ago < min_age_ms 60000");
  EXPECT_EQ(Create(parent).no_body().code(), "too_recent");
  now_ms_ += 50'000;
  EXPECT_EQ(Validate(CandidateBody(25, FakeAdapter::BestHash(25)), parent).verdict(),
            v1::ValidateBlockBodyResponse::VERDICT_ACCEPT);
  EXPECT_TRUE(Create(parent).has_body());
}

// ---- Certificates ----------------------------------------------------------------------------

TEST_F(InterpreterNodeTest, AnAppliedCertificateIsPersistedBeforeItsDurableAckAndForwarded) {
  ConnectAdapter(30);
  const Bytes certificate = CertificateFor(20, FakeAdapter::BestHash(20));
  const v1::CertificateAck ack = Deliver(certificate);
  EXPECT_EQ(ack.outcome(), v1::CERTIFICATE_OUTCOME_APPLIED);
  EXPECT_TRUE(ack.durable());
  EXPECT_EQ(ack.identity().pow_height(), 20u);
  EXPECT_EQ(BytesOf(ack.identity().pow_block_hash()), FakeAdapter::BestHash(20));
  // Saved before the ack was sent (the ack is only sent after Save returned).
  const std::optional<TrackerState> saved = store_.saved();
  ASSERT_TRUE(saved && saved->latest);
  EXPECT_EQ(saved->latest->certificate, certificate);
  ASSERT_TRUE(WaitFor([&] { return AppliesFor(20) == 1; }));
  EXPECT_EQ(BytesOf(adapter_.apply_checkpoints()[0].certificate().encoded()), certificate);
  // The adapter's durable acknowledgement is recorded too.
  EXPECT_TRUE(WaitFor([&] { return store_.saved()->adapter_acknowledged; }));
}

TEST_F(InterpreterNodeTest, AReplayedOlderCertificateIsIgnoredAndNeverForwarded) {
  ConnectAdapter(30);
  ASSERT_EQ(Deliver(CertificateFor(20, FakeAdapter::BestHash(20))).outcome(),
            v1::CERTIFICATE_OUTCOME_APPLIED);
  ASSERT_EQ(Deliver(CertificateFor(25, FakeAdapter::BestHash(25))).outcome(),
            v1::CERTIFICATE_OUTCOME_APPLIED);
  const v1::CertificateAck replayed = Deliver(CertificateFor(20, FakeAdapter::BestHash(20)));
  EXPECT_EQ(replayed.outcome(), v1::CERTIFICATE_OUTCOME_IGNORED);
  EXPECT_TRUE(replayed.durable());
  const v1::CertificateAck duplicate = Deliver(CertificateFor(25, FakeAdapter::BestHash(25)));
  EXPECT_EQ(duplicate.outcome(), v1::CERTIFICATE_OUTCOME_DUPLICATE);
  EXPECT_TRUE(duplicate.durable());
  // A validation round trip: the adapter has read everything sent before it.
  Validate(CandidateBody(26, FakeAdapter::BestHash(26)), LedgerAt(20, FakeAdapter::BestHash(20)));
  EXPECT_EQ(AppliesFor(20), 1);
  EXPECT_EQ(AppliesFor(25), 1);
  EXPECT_EQ(store_.saved()->latest->identity.pow_height, 25u);
}

TEST_F(InterpreterNodeTest, ACertificateTheChainDoesNotKnowYetIsPendingAndNotDurable) {
  ConnectAdapter(30);
  ASSERT_EQ(Deliver(CertificateFor(20, FakeAdapter::BestHash(20))).outcome(),
            v1::CERTIFICATE_OUTCOME_APPLIED);
  const v1::CertificateAck pending = Deliver(CertificateFor(40, FakeAdapter::BestHash(40)));
  EXPECT_EQ(pending.outcome(), v1::CERTIFICATE_OUTCOME_PENDING);
  EXPECT_FALSE(pending.durable());
  EXPECT_EQ(store_.saved()->latest->identity.pow_height, 20u);
  // Once the chain has it, the bft's redelivery applies.
  adapter_.SetBestTip(45);
  EXPECT_EQ(Deliver(CertificateFor(40, FakeAdapter::BestHash(40))).outcome(),
            v1::CERTIFICATE_OUTCOME_APPLIED);
}

TEST_F(InterpreterNodeTest, WithoutAChainSideAHigherCertificateIsPending) {
  ASSERT_EQ(Deliver(CertificateFor(20, FakeAdapter::BestHash(20))).outcome(),
            v1::CERTIFICATE_OUTCOME_APPLIED);
  const v1::CertificateAck pending = Deliver(CertificateFor(25, FakeAdapter::BestHash(25)));
  EXPECT_EQ(pending.outcome(), v1::CERTIFICATE_OUTCOME_PENDING);
  EXPECT_FALSE(pending.durable());
}

TEST_F(InterpreterNodeTest, AConflictingCertificateFreezesTheInterpreter) {
  adapter_.AddSideBranch(18, 30);
  ConnectAdapter(30);
  const Bytes applied = CertificateFor(20, FakeAdapter::BestHash(20));
  ASSERT_EQ(Deliver(applied).outcome(), v1::CERTIFICATE_OUTCOME_APPLIED);
  const Bytes conflicting = CertificateFor(25, FakeAdapter::SideHash(25));
  const v1::CertificateAck ack = Deliver(conflicting);
  EXPECT_EQ(ack.outcome(), v1::CERTIFICATE_OUTCOME_CONFLICT);
  EXPECT_TRUE(ack.durable());
  const std::optional<TrackerState> saved = store_.saved();
  ASSERT_TRUE(saved);
  EXPECT_TRUE(saved->frozen);
  EXPECT_EQ(saved->latest->identity.pow_height, 20u);
  EXPECT_EQ(store_.evidence(), EncodeFreezeEvidence(FreezeEvidence{applied, conflicting}));
  EXPECT_EQ(store_.evidence(), saved->evidence);
  ASSERT_TRUE(WaitFor([&] { return frozen_reports().size() == 2; }));
  EXPECT_EQ(frozen_reports(), (std::vector<bool>{false, true}));
  // Frozen: no bodies, later certificates counted but not applied or forwarded.
  EXPECT_EQ(Create(LedgerAt(20, FakeAdapter::BestHash(20))).no_body().code(), "frozen");
  EXPECT_EQ(Deliver(CertificateFor(30, FakeAdapter::BestHash(30))).outcome(),
            v1::CERTIFICATE_OUTCOME_IGNORED);
  Validate(CandidateBody(25, FakeAdapter::BestHash(25)), LedgerAt(20, FakeAdapter::BestHash(20)));
  EXPECT_EQ(AppliesFor(25), 0);
  EXPECT_EQ(AppliesFor(30), 0);
}

TEST_F(InterpreterNodeTest, AnotherBlockAtTheLatestHeightIsAConflict) {
  adapter_.AddSideBranch(18, 30);
  ConnectAdapter(30);
  ASSERT_EQ(Deliver(CertificateFor(20, FakeAdapter::BestHash(20))).outcome(),
            v1::CERTIFICATE_OUTCOME_APPLIED);
  EXPECT_EQ(Deliver(CertificateFor(20, FakeAdapter::SideHash(20))).outcome(),
            v1::CERTIFICATE_OUTCOME_CONFLICT);
  EXPECT_TRUE(node_->GetStatus().tracker.frozen);
}

TEST_F(InterpreterNodeTest, ACertificateOfAnotherFederationIsInvalidAndNotDurable) {
  ConnectAdapter(30);
  const TestFederation other = MakeTestFederation(4, "devchain", /*seed_base=*/50);
  const v1::CertificateAck ack = Deliver(CertificateFor(20, FakeAdapter::BestHash(20), &other));
  EXPECT_EQ(ack.outcome(), v1::CERTIFICATE_OUTCOME_INVALID);
  EXPECT_FALSE(ack.durable());
  EXPECT_FALSE(store_.saved());
}

TEST_F(InterpreterNodeTest, AnIdentityFieldThatDiffersFromTheBytesMakesItInvalid) {
  v1::CheckpointIdentity lie;
  lie.set_chain_id("devchain");
  lie.set_pow_height(21);
  lie.set_pow_block_hash(StringOf(FakeAdapter::BestHash(21)));
  EXPECT_EQ(Deliver(CertificateFor(20, FakeAdapter::BestHash(20)), lie).outcome(),
            v1::CERTIFICATE_OUTCOME_INVALID);
  v1::CheckpointIdentity truth = lie;
  truth.set_pow_height(20);
  truth.set_pow_block_hash(StringOf(FakeAdapter::BestHash(20)));
  EXPECT_EQ(Deliver(CertificateFor(20, FakeAdapter::BestHash(20)), truth).outcome(),
            v1::CERTIFICATE_OUTCOME_APPLIED);
}

TEST_F(InterpreterNodeTest, NothingIsAcknowledgedDurablyThatIsNotOnDisk) {
  ConnectAdapter(30);
  store_.SetFailing(true);
  const v1::CertificateAck failed = Deliver(CertificateFor(20, FakeAdapter::BestHash(20)));
  EXPECT_EQ(failed.outcome(), v1::CERTIFICATE_OUTCOME_PENDING);
  EXPECT_FALSE(failed.durable());
  EXPECT_FALSE(node_->GetStatus().tracker.latest) << "the decision was forgotten";
  store_.SetFailing(false);
  EXPECT_EQ(Deliver(CertificateFor(20, FakeAdapter::BestHash(20))).outcome(),
            v1::CERTIFICATE_OUTCOME_APPLIED);
}

class InterpreterNodeResendTest : public InterpreterNodeTest {
 protected:
  InterpreterNodeOptions Options() override {
    InterpreterNodeOptions options = InterpreterNodeTest::Options();
    options.apply_resend_ms = 20;
    return options;
  }
};

TEST_F(InterpreterNodeResendTest, TheLatestIsResentUntilTheAdapterHasItDurablyAndAfterAttaches) {
  adapter_.SetAcknowledgeDurably(false);
  ConnectAdapter(30);
  ASSERT_EQ(Deliver(CertificateFor(20, FakeAdapter::BestHash(20))).outcome(),
            v1::CERTIFICATE_OUTCOME_APPLIED);
  EXPECT_TRUE(WaitFor([&] { return AppliesFor(20) >= 3; })) << "resent periodically";
  adapter_.SetAcknowledgeDurably(true);
  EXPECT_TRUE(WaitFor([&] { return store_.saved()->adapter_acknowledged; }));
  // After a reattach it is sent again, acknowledged or not (chain.proto).
  const int before = AppliesFor(20);
  adapter_.Disconnect();
  ConnectAdapter(30);
  EXPECT_TRUE(WaitFor([&] { return AppliesFor(20) > before; }));
}

class InterpreterNodeRestartTest : public InterpreterNodeTest {
 protected:
  TrackerState Restored() override {
    CheckpointTracker tracker;
    const Bytes certificate = CertificateFor(20, FakeAdapter::BestHash(20));
    tracker.Decide(CheckpointIdentity{"devchain", 20, FakeAdapter::BestHash(20)}, certificate,
                   Descent::kUnknown);
    tracker.OnAdapterAcknowledged(CheckpointIdentity{"devchain", 20, FakeAdapter::BestHash(20)});
    return tracker.state();
  }
};

TEST_F(InterpreterNodeRestartTest, ARestoredCheckpointIsSentToTheAdapterAndCountsForCandidates) {
  ConnectAdapter(30);  // Depth 6: height 24 < 25: nothing due after the checkpoint at 20.
  EXPECT_TRUE(WaitFor([&] { return AppliesFor(20) == 1; }));
  adapter_.SetBestTip(31);
  adapter_.SendTip();
  ASSERT_TRUE(WaitFor([&] { return !bft_.candidates().empty(); }));
  EXPECT_EQ(bft_.candidates().front().pow_height, 25u);
  EXPECT_EQ(Deliver(CertificateFor(20, FakeAdapter::BestHash(20))).outcome(),
            v1::CERTIFICATE_OUTCOME_DUPLICATE);
}

}  // namespace
}  // namespace metronome::interpreter
