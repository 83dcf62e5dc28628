#ifndef METRONOME_SERVICES_BFT_CORE_EFFECTS_H_
#define METRONOME_SERVICES_BFT_CORE_EFFECTS_H_

#include "services/bft/core/outputs.h"

namespace metronome::bft {

// Where a Replica's Outputs are carried out: the service's actors, or the simulator.
// Both go through ExecuteInOrder, so the order that makes the replica safe is written
// once, here.
class EffectHandler {
 public:
  virtual ~EffectHandler() = default;
  // Must be durable (fsync) when it returns: safety state and own-signature log.
  virtual void Persist(const std::optional<SafetyState>& safety,
                       const std::vector<StreamRecord>& signed_log) = 0;
  virtual void StoreBlocks(const std::vector<Block>& blocks) = 0;
  virtual void SendAll(const std::vector<Send>& sends) = 0;
  virtual void Deliver(const std::vector<Commit>& commits,
                       const std::optional<FastForward>& fast_forward) = 0;
  virtual void AskApplication(const std::optional<CreateBodyRequest>& create_body,
                              const std::vector<ValidateRequest>& validate) = 0;
  virtual void ScheduleTimers(const std::vector<TimerRequest>& timers) = 0;
  virtual void Publish(const std::vector<StreamRecord>& stream,
                       const std::vector<Rejection>& rejections) = 0;
};

// Persist, store, send, deliver, ask, schedule, publish: nothing a message covers
// leaves before the state it depends on is durable.
void ExecuteInOrder(const Outputs& outputs, EffectHandler* handler);

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_EFFECTS_H_
