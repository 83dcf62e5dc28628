#ifndef METRONOME_TESTS_INTEGRATION_BFT_BFT_HARNESS_H_
#define METRONOME_TESTS_INTEGRATION_BFT_BFT_HARNESS_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/child_process.h"
#include "metronome/v1/checkpoints.grpc.pb.h"
#include "metronome/v1/consensus_stream.grpc.pb.h"

// Runs a real federation for integration tests: `metronome testnet` makes the keys,
// federation file and configs; each member is a metronome-bft process plus a
// test_interpreter process (tests/integration/bft/test_interpreter.cc) attached to it.
// Processes are children of the test (killed with it: PR_SET_PDEATHSIG), their stdout
// and stderr appended to files in the testnet directory so restarts keep one history.
// Not thread-safe: drive it from the test's thread. Every wait has a deadline.
namespace metronome::bft::testing {

// Runfiles-relative paths of the binaries (tests run from the runfiles root).
constexpr char kBftBinary[] = "services/bft/metronome-bft";
// Test-only: the same service whose core also sends the attacks found on main.
constexpr char kByzantineBftBinary[] = "services/bft/metronome-bft-byzantine";
constexpr char kTestInterpreterBinary[] = "tests/integration/bft/test_interpreter";
constexpr char kCliBinary[] = "tools/metronome/metronome";

// Polls `condition` every `poll_ms` until it holds or `timeout_ms` passes; returns
// whether it held. For conditions that cost a scrape or an RPC (WaitFor polls every
// 10 ms, too often for those on a 2-core machine).
bool PollUntil(const std::function<bool()>& condition, int timeout_ms, int poll_ms = 200);

// The first of `count` consecutive loopback TCP ports that were all free a moment ago.
// Tries blocks from a per-process random start; aborts the test binary if none is found.
int FreePortBlock(int count);

// A directory for this test's files: $TEST_TMPDIR/<name> (created, must not exist).
std::string TestDirectory(const std::string& name);

using metronome::ChildProcess;  // common/child_process.h

// The last value of the first sample of `name` (exact name, optional labels) in
// Prometheus text; nullopt when it has no sample.
std::optional<double> MetricValue(const std::string& metrics_text, const std::string& name);
// Whether `labels` (e.g. reason="handshake_refused") occurs in a sample of `name`.
bool MetricHasSample(const std::string& metrics_text, const std::string& name,
                     const std::string& labels = "");

// One line of a bft's `committed` log: the last block a decision committed.
struct CommittedLine {
  uint64_t view = 0;
  uint64_t height = 0;
  std::string hash;  // Hex.
};

// A testnet of `members` bft members on a fresh port block.
class BftTestnet {
 public:
  // Runs `metronome testnet --members N --out <directory> --base-port P` on a free
  // port block. nullptr (with the CLI's output on stderr) on failure.
  static std::unique_ptr<BftTestnet> Create(const std::string& directory, int members);
  ~BftTestnet();

  int n() const { return members_; }
  const std::string& directory() const { return directory_; }
  std::string federation_file() const { return directory_ + "/federation.toml"; }
  std::string member_dir(int i) const;
  std::string bft_config(int i) const { return member_dir(i) + "/bft.toml"; }
  std::string data_dir(int i) const { return member_dir(i) + "/data/bft"; }
  std::string interpreter_key(int i) const { return member_dir(i) + "/interpreter.key"; }
  std::string certificates_dir(int i) const { return member_dir(i) + "/certificates"; }
  std::string bft_stderr_path(int i) const { return member_dir(i) + "/bft.stderr"; }
  // Ports as member i's bft.toml names them ([listen] federation, interpreter, public,
  // metrics); 0 when absent.
  int port(int i, const std::string& listener) const;
  std::string address(int i, const std::string& listener) const;

  // ---- bft processes.
  // Starts member i (with --set overrides) and waits until it logged "metronome-bft
  // started" and, when `peers_min` > 0, until its metronome_bft_peers_connected
  // reaches it. False (with the member's log of this start on stderr) when it exits
  // or is not ready within 30 s.
  bool StartBft(int i, const std::vector<std::string>& overrides = {}, int peers_min = 0,
                const std::string& binary = kBftBinary);
  // Starts every member, then waits until each has n-1 peers connected; false (with
  // the log of the member that exited or did not connect) otherwise.
  bool StartAllBfts();
  // kill -9, reaped; returns -SIGKILL (or -1 when it was not running).
  int KillBft(int i);
  // SIGTERM, reaped; returns the exit code (0 for a clean stop).
  int TerminateBft(int i);
  bool BftRunning(int i) { return bfts_[i]->Running(); }
  pid_t BftPid(int i) const { return bfts_[i]->pid(); }
  std::string BftStderr(int i) const;

  // ---- test interpreters.
  // Starts member i's test interpreter (extra flags appended, e.g. "--saturate") and,
  // when `wait_attached`, waits for its "attached" event.
  bool StartInterpreter(int i, const std::vector<std::string>& flags = {},
                        bool wait_attached = true);
  int TerminateInterpreter(int i);
  // Its stdout: one JSON event per line.
  std::string InterpreterEvents(int i) const;

  // ---- observation.
  std::string Metrics(int i) const;  // The text of /metrics; "" when unreachable.
  // A metric of member i; -1 when absent or unreachable.
  double Metric(int i, const std::string& name) const;
  // Every "committed" line member i logged (across restarts).
  std::vector<CommittedLine> CommittedLines(int i) const;
  // Checkpoints.Latest; nullopt on NOT_FOUND or an error.
  std::optional<v1::CheckpointReply> LatestCheckpoint(int i) const;
  // Every certificate member i retains, by PoW height (Checkpoints.Watch from 0, read
  // up to the Latest seen first).
  std::map<uint64_t, v1::CheckpointReply> Certificates(int i) const;
  // ConsensusStream.Subscribe: the records received until `enough(records so far)`
  // holds, `count_max` arrived or `timeout_ms` passed.
  std::vector<v1::StreamRecord> Subscribe(
      int i, uint64_t from_view, bool include_history, size_t count_max, int timeout_ms,
      const std::function<bool(const std::vector<v1::StreamRecord>&)>& enough = nullptr) const;

 private:
  BftTestnet(std::string directory, int members, int base_port);

  std::string directory_;
  int members_;
  int base_port_;
  std::vector<std::unique_ptr<ChildProcess>> bfts_;
  std::vector<std::unique_ptr<ChildProcess>> interpreters_;
};

}  // namespace metronome::bft::testing

#endif  // METRONOME_TESTS_INTEGRATION_BFT_BFT_HARNESS_H_
