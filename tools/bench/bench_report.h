#ifndef METRONOME_TOOLS_BENCH_BENCH_REPORT_H_
#define METRONOME_TOOLS_BENCH_BENCH_REPORT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace metronome::bench {

// The machine a benchmark ran on: CPU model, cores, memory, kernel, version.
nlohmann::json MachineDescription();

// Common flags of every bench binary: --json PATH (write results there), --version.
struct BenchFlags {
  std::string json_path;
  bool version = false;
};
BenchFlags ParseBenchFlags(int argc, char** argv);

// Prints `rows` as an aligned table (columns in `columns` order) and, when json_path is
// set, writes {"bench": name, "machine": ..., "results": rows} there.
void Report(const std::string& name, const std::vector<std::string>& columns,
            const nlohmann::json& rows, const BenchFlags& flags);

// For benchmarks that run the integration harnesses: moves into this binary's runfiles
// (the harnesses find the binaries relative to them) and points TEST_TMPDIR at a fresh
// directory /tmp/metronome-bench-NAME-XXXXXX, which it returns. Empty, with the reason
// on stderr, when the runfiles or the directory are missing.
std::string EnterRunfiles(const std::string& name);

}  // namespace metronome::bench

#endif  // METRONOME_TOOLS_BENCH_BENCH_REPORT_H_
