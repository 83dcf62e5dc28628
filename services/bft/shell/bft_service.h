#ifndef METRONOME_SERVICES_BFT_SHELL_BFT_SERVICE_H_
#define METRONOME_SERVICES_BFT_SHELL_BFT_SERVICE_H_

#include <atomic>
#include <caf/all.hpp>
#include <map>
#include <memory>

#include "absl/status/statusor.h"
#include "common/metrics.h"
#include "common/server.h"
#include "prometheus/counter.h"
#include "services/bft/shell/bft_config.h"
#include "services/bft/shell/bft_store.h"
#include "services/bft/shell/checkpoints_service.h"
#include "services/bft/shell/consensus_node.h"
#include "services/bft/shell/federation_transport.h"
#include "services/bft/shell/inbound_budget.h"
#include "services/bft/shell/interpreter_bridge.h"
#include "services/bft/shell/stream_publisher.h"

// One running metronome-bft: storage, the consensus actor, the federation transport,
// the interpreter bridge, the public ConsensusStream and Checkpoints services, metrics.
// Listeners (DESIGN §2): federation (public), interpreter (member-local), public
// (read-only streams), metrics. Each gRPC listener also serves health and reflection.
// Start and Stop from one thread.
namespace metronome::bft {

class BftService {
 public:
  // Opens the database under config.data_dir (refusing a foreign or locked one), binds
  // every listener (failing with the listener's name when a port is taken), writes
  // ports.json and starts consensus.
  static absl::StatusOr<std::unique_ptr<BftService>> Start(BftConfig config);
  ~BftService();

  // Stops serving and joins every thread. Idempotent.
  void Stop();
  const std::map<std::string, int>& ports() const { return ports_; }

 private:
  explicit BftService(BftConfig config);
  absl::Status Init();

  BftConfig config_;
  Metrics metrics_{"bft"};
  std::unique_ptr<BftStore> store_;
  std::unique_ptr<FederationTransport> transport_;
  std::unique_ptr<InterpreterBridge> interpreter_;
  std::unique_ptr<StreamPublisher> publisher_;
  std::unique_ptr<CheckpointsService> checkpoints_;
  std::unique_ptr<RunningServer> federation_server_;
  std::unique_ptr<RunningServer> interpreter_server_;
  std::unique_ptr<RunningServer> public_server_;
  std::map<std::string, int> ports_;
  // Messages and bytes per peer received but not yet handled by the actor (its mailbox
  // is not bounded by CAF): beyond either bound a peer's further messages are dropped.
  std::unique_ptr<InboundBudget> inbound_;
  std::unique_ptr<caf::actor_system_config> actor_config_;
  std::unique_ptr<caf::actor_system> actors_;
  std::shared_ptr<ConsensusNode> node_;
  caf::actor consensus_;
  // Reports NOT_SERVING when the node stops signing; set once the server exists.
  std::atomic<RunningServer*> health_server_{nullptr};
  std::atomic<bool> signing_{true};  // Health: NOT_SERVING while the member signs nothing.
  bool stopped_ = false;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_SHELL_BFT_SERVICE_H_
