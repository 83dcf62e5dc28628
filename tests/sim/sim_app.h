#ifndef METRONOME_TESTS_SIM_SIM_APP_H_
#define METRONOME_TESTS_SIM_SIM_APP_H_

#include <map>
#include <optional>

#include "services/bft/core/messages.h"
#include "services/bft/core/state_transfer.h"

namespace metronome::sim {

// The simulated application of one replica: a checkpointing ledger reduced to "the
// height of the last certified candidate". Candidates appear on a simulated PoW chain
// at known times; a replica sees a candidate only once it has appeared. Deterministic.
// Its state transfer sends the ledger as the 8-byte big-endian height; a fast-forward
// installs the state it was given, never one it guesses.
class SimApp : public bft::StateTransfer {
 public:
  // The ledger hash of a ledger whose last candidate has `height` (0: none).
  static Hash256 LedgerHash(uint64_t height);
  static CheckpointCandidate Candidate(uint64_t height);

  // Bodies this app creates carry a proposer block naming `node`: the nodes' interpreters
  // see different mempools, so a member's twins propose different blocks.
  void SetNode(uint32_t node) { node_ = node; }
  // The candidate heights visible now, up to `visible_height`.
  void SetVisibleHeight(uint64_t visible_height) { visible_height_ = visible_height; }

  // Leader: a body extending `parent_hash` (nullopt when the parent's ledger is
  // unknown), with the newest visible candidate above the parent's, and its post-state.
  std::optional<std::pair<Body, Hash256>> CreateBody(const Hash256& parent_hash);
  // Replica: accepts a block whose candidate is newer than its parent's and visible
  // here, and whose post-state hash follows.
  bool Validate(const bft::Block& block);
  // Decided blocks: their ledgers become known even when never validated here.
  void OnCommit(const std::vector<bft::Block>& blocks);
  // Blocks the replica stored: their ledgers can be projected from their ancestors',
  // as the real application module projects ledgers from its block store.
  void OnStored(const std::vector<bft::Block>& blocks);
  // False (nothing installed) when `state` is not the block's post-state: the member
  // is stranded, with no ledger for its next block.
  bool OnFastForward(const bft::Block& block, const Bytes& state);

  // bft::StateTransfer.
  std::optional<Bytes> StateAfter(const Hash256& post_state_hash) override;
  bool StateMatches(const Bytes& state, const Hash256& post_state_hash) const override;

  uint64_t committed_candidate_height() const { return committed_candidate_height_; }

 private:
  std::optional<uint64_t> LedgerOf(const Hash256& block_hash);
  std::optional<uint64_t> Apply(uint64_t parent_ledger, const Body& body) const;

  uint64_t visible_height_ = 0;
  uint32_t node_ = 0;
  std::map<Hash256, uint64_t> ledgers_;  // Block hash -> last candidate height.
  std::map<Hash256, bft::Block> blocks_;
  uint64_t committed_candidate_height_ = 0;
  std::optional<Hash256> committed_hash_;
};

}  // namespace metronome::sim

#endif  // METRONOME_TESTS_SIM_SIM_APP_H_
