#include "common/checkpoint_certificate.h"

#include "common/assert.h"

namespace metronome {

bool CheckpointCertificate::operator==(const CheckpointCertificate& other) const {
  return headers == other.headers && candidate == other.candidate && proof == other.proof &&
         commit_qc == other.commit_qc;
}

void EncodeCheckpointCertificate(const CheckpointCertificate& certificate, Writer* writer) {
  METRONOME_ASSERT(certificate.headers.size() <= kCertificateHeadersMax);
  writer->Kind(ArtefactKind::kCheckpointCertificate);
  writer->U32(static_cast<uint32_t>(certificate.headers.size()));
  for (const Header& header : certificate.headers) EncodeHeader(header, writer);
  EncodeTransaction(certificate.candidate, writer);
  EncodeMerkleProof(certificate.proof, writer);
  EncodeQuorumCertificate(certificate.commit_qc, writer);
}

Bytes EncodeCheckpointCertificate(const CheckpointCertificate& certificate) {
  Writer writer;
  EncodeCheckpointCertificate(certificate, &writer);
  return writer.Take();
}

CheckpointCertificate DecodeCheckpointCertificate(Reader* reader) {
  CheckpointCertificate certificate;
  reader->ExpectKind(ArtefactKind::kCheckpointCertificate);
  const uint32_t count = reader->Count(kCertificateHeadersMax, "header");
  for (uint32_t i = 0; i < count && reader->ok(); ++i) {
    certificate.headers.push_back(DecodeHeader(reader));
  }
  certificate.candidate = DecodeTransaction(reader);
  certificate.proof = DecodeMerkleProof(reader);
  certificate.commit_qc = DecodeQuorumCertificate(reader);
  return certificate;
}

CheckpointIdentity IdentityOf(const CheckpointCertificate& certificate) {
  METRONOME_ASSERT(certificate.candidate.is_candidate());
  const CheckpointCandidate& candidate = certificate.candidate.candidate();
  return CheckpointIdentity{candidate.chain_id, candidate.pow_height, candidate.pow_block_hash};
}

std::optional<CheckpointCertificate> MakeCheckpointCertificate(const std::vector<Header>& headers,
                                                               const Body& body,
                                                               const QuorumCertificate& commit_qc) {
  METRONOME_ASSERT(!headers.empty());
  METRONOME_ASSERT(headers.front().content_root == ContentRoot(body));
  METRONOME_ASSERT(commit_qc.block_hash == HeaderHash(headers.back()));
  std::optional<size_t> last_candidate;
  for (size_t i = 0; i < body.transactions.size(); ++i) {
    if (body.transactions[i].is_candidate()) last_candidate = i;
  }
  if (!last_candidate) return std::nullopt;
  std::vector<Hash256> leaves;
  for (const Transaction& transaction : body.transactions) {
    leaves.push_back(TransactionLeafHash(transaction));
  }
  CheckpointCertificate certificate;
  certificate.headers = headers;
  certificate.candidate = body.transactions[*last_candidate];
  certificate.proof = MakeMerkleProof(leaves, *last_candidate);
  certificate.commit_qc = commit_qc;
  return certificate;
}

}  // namespace metronome
