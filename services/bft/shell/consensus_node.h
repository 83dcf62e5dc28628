#ifndef METRONOME_SERVICES_BFT_SHELL_CONSENSUS_NODE_H_
#define METRONOME_SERVICES_BFT_SHELL_CONSENSUS_NODE_H_

#include <caf/all.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <variant>

#include "common/ledger.h"
#include "metronome/v1/interpreter.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/bft/core/application.h"
#include "services/bft/core/effects.h"
#include "services/bft/core/replica.h"
#include "services/bft/shell/bft_store.h"

// The consensus actor of the bft service: a CAF actor that owns the pure Replica and
// the pure application module (core/application.h: ledgers, block execution,
// certificate construction, the outbox) and carries out their outputs: the replica's
// through core/effects.h ExecuteInOrder (persist (fsync) before send, then deliver, ask
// the application, schedule timers, publish), the application's in the order
// ApplicationOutputs documents. It decides nothing itself: it moves bytes between the
// two cores, RocksDB, the peers and the interpreter, and reports metrics and logs.
// Everything else reaches it as a message: peer messages (decoded on the transport's
// reader threads), interpreter frames, timer expiries. Nothing here blocks on gRPC:
// sends go to bounded queues.
namespace metronome::bft {

class FederationTransport;
class InterpreterBridge;
class StreamPublisher;
class CheckpointsService;

// `wire_bytes`: the message's size as received, released from the sender's inbound
// budget once handled.
struct PeerMessageEvent {
  uint32_t from = 0;
  Message message;
  size_t wire_bytes = 0;
};
// A peer's message that did not decode (wire.h): counted and logged, never acted on.
struct MalformedMessageEvent {
  uint32_t from = 0;
  std::string reason;
  size_t wire_bytes = 0;
};
struct PeerConnectedEvent {
  uint32_t peer = 0;
};
struct InterpreterFrameEvent {
  v1::InterpreterToBft frame;
};
struct InterpreterAttachEvent {
  bool attached = false;
};
using NodeEvent = std::variant<PeerMessageEvent, MalformedMessageEvent, PeerConnectedEvent,
                               InterpreterFrameEvent, InterpreterAttachEvent>;
using NodeEventPtr = std::shared_ptr<const NodeEvent>;

struct NodeOptions {
  ReplicaConfig replica;
  uint64_t create_timeout_ms = 1000;
  uint64_t validate_timeout_ms = 2000;
  uint64_t certificate_resend_ms = 2000;
  uint64_t committed_history = 256;  // Blocks kept below the committed one.
  uint32_t certificate_headers_max = 16;
};

// The collaborators a node uses; borrowed, all must outlive the node.
struct NodeLinks {
  BftStore* store = nullptr;
  FederationTransport* transport = nullptr;
  InterpreterBridge* interpreter = nullptr;
  StreamPublisher* publisher = nullptr;
  CheckpointsService* checkpoints = nullptr;
  // Called with false when the node stops signing (a failed durable write).
  std::function<void(bool signing)> on_signing;
  // Called once a peer's message (decoded or malformed) has been handled, with its wire
  // size, so the sender can bound what each peer has waiting in the actor's mailbox.
  std::function<void(uint32_t from, size_t wire_bytes)> on_peer_message_handled;
};

class ConsensusNode final : public EffectHandler {
 public:
  ConsensusNode(NodeOptions options, NodeLinks links, RestoredState restored,
                prometheus::Registry* registry);

  // The actor's behaviour; `self` is the actor hosting this node.
  caf::behavior Behavior(caf::event_based_actor* self);

  // EffectHandler, called by ExecuteInOrder from the actor.
  void Persist(const std::optional<SafetyState>& safety,
               const std::vector<StreamRecord>& signed_log) override;
  void StoreBlocks(const std::vector<Block>& blocks) override;
  void SendAll(const std::vector<Send>& sends) override;
  void Deliver(const std::vector<Commit>& commits,
               const std::optional<FastForward>& fast_forward) override;
  void AskApplication(const std::optional<CreateBodyRequest>& create_body,
                      const std::vector<ValidateRequest>& validate) override;
  void ScheduleTimers(const std::vector<TimerRequest>& timers) override;
  void Publish(const std::vector<StreamRecord>& stream,
               const std::vector<Rejection>& rejections) override;

 private:
  void Run(Outputs outputs);
  // Carries out the application's outputs (ApplicationOutputs' order).
  void RunApplication(ApplicationOutputs outputs);
  // The PoW heights whose certificate could not be stored (the executed mark is then
  // held, and they are not offered to the interpreter).
  std::set<uint64_t> StoreCertificates(const std::vector<CertificateRecord>& certificates);
  void SendToInterpreter(const InterpreterAsk& ask);
  void Report(const ApplicationEvent& event);
  void Handle(const NodeEvent& event);
  void HandleInterpreterFrame(const v1::InterpreterToBft& frame);
  // Logs and reports (health, metric) when the replica starts or stops waiting for the
  // proof DESIGN §3 asks of a member without its safety state.
  void ReportSigningGate();

  NodeOptions options_;
  NodeLinks links_;
  RestoredState restored_;
  CheckpointApplication app_;  // Before replica_: the replica's StateTransfer.
  Replica replica_;
  caf::event_based_actor* self_ = nullptr;

  uint64_t last_view_ = 0;
  bool persist_failed_ = false;
  bool executed_mark_held_ = false;  // A certificate failed to store (see Deliver).
  bool gate_reported_ = false;       // The replica was last seen waiting (ReportSigningGate).
  std::optional<uint64_t> gate_threshold_reported_;
  std::map<uint64_t, std::chrono::steady_clock::time_point> asked_;      // Request id -> sent.
  std::map<Hash256, std::chrono::steady_clock::time_point> first_seen_;  // For commit latency.

  prometheus::Gauge* view_;
  prometheus::Gauge* phase_;
  prometheus::Gauge* committed_height_;
  prometheus::Counter* commits_;
  prometheus::Counter* decisions_;
  prometheus::Histogram* commit_latency_;
  prometheus::Counter* timeouts_;
  prometheus::Counter* view_changes_;
  prometheus::Family<prometheus::Counter>* messages_received_;
  prometheus::Family<prometheus::Counter>* rejections_;
  prometheus::Histogram* interpreter_round_trip_;
  prometheus::Histogram* storage_write_;
  prometheus::Family<prometheus::Counter>* storage_failures_;
  prometheus::Counter* certificates_issued_;
  prometheus::Counter* certificates_acknowledged_;
  prometheus::Family<prometheus::Counter>* validations_;
  prometheus::Counter* fast_forwards_;
  prometheus::Counter* certificates_left_out_;
  prometheus::Counter* certificates_refused_;
  prometheus::Gauge* certificates_refused_outstanding_;
  prometheus::Gauge* waiting_for_safety_proof_;
  prometheus::Counter* signatures_;
  prometheus::Gauge* verifications_;
};

}  // namespace metronome::bft

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(metronome::bft::NodeEventPtr)

#endif  // METRONOME_SERVICES_BFT_SHELL_CONSENSUS_NODE_H_
