#include "services/bft/core/safety_state.h"

#include <algorithm>

namespace metronome::bft {

uint64_t SafetyState::HighestSignedView() const {
  return std::max({last_vote_view, last_timeout_view, last_proposal_view, last_new_view_view});
}

bool SafetyState::operator==(const SafetyState& other) const {
  return view == other.view && last_vote_view == other.last_vote_view &&
         last_vote_phase == other.last_vote_phase && last_timeout_view == other.last_timeout_view &&
         last_proposal_view == other.last_proposal_view &&
         last_new_view_view == other.last_new_view_view && locked_qc == other.locked_qc &&
         high_qc == other.high_qc && commit_qc == other.commit_qc;
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
  return state;
}

}  // namespace metronome::bft
