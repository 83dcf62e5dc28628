#ifndef METRONOME_SERVICES_BFT_CORE_OUTPUTS_H_
#define METRONOME_SERVICES_BFT_CORE_OUTPUTS_H_

#include <optional>
#include <string>
#include <vector>

#include "services/bft/core/messages.h"
#include "services/bft/core/safety_state.h"

namespace metronome::bft {

constexpr uint32_t kBroadcast = UINT32_MAX;  // Send to every other member.

struct Send {
  uint32_t to = kBroadcast;
  Message message;
};

enum class TimerKind : uint8_t {
  kView,     // The view has run too long: time out (or resend the timeout).
  kPropose,  // The leader's idle interval has passed: propose a heartbeat block.
};

struct TimerRequest {
  TimerKind kind = TimerKind::kView;
  uint64_t view = 0;
  uint64_t delay_ms = 0;
};

// The leader asks the application for a body extending `parent_hash`.
struct CreateBodyRequest {
  uint64_t view = 0;
  Hash256 parent_hash{};
  uint64_t height = 0;  // Of the block to create.
};

// A replica asks the application whether `block` (child of `parent_hash`) is valid: its
// post-state hash follows from the parent's ledger and the interpreter accepts the body.
struct ValidateRequest {
  Block block;
};

// Blocks decided by one Commit QC, oldest first; the last is the QC's block.
struct Commit {
  std::vector<Block> blocks;
  QuorumCertificate commit_qc;
};

// Peers pruned the blocks between our last decision and theirs: the replica jumped to
// `block`, decided by `commit_qc`. `state` is the application state after it, already
// checked against the block's post-state hash (StateTransfer::StateMatches): the
// application installs it durably and continues from there.
struct FastForward {
  Block block;
  QuorumCertificate commit_qc;
  Bytes state;
};

// One record of the ConsensusStream (DESIGN §6): every artefact this replica signed,
// every validly signed artefact it received (also those consensus rejected), every QC it
// saw, and the headers of proposed and synced blocks.
struct StreamRecord {
  enum class Source : uint8_t { kOwn = 1, kReceived = 2, kSynced = 3 };
  enum class Item : uint8_t { kArtefact = 1, kQc = 2, kHeader = 3 };
  uint64_t view = 0;
  Source source = Source::kReceived;
  Item item = Item::kArtefact;
  bool rejected = false;
  std::string rejection_reason;
  Bytes payload;          // Canonical statement, QC or header encoding.
  Signature signature{};  // For artefacts.
  uint32_t signer = 0;    // For artefacts.
};

// Input from a peer the core refused (a metric and a log line in the shell).
struct Rejection {
  uint32_t from = 0;
  std::string message;  // MessageName.
  std::string reason;
};

// Everything one input asks the shell to do. The shell handles it in this order:
// 1. persist `safety` and append `signed_log` durably (fsync) — BEFORE any send;
// 2. store `blocks` (need not be synced: lost blocks are fetched again);
// 3. send `sends`; 4. deliver `commits` / `fast_forward` to the application;
// 5. issue `create_body` / `validate` / `timers`; 6. publish `stream`, count `rejections`.
struct Outputs {
  std::optional<SafetyState> safety;
  std::vector<StreamRecord> signed_log;  // Own artefacts signed by this input.
  std::vector<Block> blocks;
  std::vector<Send> sends;
  std::vector<Commit> commits;
  std::optional<FastForward> fast_forward;
  std::optional<CreateBodyRequest> create_body;
  std::vector<ValidateRequest> validate;
  std::vector<TimerRequest> timers;
  std::vector<StreamRecord> stream;
  std::vector<Rejection> rejections;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_OUTPUTS_H_
