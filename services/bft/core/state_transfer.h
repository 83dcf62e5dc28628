#ifndef METRONOME_SERVICES_BFT_CORE_STATE_TRANSFER_H_
#define METRONOME_SERVICES_BFT_CORE_STATE_TRANSFER_H_

#include <optional>

#include "common/bytes.h"

namespace metronome::bft {

// What the replica needs of its application to move application state between members
// (DESIGN §3 sync). A member that missed history its peers have pruned jumps to a
// decided block; the state after that block travels with it, so the member's next
// block has a parent state to build on. The replica never interprets the state: it
// asks the application whether the bytes hash to the block's post-state hash, and
// jumps only when they do.
//
// Implementations must be deterministic (the simulator replays them) and must not
// call back into the replica. Called from the replica's thread only.
class StateTransfer {
 public:
  virtual ~StateTransfer() = default;
  // The canonical state after a block whose header names `post_state_hash`, when this
  // member holds it (a responder attaches it to its latest decision); nullopt otherwise.
  virtual std::optional<Bytes> StateAfter(const Hash256& post_state_hash) = 0;
  // True when `state` is a canonical state encoding whose hash is `post_state_hash`.
  // `state` comes from a peer: any bytes at all must be handled (false, never a crash).
  virtual bool StateMatches(const Bytes& state, const Hash256& post_state_hash) const = 0;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_STATE_TRANSFER_H_
