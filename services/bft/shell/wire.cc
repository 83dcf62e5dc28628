#include "services/bft/shell/wire.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/proto_bytes.h"

namespace metronome::bft {
namespace {

// ---- Core -> proto. ----

void SetArtefact(const Bytes& payload, const Signed& signed_by, v1::SignedArtefact* out) {
  out->set_payload(StringOf(payload));
  out->set_signature(StringOf(signed_by.signature));
  out->set_signer_index(signed_by.signer);
}

void SetBlock(const Header& header, const Body& body, v1::Block* out) {
  out->set_header(StringOf(EncodeHeader(header)));
  out->set_body(StringOf(EncodeBody(body)));
}

std::string QcBytes(const QuorumCertificate& qc) { return StringOf(EncodeQuorumCertificate(qc)); }

void Fill(const Proposal& proposal, v1::ConsensusMessage* out) {
  v1::Proposal* wire = out->mutable_proposal();
  SetArtefact(EncodeProposalStatement(proposal.statement), proposal.signed_by,
              wire->mutable_artefact());
  SetBlock(proposal.statement.header, proposal.body, wire->mutable_block());
  wire->set_justify_qc(QcBytes(proposal.justify_qc));
}

void Fill(const Vote& vote, v1::ConsensusMessage* out) {
  SetArtefact(EncodeVoteStatement(vote.statement), vote.signed_by,
              out->mutable_vote()->mutable_artefact());
}

void Fill(const QuorumMessage& quorum, v1::ConsensusMessage* out) {
  out->mutable_quorum()->set_qc(QcBytes(quorum.qc));
}

void Fill(const NewView& new_view, v1::ConsensusMessage* out) {
  v1::NewView* wire = out->mutable_new_view();
  SetArtefact(EncodeNewViewStatement(new_view.statement), new_view.signed_by,
              wire->mutable_artefact());
  wire->set_prepare_qc(QcBytes(new_view.prepare_qc));
}

void Fill(const Timeout& timeout, v1::ConsensusMessage* out) {
  v1::Timeout* wire = out->mutable_timeout();
  SetArtefact(EncodeTimeoutStatement(timeout.statement), timeout.signed_by,
              wire->mutable_artefact());
  wire->set_high_qc(QcBytes(timeout.high_qc));
}

void Fill(const StatusRequest&, v1::ConsensusMessage* out) {
  out->mutable_status_request()->set_request_id(0);
}

void Fill(const SyncStatus& status, v1::ConsensusMessage* out) {
  v1::SyncStatus* wire = out->mutable_sync_status();
  wire->set_view(status.view);
  wire->set_high_qc(QcBytes(status.high_qc));
  wire->set_committed_height(status.committed_height);
  wire->set_commit_qc(QcBytes(status.commit_qc));
  if (status.timeout_certificate) {
    v1::TimeoutCertificate* tc = wire->mutable_timeout_certificate();
    tc->set_view(status.timeout_certificate->view);
    for (const auto& [statement, signed_by] : status.timeout_certificate->timeouts) {
      SetArtefact(EncodeTimeoutStatement(statement), signed_by,
                  tc->add_timeouts()->mutable_artefact());
    }
  }
}

void Fill(const BlockRequest& request, v1::ConsensusMessage* out) {
  v1::BlockRequest* wire = out->mutable_block_request();
  for (const Hash256& hash : request.hashes) wire->add_block_hashes(StringOf(hash));
  wire->set_include_ancestors(request.include_ancestors);
  wire->set_max_blocks(request.blocks_max);
  wire->set_stop_height(request.stop_height);
}

void Fill(const BlockResponse& response, v1::ConsensusMessage* out) {
  v1::BlockResponse* wire = out->mutable_block_response();
  for (const Block& block : response.blocks) {
    SetBlock(block.header, block.body, wire->add_blocks());
  }
  for (const Hash256& hash : response.missing) wire->add_missing_hashes(StringOf(hash));
  wire->set_retained_from_height(response.retained_from_height);
  wire->set_commit_qc(QcBytes(response.commit_qc));
  if (response.commit_block) {
    SetBlock(response.commit_block->header, response.commit_block->body,
             wire->mutable_commit_block());
  }
  if (response.commit_state) wire->set_commit_state(StringOf(*response.commit_state));
  for (const QuorumCertificate& qc : response.block_commit_qcs) {
    wire->add_block_commit_qcs(QcBytes(qc));
  }
}

// ---- Proto -> core. ----

// Decodes the fields of one message, stopping at the first problem. Every error names
// the message and the field path, so a peer's bad bytes can be found in a log line.
class Decoder {
 public:
  Decoder(std::string message_name, const WireLimits& limits)
      : message_name_(std::move(message_name)), limits_(limits) {}

  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }

  // Records the first failure: "<code>: <message>.<field>: <detail>".
  bool Fail(const std::string& code, const std::string& field, const std::string& detail) {
    if (status_.ok()) {
      status_ =
          absl::InvalidArgumentError(code + ": " + message_name_ + "." + field + ": " + detail);
    }
    return false;
  }

  // The canonical encoding of one `kind` artefact: within the size bound, of that kind,
  // decoding completely with no trailing bytes.
  template <typename T>
  bool Canonical(const std::string& field, const std::string& bytes, ArtefactKind kind,
                 T (*decode)(Reader*), T* out) {
    if (!ok()) return false;
    if (bytes.size() > limits_.artefact_bytes_max) {
      return Fail("artefact_too_large", field,
                  std::to_string(bytes.size()) + " bytes, at most " +
                      std::to_string(limits_.artefact_bytes_max));
    }
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    // A known kind byte in the wrong place is a confusion worth its own code; anything
    // else (empty, unknown kind) is plain malformed and the reader says why.
    if (!bytes.empty() && data[0] != static_cast<uint8_t>(kind)) {
      return Fail("wrong_kind", field,
                  "artefact kind " + std::to_string(data[0]) + ", expected " +
                      std::to_string(static_cast<int>(kind)));
    }
    Reader reader(data, bytes.size());
    T value = decode(&reader);
    reader.ExpectEnd();
    if (!reader.ok()) return Fail("malformed_" + message_name_, field, reader.error());
    *out = std::move(value);
    return true;
  }

  template <size_t N>
  bool Fixed(const std::string& field, const std::string& bytes, std::array<uint8_t, N>* out) {
    if (!ok()) return false;
    if (!CopyFixed(bytes, out)) {
      return Fail("malformed_" + message_name_, field,
                  std::to_string(bytes.size()) + " bytes, expected " + std::to_string(N));
    }
    return true;
  }

  // A signed statement of `kind`: the payload, a 64-byte signature, a member index.
  template <typename T>
  bool Artefact(const std::string& field, const v1::SignedArtefact& artefact, ArtefactKind kind,
                T (*decode)(Reader*), T* statement, Signed* signed_by) {
    if (!Canonical(field + ".payload", artefact.payload(), kind, decode, statement)) return false;
    if (!Fixed(field + ".signature", artefact.signature(), &signed_by->signature)) return false;
    if (artefact.signer_index() >= limits_.members) {
      return Fail(
          "signer_out_of_range", field + ".signer_index",
          std::to_string(artefact.signer_index()) + ", members " + std::to_string(limits_.members));
    }
    signed_by->signer = artefact.signer_index();
    return true;
  }

  bool Qc(const std::string& field, const std::string& bytes, QuorumCertificate* out) {
    return Canonical(field, bytes, ArtefactKind::kQuorumCertificate, &DecodeQuorumCertificate, out);
  }

  bool BlockOf(const std::string& field, const v1::Block& wire, Block* out) {
    return Canonical(field + ".header", wire.header(), ArtefactKind::kHeader, &DecodeHeader,
                     &out->header) &&
           Canonical(field + ".body", wire.body(), ArtefactKind::kBody, &DecodeBody, &out->body);
  }

  // A repeated field's size against its bound, checked before any element is decoded.
  bool AtMost(const std::string& code, const std::string& field, int size, size_t size_max) {
    if (!ok()) return false;
    if (static_cast<size_t>(size) > size_max) {
      return Fail(code, field,
                  std::to_string(size) + " entries, at most " + std::to_string(size_max));
    }
    return true;
  }

  bool Hashes(const std::string& field, const google::protobuf::RepeatedPtrField<std::string>& wire,
              std::vector<Hash256>* out) {
    if (!AtMost("too_many_hashes", field, wire.size(), limits_.block_hashes_max)) return false;
    for (int i = 0; i < wire.size(); ++i) {
      Hash256 hash{};
      if (!Fixed(field + "[" + std::to_string(i) + "]", wire.Get(i), &hash)) return false;
      out->push_back(hash);
    }
    return true;
  }

  const WireLimits& limits() const { return limits_; }

 private:
  std::string message_name_;
  const WireLimits& limits_;
  absl::Status status_;
};

absl::StatusOr<Message> Decoded(const Decoder& decoder, Message message) {
  if (!decoder.ok()) return decoder.status();
  return message;
}

absl::StatusOr<Message> DecodeProposal(const v1::Proposal& wire, const WireLimits& limits) {
  Decoder decoder("proposal", limits);
  Proposal proposal;
  Block block;
  if (decoder.Artefact("artefact", wire.artefact(), ArtefactKind::kProposal,
                       &DecodeProposalStatement, &proposal.statement, &proposal.signed_by) &&
      decoder.BlockOf("block", wire.block(), &block) &&
      decoder.Qc("justify_qc", wire.justify_qc(), &proposal.justify_qc)) {
    // The core keeps one header, the signed one: a different block header would be
    // silently dropped, so it is refused here.
    if (!(block.header == proposal.statement.header)) {
      decoder.Fail("header_mismatch", "block.header", "differs from the signed header");
    }
    proposal.body = std::move(block.body);
  }
  return Decoded(decoder, std::move(proposal));
}

absl::StatusOr<Message> DecodeVote(const v1::Vote& wire, const WireLimits& limits) {
  Decoder decoder("vote", limits);
  Vote vote;
  decoder.Artefact("artefact", wire.artefact(), ArtefactKind::kVote, &DecodeVoteStatement,
                   &vote.statement, &vote.signed_by);
  return Decoded(decoder, std::move(vote));
}

absl::StatusOr<Message> DecodeTimeout(const v1::Timeout& wire, const WireLimits& limits) {
  Decoder decoder("timeout", limits);
  Timeout timeout;
  if (decoder.Artefact("artefact", wire.artefact(), ArtefactKind::kTimeout, &DecodeTimeoutStatement,
                       &timeout.statement, &timeout.signed_by)) {
    decoder.Qc("high_qc", wire.high_qc(), &timeout.high_qc);
  }
  return Decoded(decoder, std::move(timeout));
}

absl::StatusOr<Message> DecodeNewView(const v1::NewView& wire, const WireLimits& limits) {
  Decoder decoder("new_view", limits);
  NewView new_view;
  if (decoder.Artefact("artefact", wire.artefact(), ArtefactKind::kNewView, &DecodeNewViewStatement,
                       &new_view.statement, &new_view.signed_by)) {
    decoder.Qc("prepare_qc", wire.prepare_qc(), &new_view.prepare_qc);
  }
  return Decoded(decoder, std::move(new_view));
}

absl::StatusOr<Message> DecodeQuorum(const v1::Quorum& wire, const WireLimits& limits) {
  Decoder decoder("quorum", limits);
  QuorumMessage quorum;
  decoder.Qc("qc", wire.qc(), &quorum.qc);
  return Decoded(decoder, std::move(quorum));
}

bool DecodeTimeoutCertificate(Decoder* decoder, const v1::TimeoutCertificate& wire,
                              TimeoutCertificate* out) {
  const std::string field = "timeout_certificate.timeouts";
  if (!decoder->AtMost("too_many_timeouts", field, wire.timeouts_size(),
                       decoder->limits().members)) {
    return false;
  }
  out->view = wire.view();
  for (int i = 0; i < wire.timeouts_size(); ++i) {
    const std::string entry = field + "[" + std::to_string(i) + "]";
    const v1::Timeout& timeout = wire.timeouts(i);
    // Entries name their high QC by view and hash; a QC here would be unchecked bulk.
    if (!timeout.high_qc().empty()) {
      return decoder->Fail("malformed_sync_status", entry + ".high_qc", "must be empty");
    }
    TimeoutStatement statement;
    Signed signed_by;
    if (!decoder->Artefact(entry + ".artefact", timeout.artefact(), ArtefactKind::kTimeout,
                           &DecodeTimeoutStatement, &statement, &signed_by)) {
      return false;
    }
    out->timeouts.emplace_back(statement, signed_by);
  }
  return true;
}

absl::StatusOr<Message> DecodeSyncStatus(const v1::SyncStatus& wire, const WireLimits& limits) {
  Decoder decoder("sync_status", limits);
  SyncStatus status;
  status.view = wire.view();
  status.committed_height = wire.committed_height();
  if (decoder.Qc("high_qc", wire.high_qc(), &status.high_qc) &&
      decoder.Qc("commit_qc", wire.commit_qc(), &status.commit_qc) &&
      wire.has_timeout_certificate()) {
    TimeoutCertificate tc;
    if (DecodeTimeoutCertificate(&decoder, wire.timeout_certificate(), &tc)) {
      status.timeout_certificate = std::move(tc);
    }
  }
  return Decoded(decoder, std::move(status));
}

absl::StatusOr<Message> DecodeBlockRequest(const v1::BlockRequest& wire, const WireLimits& limits) {
  Decoder decoder("block_request", limits);
  BlockRequest request;
  if (decoder.Hashes("block_hashes", wire.block_hashes(), &request.hashes)) {
    if (wire.max_blocks() == 0) {
      decoder.Fail("malformed_block_request", "max_blocks", "must be at least 1");
    }
    request.include_ancestors = wire.include_ancestors();
    request.stop_height = wire.stop_height();
    // A larger ask is not malformed, only more than we serve.
    request.blocks_max = std::min(wire.max_blocks(), limits.blocks_max);
  }
  return Decoded(decoder, std::move(request));
}

absl::StatusOr<Message> DecodeBlockResponse(const v1::BlockResponse& wire,
                                            const WireLimits& limits) {
  Decoder decoder("block_response", limits);
  BlockResponse response;
  if (decoder.AtMost("too_many_blocks", "blocks", wire.blocks_size(), limits.blocks_max)) {
    for (int i = 0; i < wire.blocks_size(); ++i) {
      Block block;
      if (!decoder.BlockOf("blocks[" + std::to_string(i) + "]", wire.blocks(i), &block)) break;
      response.blocks.push_back(std::move(block));
    }
  }
  response.retained_from_height = wire.retained_from_height();
  if (decoder.Hashes("missing_hashes", wire.missing_hashes(), &response.missing) &&
      decoder.Qc("commit_qc", wire.commit_qc(), &response.commit_qc) && wire.has_commit_block()) {
    Block block;
    if (decoder.BlockOf("commit_block", wire.commit_block(), &block)) {
      response.commit_block = std::move(block);
    }
  }
  if (wire.commit_state().size() > limits.artefact_bytes_max) {
    decoder.Fail("artefact_too_large", "commit_state",
                 std::to_string(wire.commit_state().size()) + " bytes, at most " +
                     std::to_string(limits.artefact_bytes_max));
  } else if (!wire.commit_state().empty()) {
    response.commit_state = BytesOf(wire.commit_state());
  }
  if (decoder.AtMost("too_many_qcs", "block_commit_qcs", wire.block_commit_qcs_size(),
                     limits.blocks_max)) {
    for (int i = 0; i < wire.block_commit_qcs_size() && decoder.ok(); ++i) {
      QuorumCertificate qc;
      if (decoder.Qc("block_commit_qcs[" + std::to_string(i) + "]", wire.block_commit_qcs(i),
                     &qc)) {
        response.block_commit_qcs.push_back(std::move(qc));
      }
    }
  }
  return Decoded(decoder, std::move(response));
}

}  // namespace

v1::ConsensusMessage ToProto(const Message& message) {
  v1::ConsensusMessage out;
  std::visit([&out](const auto& typed) { Fill(typed, &out); }, message);
  return out;
}

absl::StatusOr<Message> FromProto(const v1::ConsensusMessage& message, const WireLimits& limits) {
  switch (message.kind_case()) {
    case v1::ConsensusMessage::kProposal:
      return DecodeProposal(message.proposal(), limits);
    case v1::ConsensusMessage::kVote:
      return DecodeVote(message.vote(), limits);
    case v1::ConsensusMessage::kTimeout:
      return DecodeTimeout(message.timeout(), limits);
    case v1::ConsensusMessage::kNewView:
      return DecodeNewView(message.new_view(), limits);
    case v1::ConsensusMessage::kQuorum:
      return DecodeQuorum(message.quorum(), limits);
    case v1::ConsensusMessage::kSyncStatus:
      return DecodeSyncStatus(message.sync_status(), limits);
    case v1::ConsensusMessage::kStatusRequest:
      return Message{StatusRequest{}};  // The core answers every request alike.
    case v1::ConsensusMessage::kBlockRequest:
      return DecodeBlockRequest(message.block_request(), limits);
    case v1::ConsensusMessage::kBlockResponse:
      return DecodeBlockResponse(message.block_response(), limits);
    case v1::ConsensusMessage::kLedgerRequest:
    case v1::ConsensusMessage::kLedgerResponse:
      return absl::InvalidArgumentError(
          "not_core_message: ledger messages are served by the "
          "shell, not the consensus core");
    case v1::ConsensusMessage::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("empty_message: no message kind set");
}

v1::StreamRecord StreamRecordToProto(const StreamRecord& record, uint64_t sequence,
                                     const PublicKey& observer, uint64_t observed_unix_ms) {
  v1::StreamRecord out;
  out.set_sequence(sequence);
  out.set_view(record.view);
  switch (record.source) {
    case StreamRecord::Source::kOwn:
      out.set_source(v1::StreamRecord::SOURCE_OWN);
      break;
    case StreamRecord::Source::kReceived:
      out.set_source(v1::StreamRecord::SOURCE_RECEIVED);
      break;
    case StreamRecord::Source::kSynced:
      out.set_source(v1::StreamRecord::SOURCE_SYNCED);
      break;
  }
  out.set_rejected_by_consensus(record.rejected);
  out.set_rejection_reason(record.rejection_reason);
  switch (record.item) {
    case StreamRecord::Item::kArtefact:
      SetArtefact(record.payload, Signed{record.signer, record.signature}, out.mutable_artefact());
      break;
    case StreamRecord::Item::kQc:
      out.set_qc(StringOf(record.payload));
      break;
    case StreamRecord::Item::kHeader:
      out.set_header(StringOf(record.payload));
      break;
  }
  out.set_observer_public_key(StringOf(observer));
  out.set_observed_unix_ms(observed_unix_ms);
  return out;
}

}  // namespace metronome::bft
