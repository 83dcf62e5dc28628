#include "common/freeze_evidence.h"

#include "common/canonical.h"

namespace metronome {

Bytes EncodeFreezeEvidence(const FreezeEvidence& evidence) {
  Writer writer;
  writer.U8(kFreezeEvidenceKind);
  writer.U8(kFormatVersion);
  writer.LengthPrefixed(evidence.applied);
  writer.LengthPrefixed(evidence.conflicting);
  return writer.Take();
}

std::optional<FreezeEvidence> DecodeFreezeEvidence(const Bytes& bytes, std::string* error) {
  Reader reader(bytes);
  const uint8_t kind = reader.U8();
  const uint8_t version = reader.U8();
  if (reader.ok() && (kind != kFreezeEvidenceKind || version != kFormatVersion)) {
    reader.Fail("freeze evidence: kind/version " + std::to_string(kind) + "/" +
                std::to_string(version) + ", expected " + std::to_string(kFreezeEvidenceKind) +
                "/" + std::to_string(kFormatVersion));
  }
  FreezeEvidence evidence;
  evidence.applied = reader.LengthPrefixed(kFreezeEvidenceCertificateBytesMax);
  evidence.conflicting = reader.LengthPrefixed(kFreezeEvidenceCertificateBytesMax);
  reader.ExpectEnd();
  if (!reader.ok()) {
    *error = reader.error();
    return std::nullopt;
  }
  return evidence;
}

}  // namespace metronome
