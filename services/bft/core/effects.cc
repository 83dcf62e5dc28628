#include "services/bft/core/effects.h"

#include "common/assert.h"

namespace metronome::bft {

void ExecuteInOrder(const Outputs& outputs, EffectHandler* handler) {
  METRONOME_ASSERT(handler != nullptr);
  // A signature is never logged without the safety state that records it.
  METRONOME_ASSERT(outputs.signed_log.empty() || outputs.safety.has_value());
  const bool persist = outputs.safety.has_value() || !outputs.signed_log.empty();
#ifdef METRONOME_MUTATION_PERSIST_AFTER_SEND
  // Deliberately broken build: sends first. The simulator must catch it.
  handler->SendAll(outputs.sends);
  if (persist) handler->Persist(outputs.safety, outputs.signed_log);
  handler->StoreBlocks(outputs.blocks);
#else
  if (persist) handler->Persist(outputs.safety, outputs.signed_log);
  handler->StoreBlocks(outputs.blocks);
  handler->SendAll(outputs.sends);
#endif
  handler->Deliver(outputs.commits, outputs.fast_forward);
  handler->AskApplication(outputs.create_body, outputs.validate);
  handler->ScheduleTimers(outputs.timers);
  handler->Publish(outputs.stream, outputs.rejections);
}

}  // namespace metronome::bft
