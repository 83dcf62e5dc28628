#ifndef METRONOME_SERVICES_BFT_CORE_REPLICA_TEST_HARNESS_H_
#define METRONOME_SERVICES_BFT_CORE_REPLICA_TEST_HARNESS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/hash.h"
#include "common/test_support.h"
#include "services/bft/core/replica.h"

// Drives one Replica of a test federation (round-robin leaders: leader(v) = v mod n) and
// builds correctly signed peer messages with the members' keys. Tests only.
namespace metronome::bft::testing {

// A hash with every byte `value`.
Hash256 FilledHash(uint8_t value);

// A StateTransfer whose state hash is plain BLAKE2b of the bytes; states are served
// from `states` (post-state hash -> bytes). Tests only.
class HashStateTransfer : public StateTransfer {
 public:
  static Hash256 HashOf(const Bytes& state) { return Blake2b256(state); }
  std::optional<Bytes> StateAfter(const Hash256& post_state_hash) override;
  bool StateMatches(const Bytes& state, const Hash256& post_state_hash) const override {
    return HashOf(state) == post_state_hash;
  }
  std::map<Hash256, Bytes> states;
};

class ReplicaHarness {
 public:
  explicit ReplicaHarness(uint32_t self = 0, uint32_t n = 4);

  // Adjust before Start().
  ReplicaConfig& config() { return config_; }
  Outputs Start(const RestoredState& restored = {});
  Replica& replica() { return *replica_; }
  // The StateTransfer the replica uses (set in the config by the constructor).
  HashStateTransfer& state_transfer() { return state_transfer_; }

  Outputs Receive(uint32_t from, const Message& message) {
    return replica_->OnMessage(from, message);
  }
  Outputs Validated(const Block& block, bool valid = true) {
    return replica_->OnBlockValidated(block.hash(), valid);
  }

  uint32_t self() const { return config_.self; }
  uint32_t n() const { return federation().n(); }
  uint32_t q() const { return federation().q(); }
  const Federation& federation() const { return test_.federation; }
  const SigningKey& key(uint32_t member) const { return test_.keys[member]; }
  uint32_t LeaderOf(uint64_t view) const { return federation().LeaderOf(view); }
  // Some member other than the replica under test.
  uint32_t Peer() const { return (config_.self + 1) % n(); }
  const Block& genesis() const { return genesis_; }
  const QuorumCertificate& genesis_qc() const { return genesis_qc_; }
  // A safety state of a member that signed nothing yet: every QC the genesis QC.
  SafetyState FreshSafety() const;

  // A valid child of `parent` proposed in `view` (post-state hash derived from the view).
  Block MakeBlock(const Block& parent, uint64_t view, Body body = {}) const;
  // A body holding one checkpoint candidate.
  static Body CandidateBody(uint64_t pow_height);

  // A QC signed by `signers` (default: the first q members).
  QuorumCertificate MakeQc(Phase phase, uint64_t view, const Hash256& block_hash,
                           uint64_t justify_view, std::vector<uint32_t> signers = {}) const;
  // A Prepare QC over `block` in the block's view.
  QuorumCertificate PrepareQc(const Block& block, std::vector<uint32_t> signers = {}) const;

  // The proposal of `block` for the block's view, justified by `justify`, signed by that
  // view's leader.
  Proposal MakeProposal(const Block& block, const QuorumCertificate& justify) const;
  // Re-signs `proposal`'s (possibly edited) statement as `signer`.
  Proposal Resign(Proposal proposal, uint32_t signer) const;
  Vote MakeVote(uint32_t signer, Phase phase, uint64_t view, const Hash256& block_hash,
                uint64_t justify_view) const;
  NewView MakeNewView(uint32_t signer, uint64_t view, const QuorumCertificate& prepare_qc) const;
  Timeout MakeTimeout(uint32_t signer, uint64_t view, const QuorumCertificate& high_qc) const;
  // q timeouts for `view` by members other than the replica, naming the genesis QC.
  TimeoutCertificate MakeTc(uint64_t view, size_t count = 0) const;
  // A peer's status carrying genesis QCs and, when given, a timeout certificate.
  SyncStatus MakeStatus(std::optional<TimeoutCertificate> tc = std::nullopt) const;

  // Moves the replica (in a lower view) to `view` with a timeout certificate for view - 1
  // in a peer's SyncStatus; QCs stay as they are. Returns the outputs of that input.
  Outputs EnterView(uint64_t view);

 private:
  metronome::testing::TestFederation test_;
  HashStateTransfer state_transfer_;
  ReplicaConfig config_;
  Block genesis_;
  QuorumCertificate genesis_qc_;
  std::unique_ptr<Replica> replica_;
};

// Every message of type T the outputs send, with its destination.
template <typename T>
std::vector<std::pair<uint32_t, T>> SendsOf(const Outputs& outputs) {
  std::vector<std::pair<uint32_t, T>> found;
  for (const Send& send : outputs.sends) {
    if (const T* typed = std::get_if<T>(&send.message)) found.emplace_back(send.to, *typed);
  }
  return found;
}

// The votes the outputs send (to anyone).
std::vector<Vote> VotesIn(const Outputs& outputs);
// True when some rejection's reason contains `reason_part`.
bool HasRejection(const Outputs& outputs, const std::string& reason_part);
// All rejections, for failure messages.
std::string DescribeRejections(const Outputs& outputs);
// The last timer request of `kind`, if any.
std::optional<TimerRequest> TimerOf(const Outputs& outputs, TimerKind kind);
// Received-artefact stream records.
std::vector<StreamRecord> ReceivedArtefacts(const Outputs& outputs);

}  // namespace metronome::bft::testing

#endif  // METRONOME_SERVICES_BFT_CORE_REPLICA_TEST_HARNESS_H_
