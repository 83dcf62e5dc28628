#ifndef METRONOME_SERVICES_BFT_SHELL_INBOUND_BUDGET_H_
#define METRONOME_SERVICES_BFT_SHELL_INBOUND_BUDGET_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/registry.h"

namespace metronome::bft {

// What each peer may have waiting between the transport's reader threads and the
// consensus actor, in messages and in bytes (DESIGN §3: quotas in bytes, per peer). A
// peer over its budget has its next messages dropped, counted per peer and reason
// (metronome_bft_inbound_dropped_total{peer, reason="messages"|"bytes"}) and logged (the
// first drop of a run of drops, then every 1000th), so one member's flood of large
// messages cannot grow another's memory without bound.
//
// Thread-safe: Admit runs on the transport's reader threads, Release on the actor's.
// Every admitted message must be released exactly once, with the same byte count.
class InboundBudget {
 public:
  InboundBudget(uint32_t peers, size_t messages_max, size_t bytes_max,
                prometheus::Registry* registry);

  // True (and the message counted as waiting) when `peer` stays within its budget.
  bool Admit(uint32_t peer, size_t bytes);
  void Release(uint32_t peer, size_t bytes);

  size_t waiting_bytes(uint32_t peer) const { return peers_[peer].bytes.load(); }

 private:
  struct Peer {
    std::atomic<size_t> messages{0};
    std::atomic<size_t> bytes{0};
    std::atomic<uint64_t> dropped_in_a_row{0};
    prometheus::Counter* dropped_messages = nullptr;
    prometheus::Counter* dropped_bytes = nullptr;
  };
  void Drop(uint32_t peer, const char* reason, size_t bytes);

  size_t messages_max_;
  size_t bytes_max_;
  std::unique_ptr<Peer[]> peers_;
  uint32_t peer_count_;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_SHELL_INBOUND_BUDGET_H_
