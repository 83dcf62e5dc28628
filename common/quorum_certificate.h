#ifndef METRONOME_COMMON_QUORUM_CERTIFICATE_H_
#define METRONOME_COMMON_QUORUM_CERTIFICATE_H_

#include <vector>

#include "common/canonical.h"
#include "common/ed25519.h"
#include "common/federation.h"

namespace metronome {

enum class Phase : uint8_t { kPrepare = 1, kPreCommit = 2, kCommit = 3 };
const char* PhaseName(Phase phase);
// True for the three voting phases; decoders reject every other phase byte.
bool IsVotingPhase(Phase phase);

// What a vote signs (DRAFT: the consensus-core issue fixes the vote format and may add
// fields). The payload is tagged with kTagVote and the federation id when signed.
//
// Encoding (kind 10): protocol_id:u32 phase:u8 view:u64 block_hash[32] justify_view:u64.
// justify_view is the view of the QC that justified the proposal voted for; the
// forensic monitor needs it to prove lock violations.
struct VoteStatement {
  uint32_t protocol_id = kProtocolBasicHotStuff;
  Phase phase = Phase::kPrepare;
  uint64_t view = 0;
  Hash256 block_hash{};
  uint64_t justify_view = 0;
};
Bytes EncodeVoteStatement(const VoteStatement& statement);
VoteStatement DecodeVoteStatement(Reader* reader);
Signature SignVote(const SigningKey& key, const Hash256& federation_id,
                   const VoteStatement& statement);

// A quorum certificate: q or more members' votes on one statement.
//
// Encoding (kind 4): phase:u8 view:u64 block_hash[32] justify_view:u64
// bitmap:bytes (exactly ceil(n/8) bytes, bit i = member i, least significant bit
// first) count:u32 signature[64]... (in member order).
struct QuorumCertificate {
  Phase phase = Phase::kPrepare;
  uint64_t view = 0;
  Hash256 block_hash{};
  uint64_t justify_view = 0;
  Bytes signer_bitmap;
  std::vector<Signature> signatures;

  VoteStatement statement(uint32_t protocol_id) const {
    return VoteStatement{protocol_id, phase, view, block_hash, justify_view};
  }
  bool operator==(const QuorumCertificate& other) const;
};

void EncodeQuorumCertificate(const QuorumCertificate& qc, Writer* writer);
Bytes EncodeQuorumCertificate(const QuorumCertificate& qc);
QuorumCertificate DecodeQuorumCertificate(Reader* reader);

// The member indices set in the bitmap, ascending.
std::vector<uint32_t> SignerIndices(const Bytes& signer_bitmap);

enum class QcVerdict {
  kValid,
  kBadPhase,                // Not one of the three voting phases.
  kBadBitmapLength,         // Not exactly ceil(n/8) bytes.
  kSignerOutOfRange,        // A bit at or past n is set.
  kTooFewSigners,           // Fewer than q bits set.
  kSignatureCountMismatch,  // Signatures do not match the bitmap one to one.
  kBadSignature,            // A signature does not verify for its member.
};
const char* QcVerdictName(QcVerdict verdict);

// Verifies one Ed25519 signature; VerifySignature, or a caching wrapper of it.
using SignatureVerifier = bool (*)(void* context, const PublicKey& key, const Bytes& message,
                                   const Signature& signature);

// Checks `qc` against `federation`: a valid QC has at least q signer bits, none past n,
// and one verifying signature per bit, in member order. `verifier` (with `context`)
// replaces the plain signature check when given.
QcVerdict VerifyQuorumCertificate(const Federation& federation, const QuorumCertificate& qc,
                                  SignatureVerifier verifier = nullptr, void* context = nullptr);

// Builds a QC from (member index, signature) pairs in any order. For tests, tools and
// the leader; REQUIRES: indices < federation.n(), distinct.
QuorumCertificate AssembleQuorumCertificate(
    const Federation& federation, const VoteStatement& statement,
    const std::vector<std::pair<uint32_t, Signature>>& votes);

}  // namespace metronome

#endif  // METRONOME_COMMON_QUORUM_CERTIFICATE_H_
