#ifndef METRONOME_COMMON_HASH_H_
#define METRONOME_COMMON_HASH_H_

#include <string_view>

#include "common/bytes.h"

namespace metronome {

// BLAKE2b-256 (libsodium crypto_generichash, unkeyed) of `data`.
Hash256 Blake2b256(const uint8_t* data, size_t size);
inline Hash256 Blake2b256(const Bytes& data) { return Blake2b256(data.data(), data.size()); }

// BLAKE2b-256 over a domain tag and data: H(u8 tag length || tag || data), the same
// framing as signed messages (ed25519.h). Every hash
// the protocol relies on goes through this so that no two kinds of object can share a
// preimage.
Hash256 TaggedHash(std::string_view domain_tag, const uint8_t* data, size_t size);
inline Hash256 TaggedHash(std::string_view domain_tag, const Bytes& data) {
  return TaggedHash(domain_tag, data.data(), data.size());
}

}  // namespace metronome

#endif  // METRONOME_COMMON_HASH_H_
