#ifndef METRONOME_SERVICES_INTERPRETER_CORE_DURABLE_STATE_H_
#define METRONOME_SERVICES_INTERPRETER_CORE_DURABLE_STATE_H_

#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/freeze_evidence.h"
#include "services/interpreter/core/checkpoint_tracker.h"

// Canonical encodings of what the interpreter keeps on disk (common/canonical.h
// framing: kind byte, format version, big-endian integers, u32-length-prefixed bytes).
// Pure; thread-safe.
//
//   102 freeze evidence    applied:bytes conflicting:bytes, each a canonical checkpoint
//                          certificate (kind 5). The same layout and kind as the
//                          adapter's (services/pow_adapter/core/devchain.h), so when both
//                          saw the conflict in the same order one file clears both.
//   110 interpreter state  has_latest:u8 [certificate:bytes] adapter_acknowledged:u8
//                          frozen:u8 evidence:bytes
namespace metronome::interpreter {

constexpr uint8_t kInterpreterStateKind = 110;
constexpr uint8_t kInterpreterFormatVersion = 1;
// A bound for decoding only: a certificate of 256 headers and 1024 signatures is far
// below it.
constexpr size_t kStoredCertificateBytesMax = 4 << 20;

// Freeze evidence: common/freeze_evidence.h (kind 102), the adapter's format too.
using metronome::DecodeFreezeEvidence;
using metronome::EncodeFreezeEvidence;
using metronome::FreezeEvidence;

Bytes EncodeTrackerState(const TrackerState& state);
// Decodes and validates: flags are 0 or 1; the certificate decodes canonically and
// certifies a candidate (its identity is recomputed from it); acknowledged or frozen
// only with a latest checkpoint; evidence decodes exactly when frozen, and is empty
// otherwise. nullopt with `error` set (naming the field) on any violation: a corrupted
// state is never guessed at.
std::optional<TrackerState> DecodeTrackerState(const Bytes& bytes, std::string* error);

}  // namespace metronome::interpreter

#endif  // METRONOME_SERVICES_INTERPRETER_CORE_DURABLE_STATE_H_
