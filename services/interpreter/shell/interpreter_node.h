#ifndef METRONOME_SERVICES_INTERPRETER_SHELL_INTERPRETER_NODE_H_
#define METRONOME_SERVICES_INTERPRETER_SHELL_INTERPRETER_NODE_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/federation.h"
#include "metronome/v1/chain.pb.h"
#include "metronome/v1/interpreter.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/interpreter/core/checkpoint_tracker.h"
#include "services/interpreter/core/rules.h"
#include "services/interpreter/shell/bft_client.h"
#include "services/interpreter/shell/chain_server.h"
#include "services/interpreter/shell/event_loop.h"
#include "services/interpreter/shell/state_store.h"

// The member's interpreter between its bft (Interpreter.Attach, through BftClient) and
// its chain side (Chain.Attach, through ChainServer), DESIGN §2 and §5:
//
//  - on every tip (and when the bft attaches) it asks for the block at depth k and, when
//    a candidate is due and it is not frozen, tells the bft once per candidate;
//  - it answers create_block_body with the candidate due after the parent ledger's
//    checkpoint, or no_body ("not_due", "frozen", "chain_unavailable", ...);
//  - it judges validate_block_body with core/rules.h and the adapter's facts (UNKNOWN
//    when they do not come in time);
//  - it verifies each certificate against its federation, decides with the
//    CheckpointTracker, persists (synced) before acknowledging, forwards applied ones to
//    the adapter and resends them after every attach and periodically until the adapter
//    acknowledges durably.
//
// Threading: every handler only posts the frame to one EventLoop; all state lives on
// that loop, so gRPC reader threads never wait for a decision, a chain query or an
// fsync. Answers to the bft are computed asynchronously and sent within its timeout.
namespace metronome::interpreter {

struct InterpreterNodeOptions {
  RulesConfig rules;
  uint64_t query_wait_ms = 3000;     // BlockQuery.wait_ms for validation and descent.
  uint64_t create_timeout_ms = 800;  // The most a body may take.
  uint64_t apply_resend_ms = 5000;   // Resend an unacknowledged checkpoint this often.
  uint32_t certificate_headers_max = kCertificateHeadersDefault;
  size_t certificate_queue_max = 64;  // Certificates waiting; beyond, the bft redelivers.
  size_t event_queue_max = 4096;      // Frames waiting for the loop; beyond, dropped.
  // The wall clock for min_age_ms, in ms since the Unix epoch (tests inject one).
  std::function<uint64_t()> unix_ms;
};

class InterpreterNode : public BftClient::Handler, public ChainServer::Handler {
 public:
  // Frames for each side; false when they cannot be sent (nobody attached).
  using BftSender = std::function<bool(v1::InterpreterToBft)>;
  using ChainSender = std::function<bool(v1::InterpreterToAdapter)>;

  // `store` and `registry` must outlive the node; `restored` is the stored state
  // (FileTrackerStore::Load). Registers metronome_interpreter_* metrics.
  InterpreterNode(InterpreterNodeOptions options, const Federation& federation,
                  TrackerState restored, TrackerStore* store, prometheus::Registry* registry);
  ~InterpreterNode() override;
  InterpreterNode(const InterpreterNode&) = delete;
  InterpreterNode& operator=(const InterpreterNode&) = delete;

  // Wiring, before Start.
  void SetBftSender(BftSender sender) { send_to_bft_ = std::move(sender); }
  void SetChainSender(ChainSender sender) { send_to_adapter_ = std::move(sender); }
  // Called on the loop with the frozen flag at Start and whenever it changes (health).
  void SetFrozenListener(std::function<void(bool frozen)> listener) {
    frozen_listener_ = std::move(listener);
  }

  // Starts the loop (and the periodic resend). Call once.
  void Start();
  // Stops the loop; no handler, sender or listener runs after it returns. Call it after
  // the BftClient and the gRPC server have stopped delivering frames.
  void Stop();

  // BftClient::Handler (the bft client's reader thread).
  void OnAttached() override;
  void OnDetached() override;
  void OnFrame(const v1::BftToInterpreter& frame) override;
  // ChainServer::Handler (gRPC handler threads).
  void OnAdapterAttached(uint64_t stream_id) override;
  void OnAdapterDetached(uint64_t stream_id) override;
  void OnAdapterFrame(uint64_t stream_id, v1::AdapterToInterpreter frame) override;

  // A consistent copy of the state, for health, tests and logs. Waits for the loop;
  // never call it from a sender or listener. Default values once stopped.
  struct Status {
    bool bft_attached = false;
    uint64_t adapter_stream = 0;
    std::optional<v1::TipEvent> tip;
    TrackerState tracker;
    std::optional<CheckpointIdentity> last_notified_candidate;
  };
  Status GetStatus();

 private:
  using Clock = std::chrono::steady_clock;
  // An answer from the adapter, or nullptr when none came (timeout, detached, unsent).
  using AnswerCallback = std::function<void(const v1::AdapterToInterpreter* answer)>;
  struct PendingRequest {
    AnswerCallback callback;
    uint64_t timer_id = 0;
  };

  // Everything below runs on the loop.
  void Post(const char* what, EventLoop::Task task);
  void HandleBftFrame(const v1::BftToInterpreter& frame);
  void HandleAdapterFrame(uint64_t stream_id, const v1::AdapterToInterpreter& frame);
  void FailPendingRequests();
  // Sends `frame` (its request id is set here) and calls `callback` once.
  void AskAdapter(v1::InterpreterToAdapter frame, uint64_t timeout_ms, AnswerCallback callback);
  void QueryBlock(const Bytes& hash, uint64_t height, const Bytes& checkpoint_hash,
                  uint32_t wait_ms, uint64_t timeout_ms,
                  std::function<void(std::optional<ChainFacts>)> done);
  // The candidate after `last`, asking the adapter within `within_ms`.
  void EvaluateCandidate(std::optional<CheckpointPosition> last, uint64_t within_ms,
                         std::function<void(CandidateChoice)> done);
  bool ProposingFrozen() const;
  std::optional<CheckpointPosition> LatestKnownCheckpoint() const;
  void MaybeNotifyCandidate();
  void CreateBody(const v1::CreateBlockBodyRequest& request);
  void ValidateBody(const v1::ValidateBlockBodyRequest& request);
  void AnswerValidation(uint64_t generation, uint64_t request_id, const Verdict& verdict);
  void ProcessNextCertificate();
  void FinishCertificate(uint64_t generation, uint64_t request_id,
                         const CheckpointIdentity& identity, const Bytes& certificate,
                         Descent descent);
  void Acknowledge(uint64_t generation, uint64_t request_id,
                   const std::optional<CheckpointIdentity>& identity,
                   v1::CertificateOutcome outcome, bool durable);
  void SendLatestToAdapter();
  void ResendTick();
  void OnCheckpointApplied(const v1::CheckpointApplied& applied);
  void PublishTrackerMetrics();
  bool SendToBft(uint64_t generation, v1::InterpreterToBft frame);

  InterpreterNodeOptions options_;  // unix_ms is filled in by the constructor.
  const Bytes federation_bytes_;
  TrackerStore* const store_;
  BftSender send_to_bft_;
  ChainSender send_to_adapter_;
  std::function<void(bool)> frozen_listener_;
  EventLoop loop_;

  // ---- Loop state (touched only on the loop).
  CheckpointTracker tracker_;
  bool bft_attached_ = false;
  uint64_t bft_generation_ = 0;  // Counts bft attachments; answers to older ones are dropped.
  std::optional<v1::BftStatus> bft_status_;
  uint64_t next_notification_id_ = 1;
  std::optional<CheckpointIdentity> last_notified_candidate_;
  bool candidate_check_running_ = false;
  bool candidate_recheck_ = false;
  uint64_t adapter_stream_ = 0;
  std::optional<v1::TipEvent> tip_;
  std::optional<v1::AdapterStatus> adapter_status_;
  uint64_t next_adapter_request_id_ = 1;
  std::map<uint64_t, PendingRequest> pending_;
  // Certificates waiting for their decision, with the bft attachment they came on.
  std::deque<std::pair<uint64_t, v1::NewCheckpointCertificate>> certificate_queue_;
  bool certificate_running_ = false;
  bool reported_frozen_ = false;

  // ---- Metrics.
  prometheus::Counter* candidates_proposed_;
  prometheus::Family<prometheus::Counter>* bodies_;
  prometheus::Family<prometheus::Counter>* validations_;
  prometheus::Family<prometheus::Counter>* certificate_outcomes_;
  prometheus::Family<prometheus::Counter>* chain_requests_unanswered_;
  prometheus::Family<prometheus::Counter>* frames_ignored_;
  prometheus::Counter* storage_failures_;
  prometheus::Counter* events_dropped_;
  prometheus::Gauge* latest_height_;
  prometheus::Gauge* frozen_gauge_;
};

}  // namespace metronome::interpreter

#endif  // METRONOME_SERVICES_INTERPRETER_SHELL_INTERPRETER_NODE_H_
