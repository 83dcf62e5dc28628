#ifndef METRONOME_COMMON_CHILD_PROCESS_H_
#define METRONOME_COMMON_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

// A child process for launchers (the devnet) and real-process tests: argv[0] exec'd
// with stdout and stderr appended to files, killed when its parent dies
// (PR_SET_PDEATHSIG), so nothing outlives the launcher. Not thread-safe.
namespace metronome {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGKILLs and reaps a child still running.
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // False (with a reason in `error`) when the log files cannot be opened or fork fails;
  // an exec failure shows as exit code 127.
  bool Spawn(const std::vector<std::string>& argv, const std::string& stdout_path,
             const std::string& stderr_path, std::string* error = nullptr);
  // Reaps the child if it has ended.
  bool Running();
  // Sends `signal` and waits up to `timeout_ms` for the end (then SIGKILL). Returns the
  // exit code, or -signal when a signal ended it; -1 when nothing was running.
  int Stop(int signal, int timeout_ms = 15000);
  // How the last child ended (valid once !Running()): exit code or -signal.
  int exit_status() const { return exit_status_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

}  // namespace metronome

#endif  // METRONOME_COMMON_CHILD_PROCESS_H_
