#ifndef METRONOME_COMMON_VERIFIER_CERTIFICATE_VERIFIER_H_
#define METRONOME_COMMON_VERIFIER_CERTIFICATE_VERIFIER_H_

#include <cstddef>
#include <cstdint>
#include <string>

// The checkpoint certificate verifier: what a PoW node links to decide whether a
// certificate is final. It depends on libsodium and the C/C++ runtime only (a test
// reads its link dependencies), takes bytes and returns a verdict; file parsing is the
// caller's business. Thread-safe; never throws; never aborts on any input.

namespace metronome {

enum class CertificateVerdict {
  kValid = 0,
  kMalformedFederation,   // The federation bytes do not decode or are inconsistent.
  kMalformedCertificate,  // The certificate bytes do not decode canonically.
  kTooManyHeaders,        // More headers than the caller's maximum (or none).
  kBrokenHeaderChain,     // Check 1: a header is not the parent of the next.
  kQcNotOverLastHeader,   // Check 2: the QC is not a Commit QC over the last header.
  kQcRejected,            // Check 3: the QC does not verify against the federation.
  kBadMerkleProof,        // Check 4: the candidate is not in the first header's body.
  kNotACandidate,         // The certified transaction is not a checkpoint candidate.
  kWrongChain,            // The candidate names another chain than the federation.
};

struct CertificateCheck {
  CertificateVerdict verdict = CertificateVerdict::kMalformedCertificate;
  std::string reason;  // One line, naming what failed; "valid" when it passed.
  bool ok() const { return verdict == CertificateVerdict::kValid; }
};

const char* CertificateVerdictName(CertificateVerdict verdict);

// Verifies a canonical certificate against canonical federation bytes, in the order:
// header chain, QC over the last header, QC against the federation, Merkle proof.
CertificateCheck VerifyCertificate(const uint8_t* federation_bytes, size_t federation_size,
                                   const uint8_t* certificate_bytes, size_t certificate_size,
                                   uint32_t headers_max);

}  // namespace metronome

#endif  // METRONOME_COMMON_VERIFIER_CERTIFICATE_VERIFIER_H_
