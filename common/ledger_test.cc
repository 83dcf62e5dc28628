#include "common/ledger.h"

#include <gtest/gtest.h>

#include <set>

#include "common/hash.h"
#include "common/test_support.h"

namespace metronome {
namespace {

using testing::MakeTestCandidate;

Transaction Candidate(uint64_t pow_height) {
  return Transaction{MakeTestCandidate("devchain", pow_height)};
}

Transaction Proposer(const std::string& opaque) {
  return Transaction{ProposerBlock{BytesOf(opaque)}};
}

Ledger SampleLedger() {
  Ledger ledger;
  ledger.last_checkpoint = Candidate(1000);
  ledger.proposer_blocks = {Proposer("pb1"), Proposer("pb2")};
  return ledger;
}

// Decodes `bytes` as a whole ledger; returns the reader's error ("" when it decoded).
std::string DecodeError(const Bytes& bytes, Ledger* decoded = nullptr) {
  Reader reader(bytes);
  Ledger ledger = DecodeLedger(&reader);
  reader.ExpectEnd();
  if (decoded != nullptr) *decoded = std::move(ledger);
  return reader.error();
}

// The encoding of a ledger whose fields break the invariants the encoder asserts.
Bytes RawLedger(uint8_t has_checkpoint, const std::vector<Transaction>& checkpoint, uint32_t count,
                const std::vector<Transaction>& blocks) {
  Writer writer;
  writer.Kind(ArtefactKind::kLedger);
  writer.U8(has_checkpoint);
  for (const Transaction& transaction : checkpoint) EncodeTransaction(transaction, &writer);
  writer.U32(count);
  for (const Transaction& transaction : blocks) EncodeTransaction(transaction, &writer);
  return writer.Take();
}

TEST(LedgerTest, RoundTripsWithAndWithoutCheckpoint) {
  Ledger with_checkpoint = SampleLedger();
  Ledger without_checkpoint;
  without_checkpoint.proposer_blocks = {Proposer("only")};
  for (const Ledger& ledger : {with_checkpoint, without_checkpoint, Ledger{}}) {
    Ledger decoded;
    EXPECT_EQ(DecodeError(EncodeLedger(ledger), &decoded), "");
    EXPECT_EQ(decoded, ledger);
    EXPECT_EQ(LedgerHash(decoded), LedgerHash(ledger));
  }
}

TEST(LedgerTest, EmptyLedgerEncodesAsKindVersionFlagAndZeroCount) {
  const Bytes encoded = EncodeLedger(Ledger{});
  EXPECT_EQ(encoded, (Bytes{8, 1, 0, 0, 0, 0, 0}));
}

TEST(LedgerTest, HashChangesWithEveryField) {
  std::vector<Ledger> variants(10, SampleLedger());
  variants[1].last_checkpoint.reset();
  variants[2].last_checkpoint = Candidate(1001);
  std::get<CheckpointCandidate>(variants[3].last_checkpoint->value).chain_id = "other";
  std::get<CheckpointCandidate>(variants[4].last_checkpoint->value).pow_block_hash[5] ^= 1;
  std::get<CheckpointCandidate>(variants[5].last_checkpoint->value).opaque = BytesOf("x");
  variants[6].proposer_blocks.push_back(Proposer("pb3"));
  variants[7].proposer_blocks.pop_back();
  variants[8].proposer_blocks[1] = Proposer("pbX");
  std::swap(variants[9].proposer_blocks[0], variants[9].proposer_blocks[1]);
  std::set<Hash256> hashes;
  for (const Ledger& ledger : variants) hashes.insert(LedgerHash(ledger));
  EXPECT_EQ(hashes.size(), variants.size());
}

TEST(LedgerTest, HashIsDomainSeparatedFromPlainBlake2b) {
  const Bytes encoded = EncodeLedger(SampleLedger());
  EXPECT_NE(LedgerHash(SampleLedger()), Blake2b256(encoded));
}

TEST(LedgerTest, DecodeRejectsTrailingBytes) {
  Bytes encoded = EncodeLedger(SampleLedger());
  encoded.push_back(0);
  EXPECT_NE(DecodeError(encoded).find("trailing"), std::string::npos);
}

TEST(LedgerTest, DecodeRejectsTruncation) {
  Bytes encoded = EncodeLedger(SampleLedger());
  encoded.pop_back();
  EXPECT_NE(DecodeError(encoded).find("truncated"), std::string::npos);
}

TEST(LedgerTest, DecodeRejectsAnotherKind) {
  Bytes encoded = EncodeLedger(SampleLedger());
  encoded[0] = static_cast<uint8_t>(ArtefactKind::kBody);
  EXPECT_NE(DecodeError(encoded).find("expected artefact kind 8"), std::string::npos);
}

TEST(LedgerTest, DecodeRejectsCheckpointFlagOtherThanZeroOrOne) {
  EXPECT_EQ(DecodeError(RawLedger(1, {Candidate(5)}, 0, {})), "");
  EXPECT_NE(DecodeError(RawLedger(2, {Candidate(5)}, 0, {})).find("has_checkpoint flag 2"),
            std::string::npos);
}

TEST(LedgerTest, DecodeRejectsCheckpointThatIsNotACandidate) {
  EXPECT_NE(DecodeError(RawLedger(1, {Proposer("pb")}, 0, {})).find("not a checkpoint candidate"),
            std::string::npos);
}

TEST(LedgerTest, DecodeRejectsCandidateAmongProposerBlocks) {
  EXPECT_NE(DecodeError(RawLedger(0, {}, 2, {Proposer("pb"), Candidate(5)}))
                .find("proposer block 1 is a checkpoint candidate"),
            std::string::npos);
}

TEST(LedgerTest, DecodeRejectsCountAboveMaximumBeforeReadingBlocks) {
  EXPECT_NE(
      DecodeError(RawLedger(0, {}, kLedgerProposerBlocksMax + 1, {})).find("exceeds the maximum"),
      std::string::npos);
}

TEST(LedgerTest, ApplyEmptyBodyKeepsParent) {
  std::string reason;
  const std::optional<Ledger> ledger = ApplyBody(SampleLedger(), Body{}, &reason);
  ASSERT_TRUE(ledger.has_value()) << reason;
  EXPECT_EQ(*ledger, SampleLedger());
}

TEST(LedgerTest, ApplyAppendsProposerBlocksInBodyOrder) {
  std::string reason;
  const std::optional<Ledger> ledger =
      ApplyBody(SampleLedger(), Body{{Proposer("a"), Proposer("b")}}, &reason);
  ASSERT_TRUE(ledger.has_value()) << reason;
  EXPECT_EQ(ledger->last_checkpoint, SampleLedger().last_checkpoint);
  EXPECT_EQ(ledger->proposer_blocks, (std::vector<Transaction>{Proposer("pb1"), Proposer("pb2"),
                                                               Proposer("a"), Proposer("b")}));
}

TEST(LedgerTest, ApplyCandidateResetsProposerBlocksKeepingThoseAfterIt) {
  std::string reason;
  const std::optional<Ledger> ledger = ApplyBody(
      SampleLedger(), Body{{Proposer("before"), Candidate(2000), Proposer("after")}}, &reason);
  ASSERT_TRUE(ledger.has_value()) << reason;
  EXPECT_EQ(ledger->last_checkpoint, Candidate(2000));
  EXPECT_EQ(ledger->proposer_blocks, std::vector<Transaction>{Proposer("after")});
}

TEST(LedgerTest, ApplyAcceptsAnyCandidateWithoutParentCheckpoint) {
  std::string reason;
  const std::optional<Ledger> ledger = ApplyBody(Ledger{}, Body{{Candidate(0)}}, &reason);
  ASSERT_TRUE(ledger.has_value()) << reason;
  EXPECT_EQ(ledger->last_checkpoint, Candidate(0));
}

TEST(LedgerTest, ApplyRejectsTwoCandidates) {
  std::string reason;
  EXPECT_FALSE(ApplyBody(Ledger{}, Body{{Candidate(10), Proposer("x"), Candidate(11)}}, &reason));
  EXPECT_EQ(reason.rfind("two_candidates:", 0), 0u) << reason;
}

TEST(LedgerTest, ApplyRejectsCandidateNotAboveLastCheckpoint) {
  for (uint64_t pow_height : {999u, 1000u}) {
    std::string reason;
    EXPECT_FALSE(ApplyBody(SampleLedger(), Body{{Candidate(pow_height)}}, &reason));
    EXPECT_EQ(reason.rfind("candidate_not_newer:", 0), 0u) << reason;
  }
}

TEST(LedgerTest, ApplyRejectsBodyThatOverfillsLedger) {
  Ledger parent;
  parent.proposer_blocks.assign(kLedgerProposerBlocksMax - 1, Proposer("p"));
  std::string reason;
  EXPECT_TRUE(ApplyBody(parent, Body{{Proposer("fits")}}, &reason)) << reason;
  EXPECT_FALSE(ApplyBody(parent, Body{{Proposer("a"), Proposer("b")}}, &reason));
  EXPECT_EQ(reason.rfind("ledger_full:", 0), 0u) << reason;
}

TEST(LedgerTest, ApplyCandidateEmptiesFullLedger) {
  Ledger parent = SampleLedger();
  parent.proposer_blocks.assign(kLedgerProposerBlocksMax, Proposer("p"));
  std::string reason;
  const std::optional<Ledger> ledger =
      ApplyBody(parent, Body{{Candidate(1001), Proposer("after")}}, &reason);
  ASSERT_TRUE(ledger.has_value()) << reason;
  EXPECT_EQ(ledger->proposer_blocks.size(), 1u);
}

}  // namespace
}  // namespace metronome
