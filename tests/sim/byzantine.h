#ifndef METRONOME_TESTS_SIM_BYZANTINE_H_
#define METRONOME_TESTS_SIM_BYZANTINE_H_

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "common/test_support.h"
#include "services/bft/core/outputs.h"
#include "tests/sim/random.h"

namespace metronome::sim {

// A message the adversary puts on the network as one of its members.
struct Injection {
  uint32_t from = 0;  // A Byzantine member.
  uint32_t to = 0;    // An honest member.
  bft::Message message;
};

// Counts of what the adversary did, for the run's totals.
struct AdversaryTotals {
  uint64_t mutated = 0;      // Own messages sent with changed fields (re-signed).
  uint64_t equivocated = 0;  // Own messages sent as different versions to different peers.
  uint64_t withheld = 0;     // Own messages dropped (silence).
  uint64_t injected = 0;     // Replays, unsolicited responses, floods.
};

// Drives up to f Byzantine members of a simulated federation (DESIGN §3: "the simulator
// drives up to f members with a seeded Byzantine adversary"). Each Byzantine member
// still runs the real replica, so it knows where the protocol is and its messages are
// plausible; everything that replica sends passes through Transform, and Act, called
// periodically, injects messages of every kind with valid signatures and mutated fields,
// replays of what it observed, unsolicited sync answers, floods of future messages and
// sweeps of out-of-range enum values. Deterministic for a seed. Not thread-safe.
class ByzantineAdversary {
 public:
  // `state_of(member, post_state_hash)`: a Byzantine member's application state, so its
  // unsolicited fast-forward offers carry a state that checks out.
  using StateSource = std::function<std::optional<Bytes>(uint32_t, const Hash256&)>;

  // Borrows `federation`, which must outlive the adversary.
  ByzantineAdversary(const testing::TestFederation* federation, std::set<uint32_t> members,
                     uint64_t seed, StateSource state_of);

  bool Controls(uint32_t member) const { return members_.count(member) != 0; }
  // A Byzantine member's replica sends `message` to `to` (bft::kBroadcast: everyone):
  // what goes out instead (possibly nothing, possibly several versions).
  std::vector<Injection> Transform(uint32_t from, uint32_t to, const bft::Message& message);
  // Something a Byzantine member received: material for replays.
  void Observe(const bft::Message& message);
  // Messages injected at one tick.
  std::vector<Injection> Act();
  const AdversaryTotals& totals() const { return totals_; }

 private:
  bft::Message Mutate(uint32_t from, const bft::Message& message);
  bft::Proposal MutateProposal(uint32_t from, bft::Proposal proposal);
  bft::Vote MutateVote(uint32_t from, bft::Vote vote);
  bft::BlockResponse UnsolicitedResponse(uint32_t from);
  std::vector<Injection> Flood(uint32_t from, uint32_t to);
  uint64_t MutateView(uint64_t view);
  Hash256 SomeHash();
  QuorumCertificate SomeQc();
  std::vector<uint32_t> Honest() const;
  bft::Signed Sign(uint32_t from, std::string_view tag, const Bytes& payload);

  const testing::TestFederation& federation_;
  std::set<uint32_t> members_;
  Random random_;
  StateSource state_of_;
  AdversaryTotals totals_;
  // Observed material, bounded (the newest kept).
  std::vector<QuorumCertificate> qcs_;
  std::vector<bft::Block> blocks_;
  std::vector<bft::Message> messages_;
  uint64_t highest_view_ = 1;
  std::optional<QuorumCertificate> latest_commit_;
  std::optional<bft::Block> latest_commit_block_;
  std::map<Bytes, Signature> signatures_;  // Memo of Sign, bounded.
};

}  // namespace metronome::sim

#endif  // METRONOME_TESTS_SIM_BYZANTINE_H_
