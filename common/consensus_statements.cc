#include "common/consensus_statements.h"

namespace metronome {

bool ProposalStatement::operator==(const ProposalStatement& other) const {
  return protocol_id == other.protocol_id && view == other.view && header == other.header &&
         justify_qc == other.justify_qc;
}

bool TimeoutStatement::operator==(const TimeoutStatement& other) const {
  return protocol_id == other.protocol_id && view == other.view && high_qc == other.high_qc;
}

bool NewViewStatement::operator==(const NewViewStatement& other) const {
  return protocol_id == other.protocol_id && view == other.view && prepare_qc == other.prepare_qc;
}

Bytes EncodeProposalStatement(const ProposalStatement& statement) {
  Writer writer;
  writer.Kind(ArtefactKind::kProposal);
  writer.U32(statement.protocol_id);
  writer.U64(statement.view);
  EncodeHeader(statement.header, &writer);
  EncodeQuorumCertificate(statement.justify_qc, &writer);
  return writer.Take();
}

ProposalStatement DecodeProposalStatement(Reader* reader) {
  ProposalStatement statement;
  reader->ExpectKind(ArtefactKind::kProposal);
  statement.protocol_id = reader->U32();
  statement.view = reader->U64();
  statement.header = DecodeHeader(reader);
  statement.justify_qc = DecodeQuorumCertificate(reader);
  return statement;
}

Bytes EncodeTimeoutStatement(const TimeoutStatement& statement) {
  Writer writer;
  writer.Kind(ArtefactKind::kTimeout);
  writer.U32(statement.protocol_id);
  writer.U64(statement.view);
  EncodeQuorumCertificate(statement.high_qc, &writer);
  return writer.Take();
}

TimeoutStatement DecodeTimeoutStatement(Reader* reader) {
  TimeoutStatement statement;
  reader->ExpectKind(ArtefactKind::kTimeout);
  statement.protocol_id = reader->U32();
  statement.view = reader->U64();
  statement.high_qc = DecodeQuorumCertificate(reader);
  return statement;
}

Bytes EncodeNewViewStatement(const NewViewStatement& statement) {
  Writer writer;
  writer.Kind(ArtefactKind::kNewView);
  writer.U32(statement.protocol_id);
  writer.U64(statement.view);
  EncodeQuorumCertificate(statement.prepare_qc, &writer);
  return writer.Take();
}

NewViewStatement DecodeNewViewStatement(Reader* reader) {
  NewViewStatement statement;
  reader->ExpectKind(ArtefactKind::kNewView);
  statement.protocol_id = reader->U32();
  statement.view = reader->U64();
  statement.prepare_qc = DecodeQuorumCertificate(reader);
  return statement;
}

}  // namespace metronome
