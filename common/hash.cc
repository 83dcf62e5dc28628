#include "common/hash.h"

#include <sodium.h>

#include "common/assert.h"

namespace metronome {

Hash256 Blake2b256(const uint8_t* data, size_t size) {
  Hash256 out;
  const int rc = crypto_generichash(out.data(), out.size(), data, size, nullptr, 0);
  METRONOME_ASSERT(rc == 0);
  return out;
}

Hash256 TaggedHash(std::string_view domain_tag, const uint8_t* data, size_t size) {
  METRONOME_ASSERT(!domain_tag.empty());
  METRONOME_ASSERT(domain_tag.size() <= 255);
  crypto_generichash_state state;
  METRONOME_ASSERT(crypto_generichash_init(&state, nullptr, 0, 32) == 0);
  const uint8_t length = static_cast<uint8_t>(domain_tag.size());
  crypto_generichash_update(&state, &length, 1);
  crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(domain_tag.data()),
                            domain_tag.size());
  crypto_generichash_update(&state, data, size);
  Hash256 out;
  METRONOME_ASSERT(crypto_generichash_final(&state, out.data(), out.size()) == 0);
  return out;
}

}  // namespace metronome
