#include "services/bft/shell/inbound_budget.h"

#include "common/assert.h"
#include "common/log.h"

namespace metronome::bft {

InboundBudget::InboundBudget(uint32_t peers, size_t messages_max, size_t bytes_max,
                             prometheus::Registry* registry)
    : messages_max_(messages_max),
      bytes_max_(bytes_max),
      peers_(new Peer[peers]),
      peer_count_(peers) {
  METRONOME_ASSERT(messages_max >= 1 && bytes_max >= 1);
  auto& family = prometheus::BuildCounter()
                     .Name("metronome_bft_inbound_dropped_total")
                     .Help(
                         "Peer messages dropped: the peer had too many messages or bytes "
                         "waiting for the consensus actor")
                     .Register(*registry);
  for (uint32_t peer = 0; peer < peers; ++peer) {
    // Every series exists from the start, so rate() and absent() alerts have data.
    peers_[peer].dropped_messages =
        &family.Add({{"peer", std::to_string(peer)}, {"reason", "messages"}});
    peers_[peer].dropped_bytes = &family.Add({{"peer", std::to_string(peer)}, {"reason", "bytes"}});
  }
}

bool InboundBudget::Admit(uint32_t peer, size_t bytes) {
  METRONOME_ASSERT(peer < peer_count_);  // The transport authenticated the peer's index.
  Peer& state = peers_[peer];
  if (state.messages.fetch_add(1) >= messages_max_) {
    state.messages.fetch_sub(1);
    Drop(peer, "messages", bytes);
    return false;
  }
  if (state.bytes.fetch_add(bytes) + bytes > bytes_max_) {
    state.bytes.fetch_sub(bytes);
    state.messages.fetch_sub(1);
    Drop(peer, "bytes", bytes);
    return false;
  }
  state.dropped_in_a_row.store(0);
  return true;
}

void InboundBudget::Release(uint32_t peer, size_t bytes) {
  METRONOME_ASSERT(peer < peer_count_);
  Peer& state = peers_[peer];
  METRONOME_ASSERT(state.messages.load() >= 1 && state.bytes.load() >= bytes);
  state.messages.fetch_sub(1);
  state.bytes.fetch_sub(bytes);
}

void InboundBudget::Drop(uint32_t peer, const char* reason, size_t bytes) {
  Peer& state = peers_[peer];
  (std::string(reason) == "bytes" ? state.dropped_bytes : state.dropped_messages)->Increment();
  const uint64_t in_a_row = state.dropped_in_a_row.fetch_add(1);
  if (in_a_row % 1000 == 0) {
    LogWarn("peer over its inbound budget; dropping its messages",
            {{"peer", peer},
             {"reason", reason},
             {"message_bytes", bytes},
             {"waiting_messages", state.messages.load()},
             {"waiting_bytes", state.bytes.load()},
             {"messages_max", messages_max_},
             {"bytes_max", bytes_max_},
             {"dropped_in_a_row", in_a_row + 1}});
  }
}

}  // namespace metronome::bft
