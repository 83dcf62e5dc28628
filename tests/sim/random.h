#ifndef METRONOME_TESTS_SIM_RANDOM_H_
#define METRONOME_TESTS_SIM_RANDOM_H_

#include <cmath>
#include <cstdint>

namespace metronome::sim {

// splitmix64: a tiny generator whose sequence is the same on every platform, so a seed
// replays a run exactly. Not thread-safe.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Range(uint64_t low, uint64_t high) { return low + Next() % (high - low + 1); }
  bool Chance(double probability) { return (Next() >> 11) * 0x1.0p-53 < probability; }
  // Exponentially distributed, for Poisson arrivals.
  uint64_t Exponential(double mean) {
    const double uniform = ((Next() >> 11) + 1) * 0x1.0p-53;
    return static_cast<uint64_t>(-std::log(uniform) * mean);
  }

 private:
  uint64_t state_;
};

}  // namespace metronome::sim

#endif  // METRONOME_TESTS_SIM_RANDOM_H_
