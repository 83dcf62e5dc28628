#include "services/interpreter/shell/state_store.h"

#include <filesystem>

#include "common/file_util.h"
#include "services/interpreter/core/durable_state.h"

namespace metronome::interpreter {
namespace {

std::string StringOfBytes(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }

}  // namespace

absl::StatusOr<TrackerState> FileTrackerStore::Load() const {
  const std::string path = state_path();
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    if (error) return absl::InternalError("cannot stat " + path + ": " + error.message());
    return TrackerState{};
  }
  absl::StatusOr<std::string> contents = ReadSmallFile(path, kStoredCertificateBytesMax * 3 + 64);
  if (!contents.ok()) return contents.status();
  std::string decode_error;
  std::optional<TrackerState> state =
      DecodeTrackerState(Bytes(contents->begin(), contents->end()), &decode_error);
  if (!state) return absl::DataLossError(path + " is corrupted: " + decode_error);
  return *state;
}

absl::Status FileTrackerStore::Save(const TrackerState& state) {
  return WriteFileAtomically(state_path(), StringOfBytes(EncodeTrackerState(state)));
}

absl::Status FileTrackerStore::SaveEvidence(const Bytes& evidence) {
  return WriteFileAtomically(evidence_path(), StringOfBytes(evidence));
}

absl::StatusOr<bool> ClearFreezeWithEvidenceFile(const std::string& evidence_file,
                                                 TrackerState* state, TrackerStore* store) {
  if (!state->frozen) return false;
  absl::StatusOr<std::string> evidence =
      ReadSmallFile(evidence_file, kStoredCertificateBytesMax * 2 + 64);
  if (!evidence.ok()) return evidence.status();
  CheckpointTracker tracker(*state);
  std::string reason;
  if (!tracker.ClearFreeze(Bytes(evidence->begin(), evidence->end()), &reason)) {
    return absl::FailedPreconditionError(evidence_file + ": " + reason);
  }
  const absl::Status saved = store->Save(tracker.state());
  if (!saved.ok()) return saved;
  *state = tracker.state();
  return true;
}

}  // namespace metronome::interpreter
