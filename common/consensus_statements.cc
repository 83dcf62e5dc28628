#include "common/consensus_statements.h"

namespace metronome {
namespace {

// Timeouts and new-views share a shape: (protocol, view, QC view, QC block hash).
void EncodeViewAndQc(ArtefactKind kind, uint32_t protocol_id, uint64_t view, uint64_t qc_view,
                     const Hash256& qc_block_hash, Writer* writer) {
  writer->Kind(kind);
  writer->U32(protocol_id);
  writer->U64(view);
  writer->U64(qc_view);
  writer->Fixed(qc_block_hash);
}

}  // namespace

bool ProposalStatement::operator==(const ProposalStatement& other) const {
  return protocol_id == other.protocol_id && view == other.view && header == other.header &&
         justify_view == other.justify_view;
}

bool TimeoutStatement::operator==(const TimeoutStatement& other) const {
  return protocol_id == other.protocol_id && view == other.view &&
         high_qc_view == other.high_qc_view && high_qc_block_hash == other.high_qc_block_hash;
}

bool NewViewStatement::operator==(const NewViewStatement& other) const {
  return protocol_id == other.protocol_id && view == other.view &&
         prepare_qc_view == other.prepare_qc_view &&
         prepare_qc_block_hash == other.prepare_qc_block_hash;
}

Bytes EncodeProposalStatement(const ProposalStatement& statement) {
  Writer writer;
  writer.Kind(ArtefactKind::kProposal);
  writer.U32(statement.protocol_id);
  writer.U64(statement.view);
  EncodeHeader(statement.header, &writer);
  writer.U64(statement.justify_view);
  return writer.Take();
}

ProposalStatement DecodeProposalStatement(Reader* reader) {
  ProposalStatement statement;
  reader->ExpectKind(ArtefactKind::kProposal);
  statement.protocol_id = reader->U32();
  statement.view = reader->U64();
  statement.header = DecodeHeader(reader);
  statement.justify_view = reader->U64();
  return statement;
}

Bytes EncodeTimeoutStatement(const TimeoutStatement& statement) {
  Writer writer;
  EncodeViewAndQc(ArtefactKind::kTimeout, statement.protocol_id, statement.view,
                  statement.high_qc_view, statement.high_qc_block_hash, &writer);
  return writer.Take();
}

TimeoutStatement DecodeTimeoutStatement(Reader* reader) {
  TimeoutStatement statement;
  reader->ExpectKind(ArtefactKind::kTimeout);
  statement.protocol_id = reader->U32();
  statement.view = reader->U64();
  statement.high_qc_view = reader->U64();
  statement.high_qc_block_hash = reader->Fixed<32>();
  return statement;
}

Bytes EncodeNewViewStatement(const NewViewStatement& statement) {
  Writer writer;
  EncodeViewAndQc(ArtefactKind::kNewView, statement.protocol_id, statement.view,
                  statement.prepare_qc_view, statement.prepare_qc_block_hash, &writer);
  return writer.Take();
}

NewViewStatement DecodeNewViewStatement(Reader* reader) {
  NewViewStatement statement;
  reader->ExpectKind(ArtefactKind::kNewView);
  statement.protocol_id = reader->U32();
  statement.view = reader->U64();
  statement.prepare_qc_view = reader->U64();
  statement.prepare_qc_block_hash = reader->Fixed<32>();
  return statement;
}

}  // namespace metronome
