#ifndef METRONOME_SERVICES_POW_ADAPTER_CORE_MINING_H_
#define METRONOME_SERVICES_POW_ADAPTER_CORE_MINING_H_

#include <cstdint>

// How devchain miners are paced (DESIGN §5): instead of burning the CPU, each miner
// draws the time to its next block from the distribution a real miner with its share of
// the hash rate would see, sleeps until then, and only then searches a nonce at the
// chain's easy target. Finding blocks is a Poisson process, so the delay is exponential
// with mean block_interval / share; n miners with shares summing to 1 produce one block
// per block_interval on average, and a miner with two thirds of the share finds two
// thirds of the blocks. Deterministic: the randomness is a seeded generator the caller
// owns.
namespace metronome::devchain {

// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and the same sequence on every
// platform, so a seed reproduces a run.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform in (0, 1]: never 0, so its logarithm is finite.
  double NextUnit();

 private:
  uint64_t state_;
};

// Milliseconds until this miner's next block; at least 1. REQUIRES 0 < share <= 1 and
// block_interval_ms > 0.
uint64_t NextBlockDelayMs(SplitMix64* rng, double hash_rate_share, uint64_t block_interval_ms);

}  // namespace metronome::devchain

#endif  // METRONOME_SERVICES_POW_ADAPTER_CORE_MINING_H_
