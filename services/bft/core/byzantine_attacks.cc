// Test-only (METRONOME_BYZANTINE_TEST_BUILD): the attacks a hostile member sent on main,
// added to an otherwise honest replica's outputs, for the real-process test
// tests/integration/bft:bft_byzantine_test. Never linked into the product: only the
// core_byzantine library compiles this file.
#include "common/domain_tags.h"
#include "services/bft/core/replica.h"

namespace metronome::bft {

void Replica::AddByzantineAttacks() {
  ++attack_round_;
  std::vector<Send> extra;
  // The crash: votes with phases 4, 5, ... for the view and block of every vote we send
  // (a leader once aborted on more than 3n (signer, phase) pairs).
  for (const Send& send : out_.sends) {
    const auto* vote = std::get_if<Vote>(&send.message);
    if (vote == nullptr) continue;
    for (uint32_t phase = 4; phase < 4 + 3 * federation_.n() + 2; ++phase) {
      Vote bad = *vote;
      bad.statement.phase = static_cast<Phase>(phase);
      bad.signed_by.signature =
          SignTagged(config_.key, kTagVote, federation_.id(), EncodeVoteStatement(bad.statement));
      extra.push_back({send.to, bad});
    }
  }
  // The forced fast-forward: unsolicited answers claiming everything below a huge height
  // is pruned, offering our decision with a state that does not match (or none).
  if (attack_round_ % 8 == 0 && safety_.commit_qc.view > 0) {
    BlockResponse lie;
    lie.missing = {safety_.commit_qc.block_hash};
    lie.retained_from_height = uint64_t{1} << 40;
    lie.commit_qc = safety_.commit_qc;
    if (const Block* block = blocks_.Find(safety_.commit_qc.block_hash)) lie.commit_block = *block;
    if (attack_round_ % 16 == 0) lie.commit_state = Bytes{0xba, 0xad};
    extra.push_back({kBroadcast, lie});
  }
  // A flood of validly signed future votes (the stash).
  if (attack_round_ % 4 == 0) {
    for (uint64_t ahead = 1; ahead <= 32; ++ahead) {
      const uint64_t view = view_ + ahead;
      const uint32_t leader = LeaderOf(view);
      if (leader == config_.self) continue;
      Vote flood;
      flood.statement = VoteStatement{federation_.protocol_id(), Phase::kPrepare, view,
                                      Hash256{static_cast<uint8_t>(ahead)}, view - 1};
      flood.signed_by = {config_.self, SignTagged(config_.key, kTagVote, federation_.id(),
                                                  EncodeVoteStatement(flood.statement))};
      extra.push_back({leader, flood});
    }
  }
  for (Send& send : extra) out_.sends.push_back(std::move(send));
}

}  // namespace metronome::bft
