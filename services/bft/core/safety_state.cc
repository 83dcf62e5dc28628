#include "services/bft/core/safety_state.h"

#include <algorithm>

#include "common/consensus_statements.h"
#include "common/federation.h"

namespace metronome::bft {

uint64_t SafetyState::HighestSignedView() const {
  return std::max({last_vote_view, last_timeout_view, last_proposal_view, last_new_view_view});
}

bool SafetyState::operator==(const SafetyState& other) const {
  // Every field is in the canonical encoding, the timeout certificate included.
  return EncodeSafetyState(*this) == EncodeSafetyState(other);
}

Bytes EncodeSafetyState(const SafetyState& state) {
  Writer writer;
  writer.U64(state.view);
  writer.U64(state.last_vote_view);
  writer.U8(state.last_vote_phase);
  writer.U64(state.last_timeout_view);
  writer.U64(state.last_proposal_view);
  writer.U64(state.last_new_view_view);
  EncodeQuorumCertificate(state.locked_qc, &writer);
  EncodeQuorumCertificate(state.high_qc, &writer);
  EncodeQuorumCertificate(state.commit_qc, &writer);
  EncodeQuorumCertificate(state.last_timeout_high_qc, &writer);
  writer.Fixed(state.last_timeout_signature);
  writer.U8(state.high_tc ? 1 : 0);
  if (state.high_tc) {
    writer.U64(state.high_tc->view);
    writer.U32(static_cast<uint32_t>(state.high_tc->timeouts.size()));
    for (const auto& [statement, signed_by] : state.high_tc->timeouts) {
      writer.LengthPrefixed(EncodeTimeoutStatement(statement));
      writer.U32(signed_by.signer);
      writer.Fixed(signed_by.signature);
    }
  }
  return writer.Take();
}

SafetyState DecodeSafetyState(Reader* reader) {
  SafetyState state;
  state.view = reader->U64();
  state.last_vote_view = reader->U64();
  state.last_vote_phase = reader->U8();
  state.last_timeout_view = reader->U64();
  state.last_proposal_view = reader->U64();
  state.last_new_view_view = reader->U64();
  state.locked_qc = DecodeQuorumCertificate(reader);
  state.high_qc = DecodeQuorumCertificate(reader);
  state.commit_qc = DecodeQuorumCertificate(reader);
  if (reader->ok() && reader->remaining() > 0) {
    state.last_timeout_high_qc = DecodeQuorumCertificate(reader);
    state.last_timeout_signature = reader->Fixed<64>();
    if (reader->U8() == 1) {
      TimeoutCertificate tc;
      tc.view = reader->U64();
      const uint32_t count = reader->Count(kFederationMembersMax, "timeout");
      for (uint32_t i = 0; i < count && reader->ok(); ++i) {
        const Bytes payload = reader->LengthPrefixed(1024);
        Reader statement_reader(payload);
        TimeoutStatement statement = DecodeTimeoutStatement(&statement_reader);
        statement_reader.ExpectEnd();
        if (!statement_reader.ok())
          reader->Fail("timeout certificate: " + statement_reader.error());
        Signed signed_by;
        signed_by.signer = reader->U32();
        signed_by.signature = reader->Fixed<64>();
        tc.timeouts.emplace_back(statement, signed_by);
      }
      state.high_tc = std::move(tc);
    }
  }
  return state;
}

}  // namespace metronome::bft
