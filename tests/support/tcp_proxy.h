#ifndef METRONOME_TESTS_SUPPORT_TCP_PROXY_H_
#define METRONOME_TESTS_SUPPORT_TCP_PROXY_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// A loopback TCP proxy for partition tests: listens on 127.0.0.1:<port> and forwards
// each connection to 127.0.0.1:<target_port>. SetPartitioned(true) models a network
// partition the way a cut cable looks to both ends: bytes stop flowing (in both
// directions, on open connections and on new ones) but nothing is closed, so the
// endpoints must notice by themselves (heartbeats, silence timeouts). Healing lets bytes
// flow again; connections the endpoints gave up on stay closed. Thread-safe; tests only.
namespace metronome::testing {

class TcpProxy {
 public:
  // Binds 127.0.0.1:listen_port (0: any free port). Aborts the test binary when it
  // cannot bind (a test setup error, not a condition under test).
  TcpProxy(int listen_port, int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  void SetPartitioned(bool partitioned) { partitioned_ = partitioned; }
  bool partitioned() const { return partitioned_; }
  // Connections accepted so far.
  int connections() const { return connections_; }

 private:
  struct Pipe;
  void AcceptLoop();
  void Forward(int from_fd, int to_fd, std::shared_ptr<Pipe> pipe);

  int listen_fd_ = -1;
  int port_ = 0;
  int target_port_ = 0;
  std::atomic<bool> partitioned_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> forwarders_;  // Guarded by mutex_.
};

}  // namespace metronome::testing

#endif  // METRONOME_TESTS_SUPPORT_TCP_PROXY_H_
