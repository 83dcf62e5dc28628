#ifndef METRONOME_SERVICES_BFT_SHELL_NODE_METRICS_H_
#define METRONOME_SERVICES_BFT_SHELL_NODE_METRICS_H_

#include <chrono>
#include <string>

// Small helpers the consensus node's files share for its metrics. Pure functions.
namespace metronome::bft {

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// "too_shallow: depth 3 < 6" -> "too_shallow": metric labels stay a small set.
inline std::string ReasonCode(const std::string& reason) {
  const size_t end = reason.find_first_of(": ");
  std::string code = reason.substr(0, end);
  return code.empty() ? "unspecified" : code.substr(0, 48);
}

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_SHELL_NODE_METRICS_H_
