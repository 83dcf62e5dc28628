#include "tools/bench/bench_report.h"

#include <limits.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/metrics.h"

namespace metronome::bench {
namespace {

std::string FirstMatch(const std::string& path, const std::string& prefix) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind(prefix, 0) == 0) {
      const size_t colon = line.find(':');
      std::string value = colon == std::string::npos ? line : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "unknown";
}

std::string Cell(const nlohmann::json& value) {
  if (value.is_number_float()) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(value.get<double>() < 10 ? 2 : 0) << value.get<double>();
    return out.str();
  }
  return value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace

nlohmann::json MachineDescription() {
  utsname name;
  uname(&name);
  return {{"cpu", FirstMatch("/proc/cpuinfo", "model name")},
          {"cores", std::thread::hardware_concurrency()},
          {"memory", FirstMatch("/proc/meminfo", "MemTotal")},
          {"kernel", std::string(name.sysname) + " " + name.release},
          {"metronome_version", MetronomeVersion()}};
}

BenchFlags ParseBenchFlags(int argc, char** argv) {
  BenchFlags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json" && i + 1 < argc) flags.json_path = argv[++i];
    if (arg == "--version") flags.version = true;
  }
  return flags;
}

void Report(const std::string& name, const std::vector<std::string>& columns,
            const nlohmann::json& rows, const BenchFlags& flags) {
  std::vector<size_t> widths;
  for (const std::string& column : columns) {
    size_t width = column.size();
    for (const nlohmann::json& row : rows) width = std::max(width, Cell(row[column]).size());
    widths.push_back(width);
  }
  std::cout << name << " on " << MachineDescription()["cpu"].get<std::string>() << "\n";
  for (size_t i = 0; i < columns.size(); ++i) std::cout << std::setw(widths[i] + 2) << columns[i];
  std::cout << "\n";
  for (const nlohmann::json& row : rows) {
    for (size_t i = 0; i < columns.size(); ++i) {
      std::cout << std::setw(widths[i] + 2) << Cell(row[columns[i]]);
    }
    std::cout << "\n";
  }
  if (!flags.json_path.empty()) {
    nlohmann::json report = {{"bench", name}, {"machine", MachineDescription()}, {"results", rows}};
    std::ofstream(flags.json_path) << report.dump(2) << "\n";
    std::cout << "wrote " << flags.json_path << "\n";
  }
}

std::string EnterRunfiles(const std::string& name) {
  char self[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (length <= 0) {
    std::cerr << "error: cannot read /proc/self/exe\n";
    return "";
  }
  self[length] = '\0';
  const std::string runfiles = std::string(self) + ".runfiles/metronome";
  if (chdir(runfiles.c_str()) != 0) {
    std::cerr << "error: no runfiles at " << runfiles << "\n";
    return "";
  }
  std::string directory = "/tmp/metronome-bench-" + name + "-XXXXXX";
  if (mkdtemp(directory.data()) == nullptr) {
    std::cerr << "error: cannot create " << directory << "\n";
    return "";
  }
  setenv("TEST_TMPDIR", directory.c_str(), 1);
  return directory;
}

}  // namespace metronome::bench
