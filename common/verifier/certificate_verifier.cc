#include "common/verifier/certificate_verifier.h"

#include "common/checkpoint_certificate.h"
#include "common/federation.h"

namespace metronome {
namespace {

CertificateCheck Reject(CertificateVerdict verdict, std::string detail) {
  return CertificateCheck{verdict, std::string(CertificateVerdictName(verdict)) + ": " + detail};
}

}  // namespace

const char* CertificateVerdictName(CertificateVerdict verdict) {
  switch (verdict) {
    case CertificateVerdict::kValid:
      return "valid";
    case CertificateVerdict::kMalformedFederation:
      return "malformed federation";
    case CertificateVerdict::kMalformedCertificate:
      return "malformed certificate";
    case CertificateVerdict::kTooManyHeaders:
      return "bad header count";
    case CertificateVerdict::kBrokenHeaderChain:
      return "broken header chain";
    case CertificateVerdict::kQcNotOverLastHeader:
      return "commit QC not over the last header";
    case CertificateVerdict::kQcRejected:
      return "commit QC rejected";
    case CertificateVerdict::kBadMerkleProof:
      return "bad Merkle proof";
    case CertificateVerdict::kNotACandidate:
      return "not a checkpoint candidate";
    case CertificateVerdict::kWrongChain:
      return "wrong chain";
  }
  return "unknown";
}

CertificateCheck VerifyCertificate(const uint8_t* federation_bytes, size_t federation_size,
                                   const uint8_t* certificate_bytes, size_t certificate_size,
                                   uint32_t headers_max) {
  Reader federation_reader(federation_bytes, federation_size);
  std::optional<Federation> federation = Federation::Decode(&federation_reader);
  federation_reader.ExpectEnd();
  if (!federation_reader.ok()) {
    return Reject(CertificateVerdict::kMalformedFederation, federation_reader.error());
  }

  Reader reader(certificate_bytes, certificate_size);
  const CheckpointCertificate certificate = DecodeCheckpointCertificate(&reader);
  reader.ExpectEnd();
  if (!reader.ok()) return Reject(CertificateVerdict::kMalformedCertificate, reader.error());
  // Canonical means one encoding per value: re-encoding must give the same bytes.
  const Bytes reencoded = EncodeCheckpointCertificate(certificate);
  if (reencoded.size() != certificate_size ||
      !std::equal(reencoded.begin(), reencoded.end(), certificate_bytes)) {
    return Reject(CertificateVerdict::kMalformedCertificate, "not in canonical form");
  }

  const size_t header_count = certificate.headers.size();
  if (header_count == 0 || header_count > headers_max) {
    return Reject(
        CertificateVerdict::kTooManyHeaders,
        std::to_string(header_count) + " headers, allowed 1 to " + std::to_string(headers_max));
  }
  for (size_t i = 0; i + 1 < header_count; ++i) {
    const Header& parent = certificate.headers[i];
    const Header& child = certificate.headers[i + 1];
    if (child.parent_hash != HeaderHash(parent) || child.height != parent.height + 1) {
      return Reject(
          CertificateVerdict::kBrokenHeaderChain,
          "header " + std::to_string(i + 1) + " does not extend header " + std::to_string(i));
    }
  }

  const QuorumCertificate& qc = certificate.commit_qc;
  if (qc.phase != Phase::kCommit) {
    return Reject(CertificateVerdict::kQcNotOverLastHeader,
                  std::string("QC phase is ") + PhaseName(qc.phase) + ", not commit");
  }
  if (qc.block_hash != HeaderHash(certificate.headers.back())) {
    return Reject(CertificateVerdict::kQcNotOverLastHeader,
                  "QC block hash " + ToHex(qc.block_hash) + " is not the last header's hash");
  }

  const QcVerdict qc_verdict = VerifyQuorumCertificate(*federation, qc);
  if (qc_verdict != QcVerdict::kValid) {
    return Reject(CertificateVerdict::kQcRejected,
                  std::string(QcVerdictName(qc_verdict)) + " (federation " +
                      FederationFingerprint(federation->id()) + ")");
  }

  if (!certificate.candidate.is_candidate()) {
    return Reject(CertificateVerdict::kNotACandidate,
                  "the certified transaction is a proposer block");
  }
  if (!VerifyMerkleProof(certificate.proof, TransactionLeafHash(certificate.candidate),
                         certificate.headers.front().content_root)) {
    return Reject(CertificateVerdict::kBadMerkleProof,
                  "candidate not included at leaf " + std::to_string(certificate.proof.leaf_index) +
                      " of " + std::to_string(certificate.proof.leaf_count));
  }
  const std::string& chain_id = certificate.candidate.candidate().chain_id;
  if (chain_id != federation->chain_id()) {
    return Reject(CertificateVerdict::kWrongChain, "candidate is for chain '" + chain_id +
                                                       "', federation for '" +
                                                       federation->chain_id() + "'");
  }
  return CertificateCheck{CertificateVerdict::kValid, "valid"};
}

}  // namespace metronome
