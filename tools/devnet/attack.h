#ifndef METRONOME_TOOLS_DEVNET_ATTACK_H_
#define METRONOME_TOOLS_DEVNET_ATTACK_H_

#include <signal.h>

#include "tools/devnet/devnet.h"

// `devnet --attack [--runs N]` (`./dev up --attack`): the majority-hash-rate attack that
// Metronome's checkpoints defeat (DESIGN §5), run against a real devnet.
//
// Per scenario a fresh devnet whose members together mine 1/3 of the hash rate, plus an
// attacker: an extra metronome-pow-adapter (no federation member, no interpreter) that
// syncs the honest chain, is restarted isolated with 2/3 of the hash rate at fork height
// F, and mines a private fork. X is the honest block at F+1. Once a certificate covers X,
// every honest node has applied it and the private chain leads every honest chain by a
// margin, the attacker releases its fork to every honest node (SubmitBlock, in order,
// and keeps releasing what it mines meanwhile). Expected:
//   checkpointing off  every honest node reorganises past X (the federation certified
//                      X, but the chain does not apply certificates);
//   checkpointing on   no honest node's best chain ever lacks X (checked by polling
//                      throughout) and every one refuses the heavier fork.
// Each run does off, then on. One line per scenario with the outcome and the reorg
// depths, then `attack: held in every run`.
namespace metronome::devnet {

struct AttackOptions {
  // members, base_port, block_interval_ms and run_dir (each scenario gets a
  // subdirectory) apply; checkpointing and the hash rate shares are set per scenario.
  DevnetOptions devnet;
  int runs = 1;
  // Blocks the private chain must lead every honest chain by before it is released.
  int lead = 3;
};

// Runs every scenario, printing progress and results to stdout. Returns 0 when every
// scenario held, 1 when one did not (the reason is printed), 130 when a signal in
// `signals` (blocked by the caller) interrupted it.
int RunAttack(const AttackOptions& options, const Binaries& binaries, const sigset_t& signals);

}  // namespace metronome::devnet

#endif  // METRONOME_TOOLS_DEVNET_ATTACK_H_
