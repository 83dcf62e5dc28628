#include "common/quorum_certificate.h"

#include <algorithm>
#include <string>

#include "common/assert.h"
#include "common/domain_tags.h"

namespace metronome {

bool IsVotingPhase(Phase phase) {
  return phase == Phase::kPrepare || phase == Phase::kPreCommit || phase == Phase::kCommit;
}

namespace {

size_t BitmapBytes(uint32_t n) { return (n + 7) / 8; }

// Peer bytes name a phase: anything but the three voting phases fails the decode, so no
// later code (vote sets, QC verdicts, metrics) ever sees an out-of-range enum.
Phase DecodePhase(Reader* reader) {
  const uint8_t value = reader->U8();
  const Phase phase = static_cast<Phase>(value);
  if (reader->ok() && !IsVotingPhase(phase)) {
    reader->Fail("phase " + std::to_string(value) + " is not a voting phase (1-3)");
    return Phase::kPrepare;
  }
  return phase;
}

}  // namespace

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kPrepare:
      return "prepare";
    case Phase::kPreCommit:
      return "pre-commit";
    case Phase::kCommit:
      return "commit";
  }
  return "unknown";
}

Bytes EncodeVoteStatement(const VoteStatement& statement) {
  Writer writer;
  writer.Kind(ArtefactKind::kVote);
  writer.U32(statement.protocol_id);
  writer.U8(static_cast<uint8_t>(statement.phase));
  writer.U64(statement.view);
  writer.Fixed(statement.block_hash);
  writer.U64(statement.justify_view);
  return writer.Take();
}

VoteStatement DecodeVoteStatement(Reader* reader) {
  VoteStatement statement;
  reader->ExpectKind(ArtefactKind::kVote);
  statement.protocol_id = reader->U32();
  statement.phase = DecodePhase(reader);
  statement.view = reader->U64();
  statement.block_hash = reader->Fixed<32>();
  statement.justify_view = reader->U64();
  return statement;
}

Signature SignVote(const SigningKey& key, const Hash256& federation_id,
                   const VoteStatement& statement) {
  return SignTagged(key, kTagVote, federation_id, EncodeVoteStatement(statement));
}

bool QuorumCertificate::operator==(const QuorumCertificate& other) const {
  return phase == other.phase && view == other.view && block_hash == other.block_hash &&
         justify_view == other.justify_view && signer_bitmap == other.signer_bitmap &&
         signatures == other.signatures;
}

void EncodeQuorumCertificate(const QuorumCertificate& qc, Writer* writer) {
  METRONOME_ASSERT(qc.signer_bitmap.size() <= BitmapBytes(kFederationMembersMax));
  METRONOME_ASSERT(qc.signatures.size() <= kFederationMembersMax);
  writer->Kind(ArtefactKind::kQuorumCertificate);
  writer->U8(static_cast<uint8_t>(qc.phase));
  writer->U64(qc.view);
  writer->Fixed(qc.block_hash);
  writer->U64(qc.justify_view);
  writer->LengthPrefixed(qc.signer_bitmap);
  writer->U32(static_cast<uint32_t>(qc.signatures.size()));
  for (const Signature& signature : qc.signatures) writer->Fixed(signature);
}

Bytes EncodeQuorumCertificate(const QuorumCertificate& qc) {
  Writer writer;
  EncodeQuorumCertificate(qc, &writer);
  return writer.Take();
}

QuorumCertificate DecodeQuorumCertificate(Reader* reader) {
  QuorumCertificate qc;
  reader->ExpectKind(ArtefactKind::kQuorumCertificate);
  qc.phase = DecodePhase(reader);
  qc.view = reader->U64();
  qc.block_hash = reader->Fixed<32>();
  qc.justify_view = reader->U64();
  qc.signer_bitmap = reader->LengthPrefixed(BitmapBytes(kFederationMembersMax));
  const uint32_t count = reader->Count(kFederationMembersMax, "signature");
  for (uint32_t i = 0; i < count && reader->ok(); ++i) qc.signatures.push_back(reader->Fixed<64>());
  return qc;
}

std::vector<uint32_t> SignerIndices(const Bytes& signer_bitmap) {
  std::vector<uint32_t> indices;
  for (size_t byte = 0; byte < signer_bitmap.size(); ++byte) {
    for (uint32_t bit = 0; bit < 8; ++bit) {
      if (signer_bitmap[byte] >> bit & 1) indices.push_back(static_cast<uint32_t>(byte * 8 + bit));
    }
  }
  return indices;
}

const char* QcVerdictName(QcVerdict verdict) {
  switch (verdict) {
    case QcVerdict::kValid:
      return "valid";
    case QcVerdict::kBadPhase:
      return "not a voting phase";
    case QcVerdict::kBadBitmapLength:
      return "signer bitmap has the wrong length for the federation";
    case QcVerdict::kSignerOutOfRange:
      return "signer bitmap names a member past n";
    case QcVerdict::kTooFewSigners:
      return "fewer signers than the quorum q";
    case QcVerdict::kSignatureCountMismatch:
      return "signature count differs from the signer bitmap";
    case QcVerdict::kBadSignature:
      return "a signature does not verify for its member";
  }
  return "unknown";
}

QcVerdict VerifyQuorumCertificate(const Federation& federation, const QuorumCertificate& qc,
                                  SignatureVerifier verifier, void* context) {
  if (!IsVotingPhase(qc.phase)) return QcVerdict::kBadPhase;
  if (qc.signer_bitmap.size() != BitmapBytes(federation.n())) return QcVerdict::kBadBitmapLength;
  const std::vector<uint32_t> signers = SignerIndices(qc.signer_bitmap);
  if (!signers.empty() && signers.back() >= federation.n()) return QcVerdict::kSignerOutOfRange;
  if (signers.size() < federation.q()) return QcVerdict::kTooFewSigners;
  if (signers.size() != qc.signatures.size()) return QcVerdict::kSignatureCountMismatch;
  const Bytes message = TaggedMessage(kTagVote, federation.id(),
                                      EncodeVoteStatement(qc.statement(federation.protocol_id())));
  for (size_t i = 0; i < signers.size(); ++i) {
    const PublicKey& key = federation.members()[signers[i]];
    const bool valid = verifier != nullptr ? verifier(context, key, message, qc.signatures[i])
                                           : VerifySignature(key, message, qc.signatures[i]);
    if (!valid) {
      return QcVerdict::kBadSignature;
    }
  }
  return QcVerdict::kValid;
}

QuorumCertificate AssembleQuorumCertificate(
    const Federation& federation, const VoteStatement& statement,
    const std::vector<std::pair<uint32_t, Signature>>& votes) {
  std::vector<std::pair<uint32_t, Signature>> sorted = votes;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  QuorumCertificate qc;
  qc.phase = statement.phase;
  qc.view = statement.view;
  qc.block_hash = statement.block_hash;
  qc.justify_view = statement.justify_view;
  qc.signer_bitmap.assign(BitmapBytes(federation.n()), 0);
  for (size_t i = 0; i < sorted.size(); ++i) {
    const uint32_t index = sorted[i].first;
    METRONOME_ASSERT(index < federation.n());
    METRONOME_ASSERT(i == 0 || sorted[i - 1].first != index);
    qc.signer_bitmap[index / 8] |= static_cast<uint8_t>(1u << (index % 8));
    qc.signatures.push_back(sorted[i].second);
  }
  return qc;
}

}  // namespace metronome
