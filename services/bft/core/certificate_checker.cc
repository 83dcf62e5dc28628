#include "services/bft/core/certificate_checker.h"

#include "common/assert.h"
#include "common/domain_tags.h"

namespace metronome::bft {

Block GenesisBlock(const Hash256& genesis_post_state_hash) {
  Block genesis;
  genesis.header.height = 0;
  genesis.header.view = 0;
  genesis.header.post_state_hash = genesis_post_state_hash;
  genesis.header.content_root = ContentRoot(genesis.body);
  return genesis;
}

QuorumCertificate GenesisQc(const Hash256& genesis_hash) {
  QuorumCertificate qc;
  qc.phase = Phase::kPrepare;
  qc.view = 0;
  qc.block_hash = genesis_hash;
  qc.justify_view = 0;
  return qc;
}

CertificateChecker::CertificateChecker(const Federation& federation, const Hash256& genesis_hash,
                                       VerificationCache* shared_cache)
    : federation_(federation),
      genesis_qc_(GenesisQc(genesis_hash)),
      cache_(shared_cache != nullptr ? shared_cache : &own_cache_) {}

bool CertificateChecker::ValidQc(const QuorumCertificate& qc) {
  if (qc.view == 0) return qc == genesis_qc_;
  return VerifyQuorumCertificate(federation_, qc, &VerificationCache::VerifyThunk, cache_) ==
         QcVerdict::kValid;
}

bool CertificateChecker::ValidTc(const TimeoutCertificate& tc) {
  if (tc.timeouts.size() < federation_.q() || tc.timeouts.size() > federation_.n()) return false;
  std::set<uint32_t> signers;
  for (const auto& [statement, signed_by] : tc.timeouts) {
    if (statement.view != tc.view || statement.protocol_id != federation_.protocol_id()) {
      return false;
    }
    if (!signers.insert(signed_by.signer).second) return false;
    if (!ValidSigned(kTagTimeout, EncodeTimeoutStatement(statement), signed_by)) return false;
  }
  return true;
}

bool CertificateChecker::ValidSigned(std::string_view tag, const Bytes& payload,
                                     const Signed& signed_by) {
  if (signed_by.signer >= federation_.n()) return false;
  return cache_->Verify(federation_.members()[signed_by.signer],
                        TaggedMessage(tag, federation_.id(), payload), signed_by.signature);
}

}  // namespace metronome::bft
