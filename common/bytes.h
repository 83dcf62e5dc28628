#ifndef METRONOME_COMMON_BYTES_H_
#define METRONOME_COMMON_BYTES_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace metronome {

using Bytes = std::vector<uint8_t>;

// A BLAKE2b-256 digest, or any other 32-byte identifier.
using Hash256 = std::array<uint8_t, 32>;

// Lower-case hex of `data`.
std::string ToHex(const uint8_t* data, size_t size);
inline std::string ToHex(const Bytes& data) { return ToHex(data.data(), data.size()); }
template <size_t N>
std::string ToHex(const std::array<uint8_t, N>& data) {
  return ToHex(data.data(), N);
}

// Parses hex (either case, no prefix, even length). Returns nullopt on any other input.
std::optional<Bytes> FromHex(std::string_view hex);

// Parses exactly N bytes of hex. Returns nullopt on bad hex or a wrong length.
template <size_t N>
std::optional<std::array<uint8_t, N>> FixedFromHex(std::string_view hex) {
  std::optional<Bytes> bytes = FromHex(hex);
  if (!bytes || bytes->size() != N) return std::nullopt;
  std::array<uint8_t, N> out;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

// The bytes of `text`, without a terminator.
Bytes BytesOf(std::string_view text);

}  // namespace metronome

#endif  // METRONOME_COMMON_BYTES_H_
