#include "services/pow_adapter/core/test_chain.h"

#include "common/assert.h"

namespace metronome::devchain::testing {

DevchainBlock MakeChild(const Devchain& chain, const BlockEntry& parent, const std::string& miner,
                        uint64_t time_step_ms) {
  DevchainBlock block;
  block.header.parent = parent.hash;
  block.header.height = parent.height + 1;
  block.header.time_ms =
      std::max(parent.block.header.time_ms + time_step_ms, chain.MinimumChildTime(parent));
  block.header.target = chain.params().target;
  block.transactions.push_back(EncodeCoinbase(Coinbase{block.header.height, miner}));
  block.header.tx_root = TransactionRoot(block.transactions);
  METRONOME_ASSERT(SearchNonce(&block.header, 0, 1 << 24).has_value());
  return block;
}

const BlockEntry& Extend(Devchain* chain, const BlockEntry& parent, size_t count,
                         const std::string& miner, uint64_t now_ms) {
  const BlockEntry* tip = &parent;
  for (size_t i = 0; i < count; ++i) {
    const BlockOutcome outcome = chain->AddBlock(MakeChild(*chain, *tip, miner), now_ms);
    METRONOME_ASSERT(outcome.accepted());
    tip = chain->Find(outcome.hash);
  }
  return *tip;
}

ChainParams ParamsFor(const Federation& federation) {
  ChainParams params;
  params.chain_id = federation.chain_id();
  params.federation = federation.encoded();
  return params;
}

Bytes CertifyBlock(const metronome::testing::TestFederation& federation, const BlockEntry& entry) {
  CheckpointCandidate candidate;
  candidate.chain_id = federation.federation.chain_id();
  candidate.pow_height = entry.height;
  candidate.pow_block_hash.assign(entry.hash.begin(), entry.hash.end());
  return EncodeCheckpointCertificate(
      metronome::testing::MakeCertificateSignedByQuorum(federation, candidate));
}

}  // namespace metronome::devchain::testing
