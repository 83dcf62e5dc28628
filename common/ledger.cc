#include "common/ledger.h"

#include "common/assert.h"
#include "common/domain_tags.h"
#include "common/hash.h"

namespace metronome {

void EncodeLedger(const Ledger& ledger, Writer* writer) {
  METRONOME_ASSERT(ledger.proposer_blocks.size() <= kLedgerProposerBlocksMax);
  writer->Kind(ArtefactKind::kLedger);
  if (ledger.last_checkpoint) {
    METRONOME_ASSERT(ledger.last_checkpoint->is_candidate());
    writer->U8(1);
    EncodeTransaction(*ledger.last_checkpoint, writer);
  } else {
    writer->U8(0);
  }
  writer->U32(static_cast<uint32_t>(ledger.proposer_blocks.size()));
  for (const Transaction& block : ledger.proposer_blocks) {
    METRONOME_ASSERT(!block.is_candidate());
    EncodeTransaction(block, writer);
  }
}

Bytes EncodeLedger(const Ledger& ledger) {
  Writer writer;
  EncodeLedger(ledger, &writer);
  return writer.Take();
}

Ledger DecodeLedger(Reader* reader) {
  Ledger ledger;
  reader->ExpectKind(ArtefactKind::kLedger);
  const uint8_t has_checkpoint = reader->U8();
  if (!reader->ok()) return {};
  if (has_checkpoint > 1) {
    reader->Fail("ledger has_checkpoint flag " + std::to_string(has_checkpoint) +
                 " is neither 0 nor 1");
    return {};
  }
  if (has_checkpoint == 1) {
    Transaction checkpoint = DecodeTransaction(reader);
    if (!reader->ok()) return {};
    if (!checkpoint.is_candidate()) {
      reader->Fail("ledger checkpoint is not a checkpoint candidate");
      return {};
    }
    ledger.last_checkpoint = std::move(checkpoint);
  }
  const uint32_t count = reader->Count(kLedgerProposerBlocksMax, "ledger proposer block");
  for (uint32_t i = 0; i < count && reader->ok(); ++i) {
    Transaction block = DecodeTransaction(reader);
    if (reader->ok() && block.is_candidate()) {
      reader->Fail("ledger proposer block " + std::to_string(i) + " is a checkpoint candidate");
    }
    ledger.proposer_blocks.push_back(std::move(block));
  }
  if (!reader->ok()) return {};
  return ledger;
}

Hash256 LedgerHash(const Ledger& ledger) {
  return TaggedHash(kTagLedgerHash, EncodeLedger(ledger));
}

std::optional<Ledger> ApplyBody(const Ledger& parent, const Body& body, std::string* reason) {
  METRONOME_ASSERT(reason != nullptr);
  std::optional<size_t> candidate_index;
  for (size_t i = 0; i < body.transactions.size(); ++i) {
    if (!body.transactions[i].is_candidate()) continue;
    if (candidate_index) {
      *reason = "two_candidates: transactions " + std::to_string(*candidate_index) + " and " +
                std::to_string(i) + " are both checkpoint candidates";
      return std::nullopt;
    }
    candidate_index = i;
  }
  if (candidate_index && parent.last_checkpoint) {
    const uint64_t height = body.transactions[*candidate_index].candidate().pow_height;
    const uint64_t parent_height = parent.last_checkpoint->candidate().pow_height;
    if (height <= parent_height) {
      *reason = "candidate_not_newer: candidate pow_height " + std::to_string(height) +
                " is not above the last checkpoint's " + std::to_string(parent_height);
      return std::nullopt;
    }
  }
  // Only the proposer blocks after the candidate (or all, without one) survive, so the
  // size is known before anything is copied.
  const size_t first_kept = candidate_index ? *candidate_index + 1 : 0;
  const size_t kept_from_parent = candidate_index ? 0 : parent.proposer_blocks.size();
  const size_t proposer_blocks_count = kept_from_parent + (body.transactions.size() - first_kept);
  if (proposer_blocks_count > kLedgerProposerBlocksMax) {
    *reason = "ledger_full: " + std::to_string(proposer_blocks_count) +
              " proposer blocks exceed the maximum " + std::to_string(kLedgerProposerBlocksMax);
    return std::nullopt;
  }
  Ledger ledger;
  if (candidate_index) {
    ledger.last_checkpoint = body.transactions[*candidate_index];
  } else {
    ledger = parent;
  }
  ledger.proposer_blocks.insert(ledger.proposer_blocks.end(),
                                body.transactions.begin() + first_kept, body.transactions.end());
  return ledger;
}

}  // namespace metronome
