#include "services/bft/core/application.h"

#include <gtest/gtest.h>

#include "common/test_support.h"
#include "services/bft/core/certificate_checker.h"

namespace metronome::bft {
namespace {

using metronome::testing::MakeTestCandidate;
using metronome::testing::MakeTestFederation;
using metronome::testing::TestFederation;

Transaction Candidate(uint64_t pow_height) {
  return Transaction{MakeTestCandidate("devchain", pow_height)};
}

template <typename T>
std::vector<T> AsksOf(const ApplicationOutputs& out) {
  std::vector<T> asks;
  for (const InterpreterAsk& ask : out.asks) {
    if (const T* typed = std::get_if<T>(&ask)) asks.push_back(*typed);
  }
  return asks;
}

// The application of one member, fed blocks built on the genesis block the way a
// leader's would be: each block's post-state hash is the ledger its body leads to.
class ApplicationTest : public ::testing::Test {
 protected:
  ApplicationTest() : app_(Config()) { (void)app_.OnAttached(true, now_ms_); }

  static ApplicationConfig Config() {
    ApplicationConfig config;
    config.genesis_post_state_hash = LedgerHash(Ledger{});
    config.certificate_resend_ms = 2000;
    return config;
  }

  // A block with `body` on `parent` (genesis when null), and its ledger.
  Block Child(const Block* parent, Body body, const Ledger& parent_ledger) {
    Block block;
    block.header.parent_hash = parent ? parent->hash() : GenesisBlock(LedgerHash(Ledger{})).hash();
    block.header.height = parent ? parent->header.height + 1 : 1;
    block.header.view = block.header.height;
    std::string reason;
    block.header.post_state_hash = LedgerHash(*ApplyBody(parent_ledger, body, &reason));
    block.header.content_root = ContentRoot(body);
    block.body = std::move(body);
    return block;
  }

  Commit Decide(const std::vector<Block>& blocks) {
    Commit commit;
    commit.blocks = blocks;
    commit.commit_qc = metronome::testing::MakeQuorumCommitQc(test_, blocks.back().hash(),
                                                              blocks.back().header.view);
    return commit;
  }

  // Decides one block holding candidate 100 and returns the offer the interpreter got.
  CertificateOffer IssueOne() {
    const Block block = Child(nullptr, Body{{Candidate(100)}}, Ledger{});
    const ApplicationOutputs out = app_.OnDeliver({Decide({block})}, std::nullopt);
    EXPECT_EQ(out.certificates.size(), 1u);
    const std::vector<CertificateOffer> offers = AsksOf<CertificateOffer>(out);
    EXPECT_EQ(offers.size(), 1u);
    return offers.empty() ? CertificateOffer{} : offers[0];
  }

  TestFederation test_ = MakeTestFederation(4);
  uint64_t now_ms_ = 1000;
  CheckpointApplication app_;
};

TEST_F(ApplicationTest, ARefusedCertificateIsCountedAndNeverOfferedAgainUntilReattach) {
  const CertificateOffer offer = IssueOne();
  const ApplicationOutputs refused =
      app_.OnCertificateAnswer({offer.request_id, CertificateAnswer::Outcome::kRefused});
  ASSERT_EQ(refused.events.size(), 1u);
  EXPECT_EQ(refused.events[0].kind, ApplicationEvent::Kind::kCertificateRefused);
  EXPECT_EQ(app_.refused(), 1u);
  // Ticks long past the resend interval: nothing is offered again.
  for (int i = 1; i <= 10; ++i) {
    EXPECT_TRUE(AsksOf<CertificateOffer>(app_.OnTick(now_ms_ + i * 5000)).empty());
  }
  EXPECT_EQ(app_.outbox().size(), 1u);  // Kept: a fixed consumer gets it.
  (void)app_.OnAttached(false, now_ms_ + 60000);
  EXPECT_EQ(AsksOf<CertificateOffer>(app_.OnAttached(true, now_ms_ + 61000)).size(), 1u);
  EXPECT_EQ(app_.refused(), 0u);
}

TEST_F(ApplicationTest, UnacknowledgedCertificatesAreOfferedAgainOnlyAfterTheResendInterval) {
  const CertificateOffer offer = IssueOne();
  (void)app_.OnCertificateAnswer({offer.request_id, CertificateAnswer::Outcome::kProgress});
  EXPECT_TRUE(AsksOf<CertificateOffer>(app_.OnTick(now_ms_ + 1999)).empty());
  const std::vector<CertificateOffer> again = AsksOf<CertificateOffer>(app_.OnTick(now_ms_ + 2000));
  ASSERT_EQ(again.size(), 1u);
  const ApplicationOutputs durable =
      app_.OnCertificateAnswer({again[0].request_id, CertificateAnswer::Outcome::kDurable});
  ASSERT_EQ(durable.retired.size(), 1u);
  EXPECT_EQ(durable.retired[0].identity.pow_height, 100u);
  EXPECT_TRUE(app_.outbox().empty());
  EXPECT_TRUE(AsksOf<CertificateOffer>(app_.OnTick(now_ms_ + 10000)).empty());
  // The store could not retire it: it is offered again.
  app_.OnRetireFailed(durable.retired[0]);
  EXPECT_EQ(AsksOf<CertificateOffer>(app_.OnTick(now_ms_ + 20000)).size(), 1u);
}

TEST_F(ApplicationTest, AnAnswerToAReplacedRequestIsStale) {
  const CertificateOffer first = IssueOne();
  const std::vector<CertificateOffer> second =
      AsksOf<CertificateOffer>(app_.OnTick(now_ms_ + 2000));
  ASSERT_EQ(second.size(), 1u);
  const ApplicationOutputs stale =
      app_.OnCertificateAnswer({first.request_id, CertificateAnswer::Outcome::kDurable});
  EXPECT_TRUE(stale.retired.empty());
  ASSERT_EQ(stale.events.size(), 1u);
  EXPECT_EQ(stale.events[0].kind, ApplicationEvent::Kind::kStaleAnswer);
}

TEST_F(ApplicationTest, ValidationChecksThePostStateBeforeAskingTheInterpreter) {
  Block block = Child(nullptr, Body{{Candidate(7)}}, Ledger{});
  block.header.post_state_hash.fill(1);
  ApplicationOutputs out = app_.OnValidate({block});
  ASSERT_EQ(out.verdicts.size(), 1u);
  EXPECT_FALSE(out.verdicts[0].valid);
  EXPECT_EQ(out.events[0].reason, "post_state_mismatch");
  EXPECT_TRUE(out.asks.empty());

  const Block good = Child(nullptr, Body{{Candidate(7)}}, Ledger{});
  out = app_.OnValidate({good});
  EXPECT_TRUE(out.verdicts.empty());
  const std::vector<ValidateBodyAsk> asks = AsksOf<ValidateBodyAsk>(out);
  ASSERT_EQ(asks.size(), 1u);
  out = app_.OnVerdictAnswer({asks[0].request_id, true, ""});
  ASSERT_EQ(out.verdicts.size(), 1u);
  EXPECT_TRUE(out.verdicts[0].valid);
  EXPECT_EQ(out.verdicts[0].block_hash, good.hash());
}

TEST_F(ApplicationTest, AnUnansweredValidationTimesOutAsARejection) {
  const Block block = Child(nullptr, Body{{Candidate(7)}}, Ledger{});
  const std::vector<ValidateBodyAsk> asks = AsksOf<ValidateBodyAsk>(app_.OnValidate({block}));
  ASSERT_EQ(asks.size(), 1u);
  const ApplicationOutputs out = app_.OnRequestTimeout(asks[0].request_id);
  ASSERT_EQ(out.verdicts.size(), 1u);
  EXPECT_FALSE(out.verdicts[0].valid);
  // The late answer changes nothing.
  EXPECT_TRUE(app_.OnVerdictAnswer({asks[0].request_id, true, ""}).verdicts.empty());
}

TEST_F(ApplicationTest, AnInvalidBodyFromTheInterpreterBecomesAnEmptyBlock) {
  const Block first = Child(nullptr, Body{{Candidate(50)}}, Ledger{});
  (void)app_.OnDeliver({Decide({first})}, std::nullopt);
  (void)app_.OnCandidatePending();
  const ApplicationOutputs asked = app_.OnCreateBody({5, first.hash(), 2});
  const std::vector<CreateBodyAsk> asks = AsksOf<CreateBodyAsk>(asked);
  ASSERT_EQ(asks.size(), 1u);
  // A candidate not above the parent's checkpoint (50) does not apply.
  BodyAnswer answer;
  answer.request_id = asks[0].request_id;
  answer.body = Body{{Candidate(40)}};
  const ApplicationOutputs out = app_.OnBodyAnswer(answer);
  ASSERT_EQ(out.bodies.size(), 1u);
  EXPECT_TRUE(out.bodies[0].body->transactions.empty());
  EXPECT_EQ(out.bodies[0].post_state_hash, LedgerHash(app_.committed_ledger()));
}

TEST_F(ApplicationTest, AFastForwardInstallsTheTransferredLedgerAndLaterBlocksBuildOnIt) {
  // Another member's history, none of which this member saw.
  std::string reason;
  const Ledger theirs = *ApplyBody(Ledger{}, Body{{Candidate(90)}}, &reason);
  Block jumped;
  jumped.header.height = 500;
  jumped.header.view = 700;
  jumped.header.parent_hash.fill(3);
  jumped.header.post_state_hash = LedgerHash(theirs);
  const Bytes state = EncodeLedger(theirs);
  ASSERT_TRUE(app_.StateMatches(state, jumped.header.post_state_hash));
  EXPECT_FALSE(app_.StateMatches(Bytes{1, 2, 3}, jumped.header.post_state_hash));
  FastForward fast_forward;
  fast_forward.block = jumped;
  fast_forward.state = state;
  const ApplicationOutputs out = app_.OnDeliver({}, fast_forward);
  ASSERT_TRUE(out.committed.has_value());
  EXPECT_EQ(out.committed->first, 500u);
  EXPECT_EQ(app_.StateAfter(jumped.header.post_state_hash), state);
  const Block next = Child(&jumped, Body{{Candidate(95)}}, theirs);
  EXPECT_FALSE(AsksOf<ValidateBodyAsk>(app_.OnValidate({next})).empty());
}

// A chain of `count` blocks above a block at height 100 whose ledger is `base`.
std::vector<Block> ChainAbove(const Block& anchor, const Ledger& base, size_t count,
                              uint64_t first_candidate) {
  std::vector<Block> chain;
  Ledger ledger = base;
  const Block* parent = &anchor;
  for (size_t i = 0; i < count; ++i) {
    Block block;
    block.body = Body{{Candidate(first_candidate + i)}};
    block.header.parent_hash = parent->hash();
    block.header.height = parent->header.height + 1;
    block.header.view = parent->header.view + 1;
    std::string reason;
    ledger = *ApplyBody(ledger, block.body, &reason);
    block.header.post_state_hash = LedgerHash(ledger);
    block.header.content_root = ContentRoot(block.body);
    chain.push_back(std::move(block));
    parent = &chain.back();
  }
  return chain;
}

TEST_F(ApplicationTest, ARestartResumesFromTheExecutedBlocksStoredLedger) {
  std::string reason;
  const Ledger executed_ledger = *ApplyBody(Ledger{}, Body{{Candidate(60)}}, &reason);
  Block executed;
  executed.header.height = 100;
  executed.header.view = 100;
  executed.header.parent_hash.fill(7);  // Pruned long ago.
  executed.header.post_state_hash = LedgerHash(executed_ledger);
  const std::vector<Block> above = ChainAbove(executed, executed_ledger, 2, 61);
  RestoredApplication restored;
  restored.blocks = {executed, above[0], above[1]};
  restored.executed_hash = executed.hash();
  restored.ledgers = {executed_ledger};  // The blocks above were never stored with theirs.
  CheckpointApplication restarted(Config(), restored);
  EXPECT_EQ(restarted.committed_height(), 100u);
  const std::optional<Ledger> ledger = restarted.LedgerAfter(above[1].hash());
  ASSERT_TRUE(ledger.has_value());
  EXPECT_EQ(LedgerHash(*ledger), above[1].header.post_state_hash);

  // Without the executed block's ledger nothing above it can be computed, and a decision
  // over those blocks is not marked executed (a restart or a jump repairs it).
  restored.ledgers.clear();
  CheckpointApplication stranded(Config(), restored);
  EXPECT_FALSE(stranded.LedgerAfter(above[1].hash()).has_value());
  const ApplicationOutputs out = stranded.OnDeliver({Decide(above)}, std::nullopt);
  EXPECT_FALSE(out.committed.has_value());
  ASSERT_FALSE(out.events.empty());
  EXPECT_EQ(out.events[0].kind, ApplicationEvent::Kind::kLedgerUnknown);
  EXPECT_EQ(out.certificates.size(), 2u);  // Decided all the same: certificates issue.
}

TEST_F(ApplicationTest, TheExecutedBlocksLedgerIsAlwaysWrittenOut) {
  // Blocks this member never validated (synced), then decided: their ledgers are
  // computed for the decision and the executed one is handed to the store.
  const Block first = Child(nullptr, Body{{Candidate(10)}}, Ledger{});
  std::string reason;
  const std::vector<Block> above =
      ChainAbove(first, *ApplyBody(Ledger{}, first.body, &reason), 1, 11);
  app_.OnStored({first, above[0]});
  ASSERT_TRUE(app_.LedgerAfter(above[0].hash()).has_value());  // Cached, not written.
  const ApplicationOutputs out = app_.OnDeliver({Decide({first, above[0]})}, std::nullopt);
  ASSERT_TRUE(out.committed.has_value());
  bool written = false;
  for (const auto& [hash, encoded] : out.ledgers) {
    written |= hash == above[0].header.post_state_hash;
  }
  EXPECT_TRUE(written);
}

}  // namespace
}  // namespace metronome::bft
