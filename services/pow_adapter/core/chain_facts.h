#ifndef METRONOME_SERVICES_POW_ADAPTER_CORE_CHAIN_FACTS_H_
#define METRONOME_SERVICES_POW_ADAPTER_CORE_CHAIN_FACTS_H_

#include <cstdint>
#include <optional>

#include "common/bytes.h"
#include "services/pow_adapter/core/devchain.h"

// The facts the adapter reports to its interpreter over the Chain API
// (proto/metronome/v1/chain.proto: BlockQuery -> BlockFacts, BlockAtDepthRequest ->
// BlockAtDepthResponse), computed from one consistent view of the chain. Pure.
namespace metronome::devchain {

struct BlockFactsAnswer {
  // A block with this hash is known at the queried height.
  bool known = false;
  bool on_best_chain = false;
  uint64_t depth = 0;  // Tip height - block height; meaningful when on_best_chain.
  // The block is, or descends from, the query's checkpoint (true for every known block
  // when the query names none; false when the named checkpoint is unknown here).
  bool descends_from_checkpoint = false;
  uint64_t first_seen_ms = 0;
};

// `hash` must be 32 bytes to be known (PoW hashes in chain.proto are up to 64 bytes).
BlockFactsAnswer FactsAbout(const Devchain& chain, const Bytes& hash, uint64_t height,
                            const std::optional<Bytes>& checkpoint_hash);

struct BlockAtDepthAnswer {
  bool found = false;  // False when the best chain is shorter than the depth.
  uint64_t height = 0;
  Hash256 hash{};
  uint64_t first_seen_ms = 0;
  uint64_t tip_height = 0;
  Hash256 tip_hash{};
};

BlockAtDepthAnswer BlockAtDepth(const Devchain& chain, uint64_t depth);

}  // namespace metronome::devchain

#endif  // METRONOME_SERVICES_POW_ADAPTER_CORE_CHAIN_FACTS_H_
