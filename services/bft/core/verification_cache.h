#ifndef METRONOME_SERVICES_BFT_CORE_VERIFICATION_CACHE_H_
#define METRONOME_SERVICES_BFT_CORE_VERIFICATION_CACHE_H_

#include <deque>
#include <set>

#include "common/ed25519.h"

namespace metronome::bft {

// Remembers signatures that verified (by a digest of key, message and signature), so a
// vote seen first alone and again inside a QC is verified once. Only successes are
// remembered; a cache hit is exactly as trustworthy as a fresh verification. Bounded
// (oldest forgotten first). Pure; not thread-safe. The simulator shares one between
// replicas to save time; a replica alone gets the same answers either way.
class VerificationCache {
 public:
  explicit VerificationCache(size_t entries_max = 8192);

  bool Verify(const PublicKey& key, const Bytes& message, const Signature& signature);
  // Adapter for VerifyQuorumCertificate's SignatureVerifier.
  static bool VerifyThunk(void* cache, const PublicKey& key, const Bytes& message,
                          const Signature& signature);

  uint64_t hits() const { return hits_; }
  uint64_t verifications() const { return verifications_; }

 private:
  size_t entries_max_;
  std::set<Hash256> verified_;
  std::deque<Hash256> order_;
  uint64_t hits_ = 0;
  uint64_t verifications_ = 0;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_VERIFICATION_CACHE_H_
