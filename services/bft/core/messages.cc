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

}  // namespace metronome::bft
