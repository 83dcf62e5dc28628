#ifndef METRONOME_COMMON_ED25519_H_
#define METRONOME_COMMON_ED25519_H_

#include <string_view>

#include "common/bytes.h"

namespace metronome {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;
using Seed = std::array<uint8_t, 32>;

// An Ed25519 signing key (libsodium), derived from a 32-byte seed as in RFC 8032.
// The secret is wiped when the object dies. Thread-compatible: const methods may be
// called concurrently.
class SigningKey {
 public:
  // A fresh key from the operating system's randomness.
  static SigningKey Generate();
  static SigningKey FromSeed(const Seed& seed);

  SigningKey(const SigningKey& other) = default;
  SigningKey& operator=(const SigningKey& other) = default;
  ~SigningKey();

  const PublicKey& public_key() const { return public_key_; }
  const Seed& seed() const { return seed_; }

  // A detached signature over exactly `message`. Most callers want SignTagged().
  Signature Sign(const uint8_t* message, size_t size) const;
  Signature Sign(const Bytes& message) const { return Sign(message.data(), message.size()); }

 private:
  SigningKey() = default;

  Seed seed_{};
  PublicKey public_key_{};
  std::array<uint8_t, 64> secret_key_{};
};

// True when `signature` is a valid Ed25519 signature by `public_key` over `message`.
// Rejects non-canonical encodings and small-order keys (libsodium's checks).
bool VerifySignature(const PublicKey& public_key, const uint8_t* message, size_t size,
                     const Signature& signature);
inline bool VerifySignature(const PublicKey& public_key, const Bytes& message,
                            const Signature& signature) {
  return VerifySignature(public_key, message.data(), message.size(), signature);
}

// Every signed payload is domain-separated and bound to one federation: the message
// actually signed is u8 tag length || tag || federation id || payload. A signature made
// for one purpose or one federation never verifies for another.
Bytes TaggedMessage(std::string_view domain_tag, const Hash256& federation_id,
                    const Bytes& payload);
Signature SignTagged(const SigningKey& key, std::string_view domain_tag,
                     const Hash256& federation_id, const Bytes& payload);
bool VerifyTagged(const PublicKey& public_key, std::string_view domain_tag,
                  const Hash256& federation_id, const Bytes& payload, const Signature& signature);

}  // namespace metronome

#endif  // METRONOME_COMMON_ED25519_H_
