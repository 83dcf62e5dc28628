#include "services/bft/shell/bft_service.h"

#include <filesystem>

#include "common/ledger.h"
#include "common/log.h"
#include "services/bft/shell/wire.h"

namespace metronome::bft {
namespace {

// Room for gRPC framing above our own per-message limit.
constexpr int kGrpcSlackBytes = 64 << 10;
// Consensus messages one peer may have waiting for the actor. Honest peers stay far
// below (a few per view); a flooding peer cannot grow the mailbox without bound.
constexpr int kInboundPerPeerMax = 4096;

}  // namespace

BftService::BftService(BftConfig config) : config_(std::move(config)) {}

BftService::~BftService() { Stop(); }

absl::StatusOr<std::unique_ptr<BftService>> BftService::Start(BftConfig config) {
  std::unique_ptr<BftService> service(new BftService(std::move(config)));
  absl::Status status = service->Init();
  if (!status.ok()) {
    service->Stop();
    return status;
  }
  return service;
}

absl::Status BftService::Init() {
  std::error_code error;
  std::filesystem::create_directories(config_.data_dir, error);
  if (error) {
    return absl::FailedPreconditionError("config key 'data_dir': cannot create " +
                                         config_.data_dir + ": " + error.message());
  }
  absl::StatusOr<std::unique_ptr<BftStore>> store = BftStore::Open(
      config_.data_dir + "/bft.db", config_.federation.id(), config_.key.public_key());
  if (!store.ok()) return store.status();
  store_ = *std::move(store);
  absl::StatusOr<RestoredState> restored = store_->Load();
  if (!restored.ok()) return restored.status();

  const Federation& federation = config_.federation;
  const TransportSettings& transport = config_.transport;
  TransportOptions transport_options;
  transport_options.peer_addresses = config_.peers;
  transport_options.max_message_bytes = transport.max_message_bytes;
  transport_options.peer_queue_max = transport.peer_queue_max;
  transport_options.heartbeat_interval_ms = transport.heartbeat_interval_ms;
  transport_options.peer_silence_ms = transport.peer_silence_ms;
  transport_options.reconnect_min_ms = transport.reconnect_min_ms;
  transport_options.reconnect_max_ms = transport.reconnect_max_ms;
  transport_options.handshake_timeout_ms = transport.handshake_timeout_ms;
  transport_ = std::make_unique<FederationTransport>(transport_options, federation, config_.self,
                                                     config_.key, &metrics_.registry());
  interpreter_ = std::make_unique<InterpreterBridge>(
      federation, config_.key, config_.interpreter_public_key, transport.max_message_bytes,
      transport.peer_queue_max, transport.handshake_timeout_ms, &metrics_.registry());
  PublisherOptions publisher_options;
  publisher_options.history_records_max = config_.stream.history_records_max;
  publisher_options.subscribers_max = config_.stream.subscribers_max;
  publisher_options.subscriber_queue_max = config_.stream.subscriber_queue_max;
  BftStore* raw_store = store_.get();
  publisher_ = std::make_unique<StreamPublisher>(
      publisher_options, config_.key.public_key(),
      [raw_store](uint64_t from_view, size_t count_max) {
        absl::StatusOr<std::vector<StreamRecord>> own = raw_store->OwnLog(from_view, count_max);
        if (!own.ok()) {
          LogWarn("reading the own-signature log failed",
                  {{"error", std::string(own.status().message())}});
          return std::vector<StreamRecord>{};
        }
        return *std::move(own);
      },
      &metrics_.registry());
  checkpoints_ = std::make_unique<CheckpointsService>(store_.get());

  // The consensus actor and every handler exist before any listener accepts a call:
  // a peer may connect and send the moment the federation port is bound.
  NodeOptions options;
  ReplicaConfig& replica = options.replica;
  replica.federation = &config_.federation;
  replica.self = config_.self;
  replica.key = config_.key;
  replica.genesis_post_state_hash = LedgerHash(Ledger{});
  replica.timeout_ms_base = config_.consensus.timeout_ms_base;
  replica.timeout_ms_max = config_.consensus.timeout_ms_max;
  replica.idle_interval_ms = config_.consensus.idle_interval_ms;
  replica.view_window_max = config_.consensus.view_window_max;
  replica.stash_max = config_.consensus.stash_max;
  replica.blocks_max = config_.consensus.blocks_max;
  replica.committed_history = config_.consensus.committed_history;
  replica.sync_blocks_max = config_.consensus.sync_blocks_max;
  options.create_timeout_ms = config_.interpreter.create_timeout_ms;
  options.validate_timeout_ms = config_.interpreter.validate_timeout_ms;
  options.certificate_resend_ms = config_.interpreter.certificate_resend_ms;
  options.committed_history = config_.consensus.committed_history;
  options.certificate_headers_max = config_.consensus.certificate_headers_max;
  NodeLinks links;
  links.store = store_.get();
  links.transport = transport_.get();
  links.interpreter = interpreter_.get();
  links.publisher = publisher_.get();
  links.checkpoints = checkpoints_.get();
  inbound_ =
      std::make_unique<InboundBudget>(config_.federation.n(), kInboundPerPeerMax,
                                      transport.inbound_bytes_per_peer_max, &metrics_.registry());
  InboundBudget* inbound = inbound_.get();
  links.on_peer_message_handled = [inbound](uint32_t from, size_t wire_bytes) {
    inbound->Release(from, wire_bytes);
  };
  links.on_signing = [this](bool signing) {
    signing_ = signing;
    if (RunningServer* server = health_server_.load()) server->SetServing(signing);
  };
  // DESIGN §3: a database without safety state may belong to a key that signed before
  // (wiped or lost); the replica waits for proof that the federation moved past it.
  restored->safety_state_lost =
      !restored->safety.has_value() && !config_.unsafe_start_without_safety_state;
  if (!restored->safety.has_value() && config_.unsafe_start_without_safety_state) {
    LogWarn(
        "starting without safety state and without waiting (--unsafe-start-without-"
        "safety-state): if this key signed before, it may sign conflicting statements",
        {});
  }
  const nlohmann::json restored_fields = {
      {"blocks", restored->blocks.size()},
      {"has_safety_state", restored->safety.has_value()},
      {"highest_signed_view", restored->safety ? restored->safety->HighestSignedView() : 0},
      {"signing", restored->safety_state_lost
                      ? "after q members' status reports (no safety state, DESIGN 3)"
                      : "now"}};
  node_ =
      std::make_shared<ConsensusNode>(options, links, *std::move(restored), &metrics_.registry());

  actor_config_ = std::make_unique<caf::actor_system_config>();
  actor_config_->set("scheduler.max-threads", 2);
  actors_ = std::make_unique<caf::actor_system>(*actor_config_);
  // Detached: the actor fsyncs before it sends, so it gets a thread of its own rather
  // than blocking one of the scheduler's.
  std::shared_ptr<ConsensusNode> node = node_;
  consensus_ = actors_->spawn<caf::detached>(
      [node](caf::event_based_actor* self) { return node->Behavior(self); });

  const WireLimits limits{federation.n(), 64, config_.consensus.sync_blocks_max,
                          transport.max_message_bytes};
  caf::actor consensus = consensus_;
  transport_->SetHandlers(
      [consensus, limits, inbound](uint32_t from, v1::ConsensusMessage message) {
        const size_t wire_bytes = message.ByteSizeLong();
        if (!inbound->Admit(from, wire_bytes)) return;  // Counted and logged there.
        absl::StatusOr<Message> decoded = FromProto(message, limits);
        NodeEventPtr event;
        if (decoded.ok()) {
          event = std::make_shared<const NodeEvent>(
              PeerMessageEvent{from, *std::move(decoded), wire_bytes});
        } else {
          event = std::make_shared<const NodeEvent>(
              MalformedMessageEvent{from, std::string(decoded.status().message()), wire_bytes});
        }
        caf::anon_send(consensus, std::move(event));
      },
      [consensus](uint32_t peer) {
        caf::anon_send(consensus, std::make_shared<const NodeEvent>(PeerConnectedEvent{peer}));
      });
  interpreter_->SetHandlers(
      [consensus](v1::InterpreterToBft frame) {
        caf::anon_send(consensus,
                       std::make_shared<const NodeEvent>(InterpreterFrameEvent{std::move(frame)}));
      },
      [consensus](bool attached) {
        caf::anon_send(consensus,
                       std::make_shared<const NodeEvent>(InterpreterAttachEvent{attached}));
      });
  ServerSpec spec;
  spec.service_name = "bft";
  spec.grpc_message_bytes_max = static_cast<int>(transport.max_message_bytes) + kGrpcSlackBytes;
  spec.listeners = {{"federation", config_.listen_federation}};
  spec.services = {transport_->service()};
  absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServer(spec);
  if (!server.ok()) return server.status();
  federation_server_ = *std::move(server);
  spec.listeners = {{"interpreter", config_.listen_interpreter}};
  spec.services = {interpreter_->service()};
  server = StartServer(spec);
  if (!server.ok()) return server.status();
  interpreter_server_ = *std::move(server);
  spec.listeners = {{"public", config_.listen_public}};
  spec.services = {publisher_->service(), checkpoints_.get()};
  server = StartServer(spec);
  if (!server.ok()) return server.status();
  public_server_ = *std::move(server);
  absl::StatusOr<int> metrics_port = metrics_.Serve(config_.listen_metrics);
  if (!metrics_port.ok()) return metrics_port.status();
  for (RunningServer* running :
       {federation_server_.get(), interpreter_server_.get(), public_server_.get()}) {
    ports_.insert(running->ports().begin(), running->ports().end());
  }
  ports_["metrics"] = *metrics_port;
  absl::Status status = WritePortsFile(config_.data_dir, ports_);
  if (!status.ok()) return status;

  health_server_ = federation_server_.get();
  // The actor may have stopped signing before the server existed (no safety state).
  federation_server_->SetServing(signing_.load());
  transport_->Start();
  EnableGrpcLogs();
  LogInfo("metronome-bft started", {{"restored", restored_fields},
                                    {"member", config_.self},
                                    {"federation", ToHex(federation.id())},
                                    {"n", federation.n()},
                                    {"f", federation.f()},
                                    {"q", federation.q()},
                                    {"ports", ports_}});
  return absl::OkStatus();
}

void BftService::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (publisher_) publisher_->Stop();
  if (checkpoints_) checkpoints_->Stop();
  if (interpreter_) interpreter_->Stop();
  for (RunningServer* server :
       {federation_server_.get(), interpreter_server_.get(), public_server_.get()}) {
    if (server != nullptr) server->Shutdown();
  }
  if (transport_) transport_->Stop();
  health_server_ = nullptr;
  federation_server_.reset();
  interpreter_server_.reset();
  public_server_.reset();
  if (actors_) {
    // The actor uses the transport and the bridge until it has exited; only then may
    // they go. Their handlers hold references to the actor, which CAF waits for before
    // it lets the actor's thread go, so they go before the actor system.
    caf::anon_send_exit(consensus_, caf::exit_reason::user_shutdown);
    actors_->await_all_actors_done();
  }
  transport_.reset();
  interpreter_.reset();
  consensus_ = caf::actor{};
  actors_.reset();
  node_.reset();
}

}  // namespace metronome::bft
