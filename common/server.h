#ifndef METRONOME_COMMON_SERVER_H_
#define METRONOME_COMMON_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace metronome {

// One gRPC listening address, by role ("federation", "interpreter", "public", ...).
struct Listener {
  std::string name;
  std::string address;  // host:port; port 0 picks a free one.
};

struct ServerSpec {
  std::string service_name;  // For errors and logs ("bft", "interpreter", ...).
  std::vector<Listener> listeners;
  std::vector<grpc::Service*> services;  // Borrowed; must outlive the server.
  // The largest message accepted or sent. Our own limits (max_message_bytes in the
  // services' configs) sit below this and are enforced per message.
  int grpc_message_bytes_max = 16 << 20;
};

// A running gRPC server with the standard grpc.health.v1 service (SERVING once
// started) and server reflection, on every listener. Thread-safe.
class RunningServer {
 public:
  ~RunningServer();
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  grpc::Server& server() { return *server_; }
  // The port each listener bound, by listener name.
  const std::map<std::string, int>& ports() const { return ports_; }
  // Sets the overall health status reported by grpc.health.v1 ("" service).
  void SetServing(bool serving);
  // Stops accepting calls and cancels running ones, waiting at most `deadline_ms`.
  void Shutdown(int deadline_ms = 2000);

 private:
  friend absl::StatusOr<std::unique_ptr<RunningServer>> StartServer(const ServerSpec& spec);
  RunningServer() = default;

  std::unique_ptr<grpc::Server> server_;
  std::map<std::string, int> ports_;
};

// Builds and starts the server. Fails with a reason naming the listener when an
// address cannot be bound (port in use, bad address).
absl::StatusOr<std::unique_ptr<RunningServer>> StartServer(const ServerSpec& spec);

// Writes {"<listener>": port, ...} to <data_dir>/ports.json, atomically, so tests and
// tools started with port 0 can find the service.
absl::Status WritePortsFile(const std::string& data_dir, const std::map<std::string, int>& ports);

}  // namespace metronome

#endif  // METRONOME_COMMON_SERVER_H_
