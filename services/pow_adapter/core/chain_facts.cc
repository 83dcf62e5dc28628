#include "services/pow_adapter/core/chain_facts.h"

#include <algorithm>

namespace metronome::devchain {
namespace {

const BlockEntry* FindBytes(const Devchain& chain, const Bytes& hash) {
  if (hash.size() != 32) return nullptr;
  Hash256 fixed;
  std::copy(hash.begin(), hash.end(), fixed.begin());
  return chain.Find(fixed);
}

}  // namespace

BlockFactsAnswer FactsAbout(const Devchain& chain, const Bytes& hash, uint64_t height,
                            const std::optional<Bytes>& checkpoint_hash) {
  BlockFactsAnswer answer;
  const BlockEntry* entry = FindBytes(chain, hash);
  if (entry == nullptr || entry->height != height) return answer;
  answer.known = true;
  answer.first_seen_ms = entry->first_seen_ms;
  answer.on_best_chain = chain.OnBestChain(*entry);
  if (answer.on_best_chain) answer.depth = chain.tip().height - entry->height;
  if (!checkpoint_hash || checkpoint_hash->empty()) {
    answer.descends_from_checkpoint = true;
  } else if (const BlockEntry* checkpoint = FindBytes(chain, *checkpoint_hash)) {
    answer.descends_from_checkpoint = chain.DescendsFrom(*entry, *checkpoint);
  }
  return answer;
}

BlockAtDepthAnswer BlockAtDepth(const Devchain& chain, uint64_t depth) {
  BlockAtDepthAnswer answer;
  const BlockEntry& tip = chain.tip();
  answer.tip_height = tip.height;
  answer.tip_hash = tip.hash;
  if (depth > tip.height) return answer;
  const BlockEntry* entry = chain.BestChainAt(tip.height - depth);
  answer.found = true;
  answer.height = entry->height;
  answer.hash = entry->hash;
  answer.first_seen_ms = entry->first_seen_ms;
  return answer;
}

}  // namespace metronome::devchain
