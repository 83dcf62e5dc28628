#ifndef METRONOME_COMMON_PROTO_BYTES_H_
#define METRONOME_COMMON_PROTO_BYTES_H_

#include <algorithm>
#include <array>
#include <string>

#include "common/bytes.h"

// Conversions from our byte types to protobuf `bytes` fields (std::string); the other
// way is BytesOf in common/bytes.h.
namespace metronome {

inline std::string StringOf(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}
inline std::string StringOf(const Bytes& data) { return StringOf(data.data(), data.size()); }
template <size_t N>
std::string StringOf(const std::array<uint8_t, N>& data) {
  return StringOf(data.data(), N);
}

// Copies a fixed-size field; false (and `to` untouched) when the length is wrong.
template <size_t N>
bool CopyFixed(const std::string& from, std::array<uint8_t, N>* to) {
  if (from.size() != N) return false;
  std::copy(from.begin(), from.end(), to->begin());
  return true;
}

}  // namespace metronome

#endif  // METRONOME_COMMON_PROTO_BYTES_H_
