#include "services/bft/core/replica_test_harness.h"

#include "common/assert.h"
#include "common/domain_tags.h"
#include "services/bft/core/certificate_checker.h"

namespace metronome::bft::testing {
Hash256 FilledHash(uint8_t value) {
  Hash256 hash;
  hash.fill(value);
  return hash;
}

std::optional<Bytes> HashStateTransfer::StateAfter(const Hash256& post_state_hash) {
  auto found = states.find(post_state_hash);
  if (found == states.end()) return std::nullopt;
  return found->second;
}

ReplicaHarness::ReplicaHarness(uint32_t self, uint32_t n)
    : test_(metronome::testing::MakeTestFederation(n)) {
  config_.federation = &test_.federation;
  config_.self = self;
  config_.key = test_.keys[self];
  config_.genesis_post_state_hash = FilledHash(0x6e);
  config_.state_transfer = &state_transfer_;
  genesis_ = GenesisBlock(config_.genesis_post_state_hash);
  genesis_qc_ = GenesisQc(genesis_.hash());
}

Outputs ReplicaHarness::Start(const RestoredState& restored) {
  METRONOME_ASSERT(replica_ == nullptr);
  replica_ = std::make_unique<Replica>(config_);
  return replica_->Start(restored);
}

SafetyState ReplicaHarness::FreshSafety() const {
  SafetyState safety;
  safety.locked_qc = genesis_qc_;
  safety.high_qc = genesis_qc_;
  safety.commit_qc = genesis_qc_;
  return safety;
}

Block ReplicaHarness::MakeBlock(const Block& parent, uint64_t view, Body body) const {
  Block block;
  block.body = std::move(body);
  block.header.parent_hash = parent.hash();
  block.header.height = parent.header.height + 1;
  block.header.view = view;
  block.header.post_state_hash = FilledHash(static_cast<uint8_t>(view));
  block.header.content_root = ContentRoot(block.body);
  return block;
}

Body ReplicaHarness::CandidateBody(uint64_t pow_height) {
  Body body;
  body.transactions.push_back(
      Transaction{metronome::testing::MakeTestCandidate("devchain", pow_height)});
  return body;
}

QuorumCertificate ReplicaHarness::MakeQc(Phase phase, uint64_t view, const Hash256& block_hash,
                                         uint64_t justify_view,
                                         std::vector<uint32_t> signers) const {
  if (signers.empty()) {
    for (uint32_t i = 0; i < q(); ++i) signers.push_back(i);
  }
  const VoteStatement statement{federation().protocol_id(), phase, view, block_hash, justify_view};
  std::vector<std::pair<uint32_t, Signature>> votes;
  for (uint32_t signer : signers) {
    votes.emplace_back(signer, SignVote(key(signer), federation().id(), statement));
  }
  return AssembleQuorumCertificate(federation(), statement, votes);
}

QuorumCertificate ReplicaHarness::PrepareQc(const Block& block,
                                            std::vector<uint32_t> signers) const {
  return MakeQc(Phase::kPrepare, block.header.view, block.hash(), 0, std::move(signers));
}

Proposal ReplicaHarness::MakeProposal(const Block& block, const QuorumCertificate& justify) const {
  Proposal proposal;
  proposal.statement.protocol_id = federation().protocol_id();
  proposal.statement.view = block.header.view;
  proposal.statement.header = block.header;
  proposal.statement.justify_view = justify.view;
  proposal.body = block.body;
  proposal.justify_qc = justify;
  return Resign(std::move(proposal), LeaderOf(block.header.view));
}

Proposal ReplicaHarness::Resign(Proposal proposal, uint32_t signer) const {
  proposal.signed_by = {signer, SignTagged(key(signer), kTagProposal, federation().id(),
                                           EncodeProposalStatement(proposal.statement))};
  return proposal;
}

Vote ReplicaHarness::MakeVote(uint32_t signer, Phase phase, uint64_t view,
                              const Hash256& block_hash, uint64_t justify_view) const {
  Vote vote;
  vote.statement = VoteStatement{federation().protocol_id(), phase, view, block_hash, justify_view};
  vote.signed_by = {signer, SignTagged(key(signer), kTagVote, federation().id(),
                                       EncodeVoteStatement(vote.statement))};
  return vote;
}

NewView ReplicaHarness::MakeNewView(uint32_t signer, uint64_t view,
                                    const QuorumCertificate& prepare_qc) const {
  NewView new_view;
  new_view.statement =
      NewViewStatement{federation().protocol_id(), view, prepare_qc.view, prepare_qc.block_hash};
  new_view.signed_by = {signer, SignTagged(key(signer), kTagNewView, federation().id(),
                                           EncodeNewViewStatement(new_view.statement))};
  new_view.prepare_qc = prepare_qc;
  return new_view;
}

Timeout ReplicaHarness::MakeTimeout(uint32_t signer, uint64_t view,
                                    const QuorumCertificate& high_qc) const {
  Timeout timeout;
  timeout.statement =
      TimeoutStatement{federation().protocol_id(), view, high_qc.view, high_qc.block_hash};
  timeout.signed_by = {signer, SignTagged(key(signer), kTagTimeout, federation().id(),
                                          EncodeTimeoutStatement(timeout.statement))};
  timeout.high_qc = high_qc;
  return timeout;
}

TimeoutCertificate ReplicaHarness::MakeTc(uint64_t view, size_t count) const {
  if (count == 0) count = q();
  TimeoutCertificate tc;
  tc.view = view;
  for (uint32_t member = 0; member < n() && tc.timeouts.size() < count; ++member) {
    if (member == self()) continue;
    const Timeout timeout = MakeTimeout(member, view, genesis_qc_);
    tc.timeouts.emplace_back(timeout.statement, timeout.signed_by);
  }
  METRONOME_ASSERT(tc.timeouts.size() == count);
  return tc;
}

SyncStatus ReplicaHarness::MakeStatus(std::optional<TimeoutCertificate> tc) const {
  SyncStatus status;
  status.view = tc ? tc->view + 1 : 1;
  status.high_qc = genesis_qc_;
  status.commit_qc = genesis_qc_;
  status.timeout_certificate = std::move(tc);
  return status;
}

Outputs ReplicaHarness::EnterView(uint64_t view) {
  METRONOME_ASSERT(view >= 2 && replica_->view() < view);
  Outputs outputs = Receive(Peer(), MakeStatus(MakeTc(view - 1)));
  METRONOME_ASSERT(replica_->view() == view);
  return outputs;
}

std::vector<Vote> VotesIn(const Outputs& outputs) {
  std::vector<Vote> votes;
  for (const auto& [to, vote] : SendsOf<Vote>(outputs)) votes.push_back(vote);
  return votes;
}

bool HasRejection(const Outputs& outputs, const std::string& reason_part) {
  for (const Rejection& rejection : outputs.rejections) {
    if (rejection.reason.find(reason_part) != std::string::npos) return true;
  }
  return false;
}

std::string DescribeRejections(const Outputs& outputs) {
  std::string text;
  for (const Rejection& rejection : outputs.rejections) {
    text += "[" + std::to_string(rejection.from) + " " + rejection.message + ": " +
            rejection.reason + "] ";
  }
  return text.empty() ? "(none)" : text;
}

std::optional<TimerRequest> TimerOf(const Outputs& outputs, TimerKind kind) {
  std::optional<TimerRequest> found;
  for (const TimerRequest& timer : outputs.timers) {
    if (timer.kind == kind) found = timer;
  }
  return found;
}

std::vector<StreamRecord> ReceivedArtefacts(const Outputs& outputs) {
  std::vector<StreamRecord> records;
  for (const StreamRecord& record : outputs.stream) {
    if (record.source == StreamRecord::Source::kReceived &&
        record.item == StreamRecord::Item::kArtefact) {
      records.push_back(record);
    }
  }
  return records;
}

}  // namespace metronome::bft::testing
