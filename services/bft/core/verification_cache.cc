#include "services/bft/core/verification_cache.h"

#include <sodium.h>

#include "common/assert.h"

namespace metronome::bft {

VerificationCache::VerificationCache(size_t entries_max) : entries_max_(entries_max) {
  METRONOME_ASSERT(entries_max > 0);
}

bool VerificationCache::Verify(const PublicKey& key, const Bytes& message,
                               const Signature& signature) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, 32);
  crypto_generichash_update(&state, key.data(), key.size());
  crypto_generichash_update(&state, signature.data(), signature.size());
  crypto_generichash_update(&state, message.data(), message.size());
  Hash256 digest;
  crypto_generichash_final(&state, digest.data(), digest.size());
  if (verified_.count(digest) != 0) {
    ++hits_;
    return true;
  }
  ++verifications_;
  if (!VerifySignature(key, message, signature)) return false;
  verified_.insert(digest);
  order_.push_back(digest);
  if (order_.size() > entries_max_) {
    verified_.erase(order_.front());
    order_.pop_front();
  }
  METRONOME_ASSERT(verified_.size() <= entries_max_);
  return true;
}

bool VerificationCache::VerifyThunk(void* cache, const PublicKey& key, const Bytes& message,
                                    const Signature& signature) {
  return static_cast<VerificationCache*>(cache)->Verify(key, message, signature);
}

}  // namespace metronome::bft
