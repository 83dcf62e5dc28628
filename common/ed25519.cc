#include "common/ed25519.h"

#include <sodium.h>

#include "common/assert.h"

namespace metronome {
namespace {

void EnsureSodium() {
  // sodium_init() is idempotent and thread-safe; it returns 1 when already done.
  static const int rc = sodium_init();
  METRONOME_ASSERT(rc >= 0);
}

}  // namespace

SigningKey SigningKey::Generate() {
  EnsureSodium();
  Seed seed;
  randombytes_buf(seed.data(), seed.size());
  SigningKey key = FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

SigningKey SigningKey::FromSeed(const Seed& seed) {
  EnsureSodium();
  SigningKey key;
  key.seed_ = seed;
  const int rc =
      crypto_sign_seed_keypair(key.public_key_.data(), key.secret_key_.data(), seed.data());
  METRONOME_ASSERT(rc == 0);
  return key;
}

SigningKey::~SigningKey() {
  sodium_memzero(seed_.data(), seed_.size());
  sodium_memzero(secret_key_.data(), secret_key_.size());
}

Signature SigningKey::Sign(const uint8_t* message, size_t size) const {
  Signature signature;
  const int rc = crypto_sign_detached(signature.data(), nullptr, message, size, secret_key_.data());
  METRONOME_ASSERT(rc == 0);
  return signature;
}

bool VerifySignature(const PublicKey& public_key, const uint8_t* message, size_t size,
                     const Signature& signature) {
  EnsureSodium();
  return crypto_sign_verify_detached(signature.data(), message, size, public_key.data()) == 0;
}

Bytes TaggedMessage(std::string_view domain_tag, const Hash256& federation_id,
                    const Bytes& payload) {
  METRONOME_ASSERT(!domain_tag.empty());
  METRONOME_ASSERT(domain_tag.size() <= 255);
  Bytes message;
  message.reserve(1 + domain_tag.size() + federation_id.size() + payload.size());
  message.push_back(static_cast<uint8_t>(domain_tag.size()));
  message.insert(message.end(), domain_tag.begin(), domain_tag.end());
  message.insert(message.end(), federation_id.begin(), federation_id.end());
  message.insert(message.end(), payload.begin(), payload.end());
  return message;
}

Signature SignTagged(const SigningKey& key, std::string_view domain_tag,
                     const Hash256& federation_id, const Bytes& payload) {
  return key.Sign(TaggedMessage(domain_tag, federation_id, payload));
}

bool VerifyTagged(const PublicKey& public_key, std::string_view domain_tag,
                  const Hash256& federation_id, const Bytes& payload, const Signature& signature) {
  return VerifySignature(public_key, TaggedMessage(domain_tag, federation_id, payload), signature);
}

}  // namespace metronome
