#ifndef METRONOME_SERVICES_BFT_CORE_CERTIFICATE_CHECKER_H_
#define METRONOME_SERVICES_BFT_CORE_CERTIFICATE_CHECKER_H_

#include <set>
#include <string_view>

#include "services/bft/core/messages.h"
#include "services/bft/core/verification_cache.h"

namespace metronome::bft {

// The genesis block of a federation: height 0, view 0, no parent, an empty body and
// the application's initial ledger hash.
Block GenesisBlock(const Hash256& genesis_post_state_hash);

// The genesis QC: a Prepare QC of view 0 over the genesis block with no signatures. It is
// the only QC valid without a quorum, and only at view 0 (the original accepted it at
// any view, letting a faulty member pull others to arbitrary views).
QuorumCertificate GenesisQc(const Hash256& genesis_hash);

// Verifies QCs, timeout certificates and signed statements against one federation,
// through a VerificationCache (its own, or a shared one that outlives it). Pure; not
// thread-safe.
class CertificateChecker {
 public:
  CertificateChecker(const Federation& federation, const Hash256& genesis_hash,
                     VerificationCache* shared_cache = nullptr);

  bool ValidQc(const QuorumCertificate& qc);
  // q distinct members' valid timeouts, all for tc.view.
  bool ValidTc(const TimeoutCertificate& tc);
  // A valid signature by a member over TaggedMessage(tag, federation id, payload).
  bool ValidSigned(std::string_view tag, const Bytes& payload, const Signed& signed_by);

  const Federation& federation() const { return federation_; }
  const QuorumCertificate& genesis_qc() const { return genesis_qc_; }
  uint64_t verifications() const { return cache_->verifications(); }

 private:
  const Federation& federation_;
  QuorumCertificate genesis_qc_;
  VerificationCache own_cache_;
  VerificationCache* cache_;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_CERTIFICATE_CHECKER_H_
