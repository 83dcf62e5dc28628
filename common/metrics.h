#ifndef METRONOME_COMMON_METRICS_H_
#define METRONOME_COMMON_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}

namespace metronome {

// A service's Prometheus metrics: one registry, served over HTTP at /metrics once
// Serve() is called. Metric names follow metronome_<service>_<what>_<unit>. Every
// registry carries metronome_build_info{service, version} = 1. Thread-safe (the
// prometheus-cpp registry is). Destroying a serving Metrics takes about 2 s (civetweb
// shutdown).
class Metrics {
 public:
  explicit Metrics(const std::string& service);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  prometheus::Registry& registry() { return *registry_; }
  const std::string& service() const { return service_; }

  // Starts serving on `address` ("127.0.0.1:0" picks a port). Returns the bound port.
  // Fails with a reason naming the address when it cannot bind.
  absl::StatusOr<int> Serve(const std::string& address);

 private:
  std::string service_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// The version in the VERSION file, compiled in.
const char* MetronomeVersion();

}  // namespace metronome

#endif  // METRONOME_COMMON_METRICS_H_
