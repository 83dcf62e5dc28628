#include "services/bft/core/messages.h"

namespace metronome::bft {

const char* MessageName(const Message& message) {
  static constexpr const char* kNames[] = {"proposal",    "vote",          "quorum",
                                           "new_view",    "timeout",       "status_request",
                                           "sync_status", "block_request", "block_response"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == std::variant_size_v<Message>);
  return kNames[message.index()];
}

std::optional<uint64_t> MessageView(const Message& message) {
  if (const auto* proposal = std::get_if<Proposal>(&message)) return proposal->statement.view;
  if (const auto* vote = std::get_if<Vote>(&message)) return vote->statement.view;
  if (const auto* quorum = std::get_if<QuorumMessage>(&message)) return quorum->qc.view;
  if (const auto* new_view = std::get_if<NewView>(&message)) return new_view->statement.view;
  if (const auto* timeout = std::get_if<Timeout>(&message)) return timeout->statement.view;
  return std::nullopt;
}

size_t ApproxBytes(const Message& message) {
  // Fixed parts (statements, signatures, one QC) fit in 1 KiB at n <= 1024 members'
  // bitmaps of 128 bytes plus q signatures: counted per signature below.
  constexpr size_t kFixed = 512;
  auto qc_bytes = [](const QuorumCertificate& qc) {
    return 64 + qc.signer_bitmap.size() + qc.signatures.size() * sizeof(Signature);
  };
  auto body_bytes = [](const Body& body) {
    size_t total = 4;
    for (const Transaction& tx : body.transactions) total += EncodeTransaction(tx).size();
    return total;
  };
  if (const auto* proposal = std::get_if<Proposal>(&message)) {
    return kFixed + qc_bytes(proposal->justify_qc) + body_bytes(proposal->body);
  }
  if (const auto* quorum = std::get_if<QuorumMessage>(&message)) {
    return kFixed + qc_bytes(quorum->qc);
  }
  if (const auto* new_view = std::get_if<NewView>(&message)) {
    return kFixed + qc_bytes(new_view->prepare_qc);
  }
  if (const auto* timeout = std::get_if<Timeout>(&message)) {
    return kFixed + qc_bytes(timeout->high_qc);
  }
  if (const auto* status = std::get_if<SyncStatus>(&message)) {
    size_t total = kFixed + qc_bytes(status->high_qc) + qc_bytes(status->commit_qc);
    if (status->timeout_certificate) total += status->timeout_certificate->timeouts.size() * 256;
    return total;
  }
  if (const auto* response = std::get_if<BlockResponse>(&message)) {
    size_t total = kFixed + qc_bytes(response->commit_qc);
    for (const Block& block : response->blocks) total += 256 + body_bytes(block.body);
    if (response->commit_block) total += 256 + body_bytes(response->commit_block->body);
    if (response->commit_state) total += response->commit_state->size();
    for (const QuorumCertificate& qc : response->block_commit_qcs) total += qc_bytes(qc);
    return total;
  }
  if (const auto* request = std::get_if<BlockRequest>(&message)) {
    return kFixed + request->hashes.size() * sizeof(Hash256);
  }
  return kFixed;
}

}  // namespace metronome::bft
