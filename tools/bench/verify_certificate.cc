// How fast certificates (and the signatures inside them) are made and verified, for
// federations of 4, 7, 13 and 31 members. A PoW node verifies every certificate it
// enforces; this is its cost. Single thread.
#include <chrono>
#include <iostream>

#include "common/assert.h"
#include "common/checkpoint_certificate.h"
#include "common/metrics.h"
#include "common/test_support.h"
#include "common/verifier/certificate_verifier.h"
#include "tools/bench/bench_report.h"

namespace metronome::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Runs `operation` repeatedly for at least `duration_ms`; returns operations per second.
template <typename Operation>
double Rate(Operation operation, int duration_ms = 1000) {
  const auto start = Clock::now();
  const auto end = start + std::chrono::milliseconds(duration_ms);
  uint64_t count = 0;
  while (Clock::now() < end) {
    for (int i = 0; i < 16; ++i) operation();
    count += 16;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(count) / seconds;
}

nlohmann::json MeasureFederation(uint32_t n) {
  const testing::TestFederation test = testing::MakeTestFederation(n);
  const CheckpointCandidate candidate = testing::MakeTestCandidate("devchain", 1000);
  const Bytes certificate =
      EncodeCheckpointCertificate(testing::MakeCertificateSignedByQuorum(test, candidate));
  const Bytes& federation = test.federation.encoded();
  bool all_valid = true;
  const double verify_per_s = Rate([&] {
    all_valid &= VerifyCertificate(federation.data(), federation.size(), certificate.data(),
                                   certificate.size(), kCertificateHeadersDefault)
                     .ok();
  });
  METRONOME_ASSERT(all_valid);
  const double make_per_s = Rate([&] {
    const CheckpointCertificate made = testing::MakeCertificateSignedByQuorum(test, candidate);
    METRONOME_ASSERT(!made.headers.empty());
  });
  return {{"n", n},
          {"q", test.federation.q()},
          {"certificate_bytes", certificate.size()},
          {"verify_per_s", verify_per_s},
          {"us_per_verify", 1e6 / verify_per_s},
          {"sign_and_assemble_per_s", make_per_s}};
}

}  // namespace
}  // namespace metronome::bench

int main(int argc, char** argv) {
  using namespace metronome;
  const bench::BenchFlags flags = bench::ParseBenchFlags(argc, argv);
  if (flags.version) {
    std::cout << "verify_certificate " << MetronomeVersion() << "\n";
    return 0;
  }
  nlohmann::json rows = nlohmann::json::array();
  for (uint32_t n : {4u, 7u, 13u, 31u}) rows.push_back(bench::MeasureFederation(n));
  bench::Report(
      "verify_certificate",
      {"n", "q", "certificate_bytes", "verify_per_s", "us_per_verify", "sign_and_assemble_per_s"},
      rows, flags);
  return 0;
}
