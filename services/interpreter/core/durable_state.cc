#include "services/interpreter/core/durable_state.h"

#include "common/canonical.h"
#include "common/checkpoint_certificate.h"

namespace metronome::interpreter {
namespace {

void WriteKind(Writer* writer, uint8_t kind) {
  writer->U8(kind);
  writer->U8(kInterpreterFormatVersion);
}

void ExpectKind(Reader* reader, uint8_t kind, const char* what) {
  const uint8_t got_kind = reader->U8();
  const uint8_t got_version = reader->U8();
  if (reader->ok() && (got_kind != kind || got_version != kInterpreterFormatVersion)) {
    reader->Fail(std::string(what) + ": kind/version " + std::to_string(got_kind) + "/" +
                 std::to_string(got_version) + ", expected " + std::to_string(kind) + "/" +
                 std::to_string(kInterpreterFormatVersion));
  }
}

// A u8 that must be 0 or 1.
bool Flag(Reader* reader, const char* what) {
  const uint8_t value = reader->U8();
  if (reader->ok() && value > 1) {
    reader->Fail(std::string(what) + " flag is " + std::to_string(value) + ", not 0 or 1");
  }
  return value == 1;
}

}  // namespace

Bytes EncodeTrackerState(const TrackerState& state) {
  Writer writer;
  WriteKind(&writer, kInterpreterStateKind);
  writer.U8(state.latest ? 1 : 0);
  if (state.latest) writer.LengthPrefixed(state.latest->certificate);
  writer.U8(state.adapter_acknowledged ? 1 : 0);
  writer.U8(state.frozen ? 1 : 0);
  writer.LengthPrefixed(state.evidence);
  return writer.Take();
}

std::optional<TrackerState> DecodeTrackerState(const Bytes& bytes, std::string* error) {
  Reader reader(bytes);
  ExpectKind(&reader, kInterpreterStateKind, "interpreter state");
  TrackerState state;
  const bool has_latest = Flag(&reader, "has_latest");
  Bytes certificate;
  if (has_latest) certificate = reader.LengthPrefixed(kStoredCertificateBytesMax);
  state.adapter_acknowledged = Flag(&reader, "adapter_acknowledged");
  state.frozen = Flag(&reader, "frozen");
  state.evidence = reader.LengthPrefixed(kStoredCertificateBytesMax * 2 + 16);
  reader.ExpectEnd();
  if (!reader.ok()) {
    *error = reader.error();
    return std::nullopt;
  }
  if (has_latest) {
    Reader certificate_reader(certificate);
    const CheckpointCertificate decoded = DecodeCheckpointCertificate(&certificate_reader);
    certificate_reader.ExpectEnd();
    if (!certificate_reader.ok()) {
      *error = "latest certificate: " + certificate_reader.error();
      return std::nullopt;
    }
    if (!decoded.candidate.is_candidate()) {
      *error = "latest certificate: does not certify a checkpoint candidate";
      return std::nullopt;
    }
    state.latest = AppliedCheckpoint{IdentityOf(decoded), std::move(certificate)};
  } else if (state.adapter_acknowledged || state.frozen) {
    *error = std::string(state.frozen ? "frozen" : "adapter_acknowledged") +
             " is set without a latest checkpoint";
    return std::nullopt;
  }
  if (state.frozen) {
    std::string evidence_error;
    if (!DecodeFreezeEvidence(state.evidence, &evidence_error)) {
      *error = "evidence: " + evidence_error;
      return std::nullopt;
    }
  } else if (!state.evidence.empty()) {
    *error = "evidence is present but the state is not frozen";
    return std::nullopt;
  }
  return state;
}

}  // namespace metronome::interpreter
