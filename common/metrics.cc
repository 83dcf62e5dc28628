#include "common/metrics.h"

#include "absl/status/status.h"
#include "common/version.h"
#include "prometheus/exposer.h"
#include "prometheus/gauge.h"

namespace metronome {

const char* MetronomeVersion() { return kMetronomeVersion; }

Metrics::Metrics(const std::string& service)
    : service_(service), registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::BuildGauge()
      .Name("metronome_build_info")
      .Help("Build information; the value is always 1.")
      .Register(*registry_)
      .Add({{"service", service}, {"version", kMetronomeVersion}})
      .Set(1);
}

Metrics::~Metrics() = default;

absl::StatusOr<int> Metrics::Serve(const std::string& address) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& error) {
    return absl::UnavailableError("metrics listener " + address + ": cannot bind (" + error.what() +
                                  ")");
  }
  exposer_->RegisterCollectable(registry_);
  const std::vector<int> ports = exposer_->GetListeningPorts();
  if (ports.empty()) return absl::UnavailableError("metrics listener " + address + ": no port");
  return ports.front();
}

}  // namespace metronome
