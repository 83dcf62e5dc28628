#ifndef METRONOME_COMMON_FREEZE_EVIDENCE_H_
#define METRONOME_COMMON_FREEZE_EVIDENCE_H_

#include <optional>
#include <string>

#include "common/bytes.h"

// Evidence of conflicting checkpoint certificates (DESIGN §5), written by every consumer
// that freezes (the devchain, the interpreter) in one format, so one file clears both
// (`metronome clear-freeze --evidence FILE`).
//
// Encoding (kind 102, version 1): applied:bytes conflicting:bytes, each a canonical
// checkpoint certificate (kind 5).
namespace metronome {

constexpr uint8_t kFreezeEvidenceKind = 102;
// A bound for decoding only: a certificate of 256 headers and 1024 signatures is far
// below it.
constexpr size_t kFreezeEvidenceCertificateBytesMax = 4 << 20;

struct FreezeEvidence {
  Bytes applied;      // The certificate applied before the conflict.
  Bytes conflicting;  // The certificate that conflicted with it.
  bool operator==(const FreezeEvidence& other) const {
    return applied == other.applied && conflicting == other.conflicting;
  }
};

Bytes EncodeFreezeEvidence(const FreezeEvidence& evidence);
// nullopt with `error` set on a wrong kind or version, truncation, an oversized field or
// trailing bytes.
std::optional<FreezeEvidence> DecodeFreezeEvidence(const Bytes& bytes, std::string* error);

}  // namespace metronome

#endif  // METRONOME_COMMON_FREEZE_EVIDENCE_H_
