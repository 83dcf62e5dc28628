#ifndef METRONOME_SERVICES_INTERPRETER_SHELL_STATE_STORE_H_
#define METRONOME_SERVICES_INTERPRETER_SHELL_STATE_STORE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "services/interpreter/core/checkpoint_tracker.h"

namespace metronome::interpreter {

// Where the interpreter keeps its checkpoint state: the latest applied certificate
// (which is also the outbox for the adapter, with its acknowledged flag), the frozen
// flag and the evidence (core/durable_state.h). The interpreter persists after every
// change and acknowledges only after Save returned OK.
class TrackerStore {
 public:
  virtual ~TrackerStore() = default;
  // Replaces the stored state durably (synced) or fails, leaving the old one.
  virtual absl::Status Save(const TrackerState& state) = 0;
  // Exports a freeze's evidence for the operator (durably, replacing an older one).
  virtual absl::Status SaveEvidence(const Bytes& evidence) = 0;
};

// The state in one small file, <data_dir>/interpreter-state.bin, replaced atomically
// (temporary file, fsync, rename, fsync of the directory: common/file_util.h), and the
// evidence in <data_dir>/freeze-evidence.bin, as the adapter names its own.
// Not thread-safe: one writer (the interpreter's event loop).
class FileTrackerStore : public TrackerStore {
 public:
  // REQUIRES: `data_dir` exists.
  explicit FileTrackerStore(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  // The stored state; the empty state when there is no file yet. Fails, naming the
  // file, when it is unreadable or does not decode: a corrupted state is never guessed at
  // or silently replaced.
  absl::StatusOr<TrackerState> Load() const;
  absl::Status Save(const TrackerState& state) override;
  absl::Status SaveEvidence(const Bytes& evidence) override;

  std::string state_path() const { return data_dir_ + "/interpreter-state.bin"; }
  std::string evidence_path() const { return data_dir_ + "/freeze-evidence.bin"; }

 private:
  std::string data_dir_;
};

// The operator's way out of a freeze (DESIGN §5), at start-up: when `state` is frozen
// and `evidence_file` holds exactly its evidence, ends the freeze and saves the state;
// returns true then. Returns false, changing nothing, when `state` is not frozen (the
// config key may outlive the freeze it cleared). Fails when the file is unreadable or
// holds another freeze's evidence, or the state cannot be saved.
absl::StatusOr<bool> ClearFreezeWithEvidenceFile(const std::string& evidence_file,
                                                 TrackerState* state, TrackerStore* store);

}  // namespace metronome::interpreter

#endif  // METRONOME_SERVICES_INTERPRETER_SHELL_STATE_STORE_H_
