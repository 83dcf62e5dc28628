#include "services/pow_adapter/core/mining.h"

#include <cmath>

#include "common/assert.h"

namespace metronome::devchain {

uint64_t SplitMix64::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double SplitMix64::NextUnit() {
  // 53 random bits, shifted to (0, 1].
  return (static_cast<double>(Next() >> 11) + 1.0) * 0x1.0p-53;
}

uint64_t NextBlockDelayMs(SplitMix64* rng, double hash_rate_share, uint64_t block_interval_ms) {
  METRONOME_ASSERT(hash_rate_share > 0 && hash_rate_share <= 1 && block_interval_ms > 0);
  const double mean_ms = static_cast<double>(block_interval_ms) / hash_rate_share;
  const double delay_ms = -std::log(rng->NextUnit()) * mean_ms;
  // Cap far-out draws (probability e^-50) so the conversion cannot overflow.
  const double capped = std::min(delay_ms, 50.0 * mean_ms);
  return std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(capped)));
}

}  // namespace metronome::devchain
