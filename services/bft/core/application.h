#ifndef METRONOME_SERVICES_BFT_CORE_APPLICATION_H_
#define METRONOME_SERVICES_BFT_CORE_APPLICATION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/checkpoint_certificate.h"
#include "common/ledger.h"
#include "services/bft/core/outputs.h"
#include "services/bft/core/state_transfer.h"

// The bft's application module (DESIGN §4) as a pure state machine: the ledgers blocks
// lead to, block execution, certificate construction and the certificate outbox. It sits
// between the replica and the application's external process (the interpreter): the
// replica asks it for bodies and verdicts (outputs.h), it asks the interpreter, and it
// turns decisions into certificates. Everything it wants done comes back as data
// (ApplicationOutputs), as the replica's does: the shell stores, sends and schedules,
// the simulator does the same deterministically. No I/O, clock or threads; time comes in
// as milliseconds from the caller's clock.
//
// `Application` is the generic seam the bft drives; `CheckpointApplication` is the
// checkpointing application. A second, non-checkpoint application implements the same
// interface.
namespace metronome::bft {

// A checkpoint certificate the federation produced, with what the bft needs to serve
// and deliver it without decoding it again.
struct CertificateRecord {
  Bytes encoded;  // The canonical certificate (kind 5).
  CheckpointIdentity identity;
  uint64_t bft_height = 0;  // Of the block the certificate's Commit QC certifies.
  Hash256 bft_block_hash{};
  uint64_t committed_view = 0;

  bool operator==(const CertificateRecord& other) const;
};

// ---- Requests to the application's external process (the interpreter) ----
struct CreateBodyAsk {
  uint64_t request_id = 0;
  Ledger parent_ledger;
  uint64_t timeout_ms = 0;  // What the interpreter is told it has.
};
struct ValidateBodyAsk {
  uint64_t request_id = 0;
  Block block;
  Ledger parent_ledger;
  uint64_t timeout_ms = 0;
};
struct CertificateOffer {
  uint64_t request_id = 0;
  CertificateRecord record;
};
// Where the application stands (the shell adds the replica's view and signing state).
struct StatusReport {
  std::optional<CheckpointIdentity> latest_certificate;
  bool candidate_pending = false;
};
using InterpreterAsk = std::variant<CreateBodyAsk, ValidateBodyAsk, CertificateOffer, StatusReport>;

// ---- Answers from it (the shell decodes frames into these) ----
struct BodyAnswer {
  uint64_t request_id = 0;
  std::optional<Body> body;  // nullopt: the interpreter declined (`code`) or sent garbage.
  bool malformed = false;
  std::string code;  // Why it declined, in the interpreter's words.
};
struct VerdictAnswer {
  uint64_t request_id = 0;
  bool accept = false;
  std::string reason;  // Why not, in the interpreter's words (may be empty).
};
struct CertificateAnswer {
  uint64_t request_id = 0;
  enum class Outcome : uint8_t {
    kProgress,  // Seen, not durable yet: offered again after the resend interval.
    kDurable,   // Recorded durably: retired from the outbox.
    kRefused,   // The consumer refuses it (does not verify there): never offered again
                // until the consumer re-attaches, counted and alarmed.
  } outcome = Outcome::kProgress;
};

// A request the application gives up on after `delay_ms` unless answered
// (OnRequestTimeout).
struct RequestTimer {
  uint64_t request_id = 0;
  uint64_t delay_ms = 0;
};

// What happened, for metrics and logs (the shell maps kinds to both).
struct ApplicationEvent {
  enum class Kind : uint8_t {
    kValidated,            // reason: "accept" or the rejection reason.
    kBodyDeclined,         // The interpreter built no body (reason: its code).
    kBodyDoesNotApply,     // The interpreter's body is invalid on the parent; empty block.
    kParentLedgerUnknown,  // The leader cannot build on `hash`.
    kCertificateIssued,
    kCertificatesLeftOut,  // count: decided candidates without a certificate in the bound.
    kCertificateAcknowledged,
    kCertificateRefused,
    kStaleAnswer,    // An answer to no outstanding request.
    kMalformedBody,  // The interpreter's body did not decode.
    kInterpreterTimeout,
    kFastForward,
    kLedgerUnknown,  // A decided block whose ledger cannot be computed here (`hash`):
                     // the executed mark stays below it (a restart or a jump repairs it).
  } kind = Kind::kValidated;
  std::string reason;
  uint64_t view = 0;
  uint64_t count = 0;
  Hash256 hash{};
  std::optional<CertificateRecord> certificate;
};

// The replica's inputs the application produced: the shell feeds them to
// Replica::OnBodyCreated / OnBlockValidated, in order.
struct BodyReady {
  uint64_t view = 0;
  std::optional<Body> body;  // nullopt: no block this view (parent ledger unknown).
  Hash256 post_state_hash{};
};
struct BlockVerdict {
  Hash256 block_hash{};
  bool valid = false;
};

// Everything one input asks of the shell, in this order: 1. store `ledgers` (not
// synced); 2. store `certificates` and put them in the outbox (synced), then record
// `committed` (the executed mark: a crash in between delivers the decision again, and
// issuing is idempotent); 3. prune blocks below `prune_below`; 4. retire `retired` PoW
// heights from the outbox (synced); 5. send `asks`; 6. schedule `timers`; 7. report
// `events`; 8. feed `bodies` and `verdicts` to the replica.
struct ApplicationOutputs {
  std::vector<std::pair<Hash256, Bytes>> ledgers;  // Post-state hash -> kind 8 encoding.
  std::vector<CertificateRecord> certificates;
  std::optional<std::pair<uint64_t, Hash256>> committed;  // Height, block hash.
  std::optional<uint64_t> prune_below;
  std::vector<CertificateRecord> retired;
  std::vector<InterpreterAsk> asks;
  std::vector<RequestTimer> timers;
  std::vector<BodyReady> bodies;
  std::vector<BlockVerdict> verdicts;
  std::vector<ApplicationEvent> events;
};

// The generic seam between the bft and an application. Called from one thread (the
// consensus actor's, or the simulator's); implementations are deterministic.
class Application : public StateTransfer {
 public:
  ~Application() override = default;
  // The replica's requests (outputs.h) and decisions.
  virtual ApplicationOutputs OnCreateBody(const CreateBodyRequest& request) = 0;
  virtual ApplicationOutputs OnValidate(const ValidateRequest& request) = 0;
  // One output's decisions, executed in height order: the commits at or below a
  // fast-forward's block, the jump, then the commits above it.
  // REQUIRES: StateMatches(fast_forward->state, fast_forward->block's post-state hash).
  virtual ApplicationOutputs OnDeliver(const std::vector<Commit>& commits,
                                       const std::optional<FastForward>& fast_forward) = 0;
  // Blocks the replica stored: ledgers of later blocks are projected from them.
  virtual void OnStored(const std::vector<Block>& blocks) = 0;
};

struct ApplicationConfig {
  Hash256 genesis_post_state_hash{};  // LedgerHash(Ledger{}) for the checkpoint ledger.
  uint64_t create_timeout_ms = 1000;
  uint64_t validate_timeout_ms = 2000;
  uint64_t certificate_resend_ms = 2000;
  uint32_t certificate_headers_max = 16;
  uint64_t committed_history = 256;  // Blocks kept below the committed one.
};

// What a restart gives back: the blocks restored for the replica, the ledgers stored
// for them (any subset; missing ones are recomputed from ancestors), the outbox.
struct RestoredApplication {
  std::vector<Block> blocks;
  std::optional<Hash256> executed_hash;  // RestoredState's: the committed block.
  std::vector<Ledger> ledgers;
  std::vector<CertificateRecord> outbox;
  std::optional<CheckpointIdentity> latest_certificate;
};

// The checkpointing application. Ledgers are kept for the blocks it knows (bounded;
// a ledger dropped from the cache is recomputed from its ancestors' bodies).
class CheckpointApplication final : public Application {
 public:
  explicit CheckpointApplication(ApplicationConfig config, RestoredApplication restored = {});

  ApplicationOutputs OnCreateBody(const CreateBodyRequest& request) override;
  ApplicationOutputs OnValidate(const ValidateRequest& request) override;
  ApplicationOutputs OnDeliver(const std::vector<Commit>& commits,
                               const std::optional<FastForward>& fast_forward) override;
  void OnStored(const std::vector<Block>& blocks) override;

  // The interpreter.
  ApplicationOutputs OnAttached(bool attached, uint64_t now_ms);
  ApplicationOutputs OnCandidatePending();  // The replica is told too (by the shell).
  ApplicationOutputs OnBodyAnswer(const BodyAnswer& answer);
  ApplicationOutputs OnVerdictAnswer(const VerdictAnswer& answer);
  ApplicationOutputs OnCertificateAnswer(const CertificateAnswer& answer);
  ApplicationOutputs OnRequestTimeout(uint64_t request_id);
  // Offers again what the interpreter has not acknowledged within the resend interval.
  ApplicationOutputs OnTick(uint64_t now_ms);
  // The shell could not store `pow_height`'s certificate: it is not in the outbox.
  void OnCertificateNotStored(uint64_t pow_height);
  // The shell could not retire `record` from the stored outbox: it stays in this one
  // too, and is offered again (the interpreter acknowledges a duplicate durably).
  void OnRetireFailed(const CertificateRecord& record);

  // StateTransfer: the state is the ledger (kind 8).
  std::optional<Bytes> StateAfter(const Hash256& post_state_hash) override;
  bool StateMatches(const Bytes& state, const Hash256& post_state_hash) const override;

  // The ledger after `block_hash`; nullopt when the block or an ancestor is unknown.
  std::optional<Ledger> LedgerAfter(const Hash256& block_hash);
  const Ledger& committed_ledger() const { return committed_ledger_; }
  uint64_t committed_height() const { return committed_height_; }
  bool candidate_pending() const { return candidate_hint_; }
  const std::map<uint64_t, CertificateRecord>& outbox() const { return outbox_; }
  // Certificates the interpreter refused since it attached (never offered again to it).
  size_t refused() const { return refused_.size(); }

 private:
  struct PendingCreate {
    uint64_t request_id = 0;
    uint64_t view = 0;
    Ledger parent_ledger;
  };
  void Remember(const Hash256& post_state_hash, const Ledger& ledger, ApplicationOutputs* out);
  void FinishCreate(uint64_t view, const Ledger& parent, Body body, ApplicationOutputs* out);
  void FinishValidate(const Hash256& block_hash, bool valid, const std::string& reason,
                      ApplicationOutputs* out);
  void TimeOut(uint64_t request_id, ApplicationOutputs* out);
  void ExecuteCommit(const Commit& commit, ApplicationOutputs* out);
  void Jump(const FastForward& fast_forward, ApplicationOutputs* out);
  void Offer(const CertificateRecord& record, ApplicationOutputs* out);
  void Prune(uint64_t committed_height);
  void ForgetRequests();
  uint64_t NextRequestId() { return ++request_id_; }

  ApplicationConfig config_;
  Hash256 genesis_hash_;
  std::map<Hash256, Block> blocks_;    // Known blocks at or above the committed height.
  std::map<Hash256, Ledger> ledgers_;  // By post-state hash; bounded.
  Ledger committed_ledger_;            // Always kept: every later ledger builds on it.
  Hash256 committed_hash_{};           // Of the block committed_ledger_ follows.
  uint64_t committed_height_ = 0;
  std::optional<CheckpointIdentity> latest_certificate_;
  std::map<uint64_t, CertificateRecord> outbox_;  // By PoW height: not acknowledged durably.
  bool attached_ = false;
  bool candidate_hint_ = false;  // The interpreter said a candidate is due.
  uint64_t request_id_ = 0;
  uint64_t now_ms_ = 0;  // The caller's clock at its last OnTick / OnAttached.
  uint64_t commits_since_prune_ = 0;
  std::optional<PendingCreate> pending_create_;
  std::map<uint64_t, Hash256> pending_validates_;      // Request id -> block hash.
  std::map<uint64_t, uint64_t> certificate_requests_;  // Request id -> PoW height.
  std::map<uint64_t, uint64_t> offered_ms_;            // PoW height -> when last offered.
  std::set<uint64_t> refused_;                         // PoW heights, since attaching.
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_APPLICATION_H_
