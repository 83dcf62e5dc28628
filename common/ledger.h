#ifndef METRONOME_COMMON_LEDGER_H_
#define METRONOME_COMMON_LEDGER_H_

#include <optional>
#include <string>
#include <vector>

#include "common/block.h"
#include "common/canonical.h"

namespace metronome {

// The most proposer blocks a ledger holds between two checkpoints. A body that would
// push a ledger past it is invalid ("ledger_full"), so ledgers stay bounded.
constexpr uint32_t kLedgerProposerBlocksMax = 4096;

// The state of the bft application module (DESIGN §4): the last checkpoint (a
// candidate transaction) and the proposer blocks since. A block header's
// post_state_hash is the LedgerHash of the ledger after its body.
//
// Invariants (asserted by the encoder, checked as data by the decoder):
// last_checkpoint, when set, is a candidate; every proposer_blocks entry is a proposer
// block; at most kLedgerProposerBlocksMax of them.
//
// Encoding (kind 8): has_checkpoint:u8 (0 or 1) [transaction] count:u32 transaction...
struct Ledger {
  std::optional<Transaction> last_checkpoint;
  std::vector<Transaction> proposer_blocks;

  bool operator==(const Ledger& other) const {
    return last_checkpoint == other.last_checkpoint && proposer_blocks == other.proposer_blocks;
  }
};

void EncodeLedger(const Ledger& ledger, Writer* writer);
Bytes EncodeLedger(const Ledger& ledger);
// Fails `reader` on a flag other than 0 or 1, a checkpoint that is not a candidate, a
// proposer block entry that is not a proposer block, or a count above the maximum.
// Like every decoder, it leaves trailing bytes to the caller's reader->ExpectEnd().
Ledger DecodeLedger(Reader* reader);

// TaggedHash(kTagLedgerHash, EncodeLedger(ledger)).
Hash256 LedgerHash(const Ledger& ledger);

// The ledger after executing `body` on top of `parent`. Transactions apply in body
// order: a candidate becomes the last checkpoint and empties proposer_blocks; a proposer
// block is appended. Returns nullopt, with `reason` set to a stable code, a colon and
// details, when the body is invalid:
//   "two_candidates"       the body holds more than one candidate;
//   "candidate_not_newer"  the candidate's pow_height is not above the parent's
//                          checkpoint's pow_height;
//   "ledger_full"          the resulting ledger would exceed kLedgerProposerBlocksMax.
// `reason` is untouched on success. Chain rules (chain id, depth, ancestry) are the
// interpreter's business, not checked here.
std::optional<Ledger> ApplyBody(const Ledger& parent, const Body& body, std::string* reason);

}  // namespace metronome

#endif  // METRONOME_COMMON_LEDGER_H_
