#include "services/interpreter/core/rules.h"

#include <gtest/gtest.h>

#include <limits>

namespace metronome::interpreter {
namespace {

constexpr uint64_t kNowMs = 1'700'000'000'000;

RulesConfig Rules() {
  RulesConfig rules;
  rules.chain_id = "devchain";
  rules.k = 6;
  rules.k_min = 4;
  rules.interval = 5;
  return rules;
}

Bytes HashOf(uint8_t fill) { return Bytes(32, fill); }

Transaction CandidateTx(const std::string& chain_id, uint64_t height, Bytes hash,
                        Bytes opaque = {}) {
  return Transaction{CheckpointCandidate{chain_id, height, std::move(hash), std::move(opaque)}};
}

Ledger LedgerAt(uint64_t height, uint8_t fill) {
  Ledger ledger;
  ledger.last_checkpoint = CandidateTx("devchain", height, HashOf(fill));
  return ledger;
}

Body BodyWith(std::vector<Transaction> transactions) { return Body{std::move(transactions)}; }

ChainFacts GoodFacts() {
  ChainFacts facts;
  facts.known = true;
  facts.on_best_chain = true;
  facts.depth = 6;
  facts.descends_from_checkpoint = true;
  facts.first_seen_unix_ms = kNowMs - 60'000;
  return facts;
}

// ---- Config ----------------------------------------------------------------------------

TEST(RulesConfigTest, DefaultsAreConsistent) {
  RulesConfig rules;
  rules.chain_id = "devchain";
  EXPECT_EQ(Validate(rules), std::nullopt);
  EXPECT_EQ(rules.k, 6u);
  EXPECT_EQ(rules.k_min, 4u);
  EXPECT_EQ(rules.interval, 5u);
  EXPECT_EQ(rules.min_age_ms, 0u);
}

TEST(RulesConfigTest, InconsistentValuesAreRejectedNamingTheKey) {
  RulesConfig rules = Rules();
  rules.k = 0;
  rules.k_min = 0;
  ASSERT_TRUE(Validate(rules));
  EXPECT_EQ(Validate(rules)->key, "rules.k");

  rules = Rules();
  rules.k_min = rules.k + 1;
  ASSERT_TRUE(Validate(rules));
  EXPECT_EQ(Validate(rules)->key, "rules.k_min");

  rules = Rules();
  rules.interval = 0;
  ASSERT_TRUE(Validate(rules));
  EXPECT_EQ(Validate(rules)->key, "rules.interval");

  rules = Rules();
  rules.chain_id = "";
  ASSERT_TRUE(Validate(rules));
  EXPECT_EQ(Validate(rules)->key, "chain_id");
}

TEST(RulesConfigTest, KMinEqualToKIsAllowed) {
  RulesConfig rules = Rules();
  rules.k_min = rules.k;
  EXPECT_EQ(Validate(rules), std::nullopt);
}

TEST(NextDueHeightTest, CountsFromTheLastCheckpointOrFromZero) {
  const RulesConfig rules = Rules();
  EXPECT_EQ(NextDueHeight(rules, std::nullopt), 5u);
  EXPECT_EQ(NextDueHeight(rules, CheckpointPosition{100, HashOf(1)}), 105u);
  EXPECT_EQ(NextDueHeight(rules, CheckpointPosition{std::numeric_limits<uint64_t>::max() - 2, {}}),
            std::numeric_limits<uint64_t>::max());
}

TEST(LastCheckpointOfTest, ReadsTheLedgersCandidate) {
  EXPECT_EQ(LastCheckpointOf(Ledger{}), std::nullopt);
  EXPECT_EQ(LastCheckpointOf(LedgerAt(42, 7)), (CheckpointPosition{42, HashOf(7)}));
}

// ---- Candidate rule ----------------------------------------------------------------------

CandidateInputs InputsAt(uint64_t height, std::optional<CheckpointPosition> last) {
  CandidateInputs inputs;
  inputs.block = BlockAtDepth{height, HashOf(9), kNowMs - 60'000};
  inputs.last_checkpoint = std::move(last);
  inputs.now_unix_ms = kNowMs;
  return inputs;
}

TEST(ChooseCandidateTest, TheBlockAtDepthKIsDueOnceIntervalHeightsHavePassed) {
  const CandidateChoice choice =
      ChooseCandidate(Rules(), InputsAt(105, CheckpointPosition{100, HashOf(1)}));
  ASSERT_TRUE(choice.candidate);
  EXPECT_EQ(choice.candidate->chain_id, "devchain");
  EXPECT_EQ(choice.candidate->pow_height, 105u);
  EXPECT_EQ(choice.candidate->pow_block_hash, HashOf(9));
  EXPECT_TRUE(choice.candidate->opaque.empty());
  EXPECT_TRUE(choice.code.empty());
}

TEST(ChooseCandidateTest, NothingIsDueBeforeIntervalHeightsHavePassed) {
  const CandidateChoice choice =
      ChooseCandidate(Rules(), InputsAt(104, CheckpointPosition{100, HashOf(1)}));
  EXPECT_FALSE(choice.candidate);
  EXPECT_EQ(choice.code, "not_due");
  EXPECT_EQ(choice.reason, "not_due: height 104 < next due height 105");
}

TEST(ChooseCandidateTest, WithoutACheckpointTheFirstIsDueAtHeightInterval) {
  EXPECT_FALSE(ChooseCandidate(Rules(), InputsAt(4, std::nullopt)).candidate);
  EXPECT_TRUE(ChooseCandidate(Rules(), InputsAt(5, std::nullopt)).candidate);
}

TEST(ChooseCandidateTest, AFrozenInterpreterProposesNothing) {
  CandidateInputs inputs = InputsAt(200, CheckpointPosition{100, HashOf(1)});
  inputs.frozen = true;
  const CandidateChoice choice = ChooseCandidate(Rules(), inputs);
  EXPECT_FALSE(choice.candidate);
  EXPECT_EQ(choice.code, "frozen");
}

TEST(ChooseCandidateTest, AChainShorterThanKHasNoCandidate) {
  CandidateInputs inputs = InputsAt(0, std::nullopt);
  inputs.block.reset();
  const CandidateChoice choice = ChooseCandidate(Rules(), inputs);
  EXPECT_FALSE(choice.candidate);
  EXPECT_EQ(choice.code, "chain_too_short");
}

TEST(ChooseCandidateTest, ABlockOffTheCheckpointsChainIsNotProposedWhenTheFactsSaySo) {
  CandidateInputs inputs = InputsAt(105, CheckpointPosition{100, HashOf(1)});
  inputs.descent = Descent::kDoesNotDescend;
  EXPECT_EQ(ChooseCandidate(Rules(), inputs).code, "not_descending_from_checkpoint");
  inputs.descent = Descent::kDescends;
  EXPECT_TRUE(ChooseCandidate(Rules(), inputs).candidate);
  // Unknown descent trusts the adapter: its best chain contains its applied checkpoint.
  inputs.descent = Descent::kUnknown;
  EXPECT_TRUE(ChooseCandidate(Rules(), inputs).candidate);
}

TEST(ChooseCandidateTest, ABlockYoungerThanMinAgeWaitsSoReplicasWouldAcceptIt) {
  RulesConfig rules = Rules();
  rules.min_age_ms = 30'000;
  CandidateInputs inputs = InputsAt(105, CheckpointPosition{100, HashOf(1)});
  inputs.block->first_seen_unix_ms = kNowMs - 10'000;
  const CandidateChoice young = ChooseCandidate(rules, inputs);
  EXPECT_FALSE(young.candidate);
  EXPECT_EQ(young.code, "too_recent");
  EXPECT_EQ(young.reason, "too_recent: first seen 10000 ms ago < min_age_ms 30000");
  inputs.block->first_seen_unix_ms = kNowMs - 30'000;
  EXPECT_TRUE(ChooseCandidate(rules, inputs).candidate);
  // Unknown first-seen times do not hold a candidate up.
  inputs.block->first_seen_unix_ms = 0;
  EXPECT_TRUE(ChooseCandidate(rules, inputs).candidate);
}

// ---- Validation: body checks -------------------------------------------------------------

TEST(CheckProposedBodyTest, AnEmptyBodyIsAccepted) {
  const BodyCheck check = CheckProposedBody(Rules(), Body{}, LedgerAt(100, 1));
  ASSERT_TRUE(check.verdict);
  EXPECT_EQ(check.verdict->kind, VerdictKind::kAccept);
  EXPECT_EQ(check.verdict->reason, "");
  EXPECT_EQ(check.verdict->code(), "");
}

TEST(CheckProposedBodyTest, AWellFormedDueCandidateNeedsChainFacts) {
  const BodyCheck check = CheckProposedBody(
      Rules(), BodyWith({CandidateTx("devchain", 105, HashOf(9))}), LedgerAt(100, 1));
  EXPECT_FALSE(check.verdict);
  EXPECT_EQ(check.candidate.pow_height, 105u);
  EXPECT_EQ(check.candidate.pow_block_hash, HashOf(9));
  EXPECT_EQ(check.checkpoint, (CheckpointPosition{100, HashOf(1)}));
}

TEST(CheckProposedBodyTest, BeforeTheFirstCheckpointThereIsNoCheckpointToDescendFrom) {
  const BodyCheck check =
      CheckProposedBody(Rules(), BodyWith({CandidateTx("devchain", 5, HashOf(9))}), Ledger{});
  EXPECT_FALSE(check.verdict);
  EXPECT_EQ(check.checkpoint, std::nullopt);
}

void ExpectRejected(const BodyCheck& check, const std::string& code) {
  ASSERT_TRUE(check.verdict);
  EXPECT_EQ(check.verdict->kind, VerdictKind::kReject);
  EXPECT_EQ(check.verdict->code(), code) << check.verdict->reason;
  EXPECT_EQ(check.verdict->reason.rfind(code, 0), 0u) << "the reason starts with its code";
}

TEST(CheckProposedBodyTest, MoreThanOneTransactionIsRejected) {
  ExpectRejected(CheckProposedBody(Rules(),
                                   BodyWith({CandidateTx("devchain", 105, HashOf(9)),
                                             CandidateTx("devchain", 106, HashOf(8))}),
                                   LedgerAt(100, 1)),
                 "too_many_transactions");
}

TEST(CheckProposedBodyTest, AProposerBlockIsRejected) {
  ExpectRejected(
      CheckProposedBody(Rules(), BodyWith({Transaction{ProposerBlock{{1, 2}}}}), LedgerAt(100, 1)),
      "not_a_candidate");
}

TEST(CheckProposedBodyTest, AnotherChainsCandidateIsRejected) {
  const BodyCheck check = CheckProposedBody(
      Rules(), BodyWith({CandidateTx("litecoin", 105, HashOf(9))}), LedgerAt(100, 1));
  ExpectRejected(check, "wrong_chain");
  EXPECT_EQ(check.verdict->reason, "wrong_chain: 'litecoin' is not 'devchain'");
}

TEST(CheckProposedBodyTest, ACandidateBelowTheIntervalIsRejected) {
  const BodyCheck check = CheckProposedBody(
      Rules(), BodyWith({CandidateTx("devchain", 104, HashOf(9))}), LedgerAt(100, 1));
  ExpectRejected(check, "below_interval");
  EXPECT_EQ(check.verdict->reason, "below_interval: pow height 104 < next due height 105");
  // And one at or below the checkpoint itself.
  ExpectRejected(CheckProposedBody(Rules(), BodyWith({CandidateTx("devchain", 100, HashOf(9))}),
                                   LedgerAt(100, 1)),
                 "below_interval");
  ExpectRejected(
      CheckProposedBody(Rules(), BodyWith({CandidateTx("devchain", 4, HashOf(9))}), Ledger{}),
      "below_interval");
}

TEST(CheckProposedBodyTest, MalformedCandidatesAreRejected) {
  ExpectRejected(CheckProposedBody(Rules(), BodyWith({CandidateTx("devchain", 105, Bytes{})}),
                                   LedgerAt(100, 1)),
                 "malformed_candidate");
  ExpectRejected(
      CheckProposedBody(Rules(), BodyWith({CandidateTx("devchain", 105, HashOf(9), Bytes{1})}),
                        LedgerAt(100, 1)),
      "malformed_candidate");
}

// ---- Validation: chain facts ---------------------------------------------------------------

CheckpointCandidate Candidate() { return CheckpointCandidate{"devchain", 105, HashOf(9), {}}; }

TEST(JudgeCandidateFactsTest, AKnownDeepDescendingOldBlockOnTheBestChainIsAccepted) {
  const Verdict verdict = JudgeCandidateFacts(Rules(), Candidate(), GoodFacts(), kNowMs);
  EXPECT_EQ(verdict.kind, VerdictKind::kAccept);
  EXPECT_EQ(verdict.reason, "");
}

TEST(JudgeCandidateFactsTest, AnErrorOrAnUnknownBlockIsUnknownNotRejected) {
  ChainFacts facts = GoodFacts();
  facts.error_code = "node_unreachable";
  facts.error_message = "connection refused";
  Verdict verdict = JudgeCandidateFacts(Rules(), Candidate(), facts, kNowMs);
  EXPECT_EQ(verdict.kind, VerdictKind::kUnknown);
  EXPECT_EQ(verdict.code(), "chain_unavailable");
  EXPECT_EQ(verdict.reason, "chain_unavailable: node_unreachable (connection refused)");

  facts = GoodFacts();
  facts.known = false;
  verdict = JudgeCandidateFacts(Rules(), Candidate(), facts, kNowMs);
  EXPECT_EQ(verdict.kind, VerdictKind::kUnknown);
  EXPECT_EQ(verdict.code(), "unknown_block");
}

TEST(JudgeCandidateFactsTest, ABlockOffTheBestChainIsRejected) {
  ChainFacts facts = GoodFacts();
  facts.on_best_chain = false;
  const Verdict verdict = JudgeCandidateFacts(Rules(), Candidate(), facts, kNowMs);
  EXPECT_EQ(verdict.kind, VerdictKind::kReject);
  EXPECT_EQ(verdict.reason, "not_on_best_chain");
}

TEST(JudgeCandidateFactsTest, ABlockShallowerThanKMinIsRejectedAndKMinItselfIsEnough) {
  ChainFacts facts = GoodFacts();
  facts.depth = 3;
  const Verdict verdict = JudgeCandidateFacts(Rules(), Candidate(), facts, kNowMs);
  EXPECT_EQ(verdict.kind, VerdictKind::kReject);
  EXPECT_EQ(verdict.reason, "too_shallow: depth 3 < k_min 4");
  facts.depth = 4;
  EXPECT_EQ(JudgeCandidateFacts(Rules(), Candidate(), facts, kNowMs).kind, VerdictKind::kAccept);
}

TEST(JudgeCandidateFactsTest, ABlockNotDescendingFromTheCheckpointIsRejected) {
  ChainFacts facts = GoodFacts();
  facts.descends_from_checkpoint = false;
  const Verdict verdict = JudgeCandidateFacts(Rules(), Candidate(), facts, kNowMs);
  EXPECT_EQ(verdict.kind, VerdictKind::kReject);
  EXPECT_EQ(verdict.reason, "not_descending_from_checkpoint");
}

TEST(JudgeCandidateFactsTest, ABlockYoungerThanMinAgeIsRejectedOnlyWhenTheRuleIsOn) {
  ChainFacts facts = GoodFacts();
  facts.first_seen_unix_ms = kNowMs - 1'000;
  EXPECT_EQ(JudgeCandidateFacts(Rules(), Candidate(), facts, kNowMs).kind, VerdictKind::kAccept);

  RulesConfig rules = Rules();
  rules.min_age_ms = 5'000;
  const Verdict verdict = JudgeCandidateFacts(rules, Candidate(), facts, kNowMs);
  EXPECT_EQ(verdict.kind, VerdictKind::kReject);
  EXPECT_EQ(verdict.reason, "too_recent: first seen 1000 ms ago < min_age_ms 5000");
  // Seen "in the future" (clock skew) counts as just seen.
  facts.first_seen_unix_ms = kNowMs + 1'000;
  EXPECT_EQ(JudgeCandidateFacts(rules, Candidate(), facts, kNowMs).code(), "too_recent");
  // Old enough, and unknown first-seen times.
  facts.first_seen_unix_ms = kNowMs - 5'000;
  EXPECT_EQ(JudgeCandidateFacts(rules, Candidate(), facts, kNowMs).kind, VerdictKind::kAccept);
  facts.first_seen_unix_ms = 0;
  EXPECT_EQ(JudgeCandidateFacts(rules, Candidate(), facts, kNowMs).kind, VerdictKind::kAccept);
}

TEST(JudgeCandidateFactsTest, TheFirstFailingRuleNamesTheReason) {
  // Off the best chain and too shallow: the best-chain rule comes first.
  ChainFacts facts = GoodFacts();
  facts.on_best_chain = false;
  facts.depth = 0;
  facts.descends_from_checkpoint = false;
  EXPECT_EQ(JudgeCandidateFacts(Rules(), Candidate(), facts, kNowMs).code(), "not_on_best_chain");
  facts.on_best_chain = true;
  EXPECT_EQ(JudgeCandidateFacts(Rules(), Candidate(), facts, kNowMs).code(), "too_shallow");
}

}  // namespace
}  // namespace metronome::interpreter
