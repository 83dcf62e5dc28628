#ifndef METRONOME_SERVICES_POW_ADAPTER_SHELL_CHAIN_BACKEND_H_
#define METRONOME_SERVICES_POW_ADAPTER_SHELL_CHAIN_BACKEND_H_

#include <functional>
#include <optional>

#include "common/bytes.h"
#include "metronome/v1/chain.pb.h"
#include "services/pow_adapter/core/chain_facts.h"

// What the adapter's Chain API client needs from a PoW chain (DESIGN §2, §5): one
// consistent snapshot of the tip and checkpoint state, facts about blocks, the block
// at a depth, and durable enforcement of certificates the backend verified itself.
// The embedded devchain (DevchainNode) implements it; a backend for unmodified
// Bitcoin-Core-family nodes (litecoind) implements the same seam. Implementations are
// thread-safe and answer from their own state without blocking for long.
namespace metronome::pow_adapter {

// The tip and the adapter status, read together.
struct ChainSnapshot {
  v1::AdapterStatus status;  // Chain id, node reachable, frozen, enforcing, applied checkpoint.
  uint64_t tip_height = 0;
  Bytes tip_hash;
};

class ChainBackend {
 public:
  virtual ~ChainBackend() = default;

  virtual ChainSnapshot Snapshot() = 0;
  // Facts about the block `hash` claimed at `height`, relative to the best chain and to
  // `checkpoint_hash` (unset: every known block descends).
  virtual devchain::BlockFactsAnswer Facts(const Bytes& hash, uint64_t height,
                                           const std::optional<Bytes>& checkpoint_hash) = 0;
  virtual devchain::BlockAtDepthAnswer AtDepth(uint64_t depth) = 0;
  // Verifies and enforces a certificate (DESIGN §5), returning only once the outcome is
  // durable when it says durable. request_id is left for the caller to set.
  virtual v1::CheckpointApplied ApplyCheckpoint(const v1::Certificate& certificate) = 0;
  // Called (from any thread, possibly with the backend's locks held: the listener only
  // notes the change) whenever the best tip changes. nullptr removes it.
  virtual void SetTipListener(std::function<void()> listener) = 0;
};

}  // namespace metronome::pow_adapter

#endif  // METRONOME_SERVICES_POW_ADAPTER_SHELL_CHAIN_BACKEND_H_
