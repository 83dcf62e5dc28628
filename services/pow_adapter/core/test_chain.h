#ifndef METRONOME_SERVICES_POW_ADAPTER_CORE_TEST_CHAIN_H_
#define METRONOME_SERVICES_POW_ADAPTER_CORE_TEST_CHAIN_H_

#include <string>
#include <vector>

#include "common/test_support.h"
#include "services/pow_adapter/core/devchain.h"

// Builders for devchain tests: valid blocks on any parent, branches, and real signed
// certificates naming devchain blocks. Deterministic.
namespace metronome::devchain::testing {

// A time after every block the builders make: time checks never fire by accident.
constexpr uint64_t kFarFutureMs = 1ULL << 50;

// A valid child of `parent` (its PoW found) mined by `miner`, `time_step_ms` after it.
DevchainBlock MakeChild(const Devchain& chain, const BlockEntry& parent, const std::string& miner,
                        uint64_t time_step_ms = 1000);

// Adds `count` blocks on top of `parent`, each the child of the previous; returns the
// last entry. REQUIRES every block is accepted.
const BlockEntry& Extend(Devchain* chain, const BlockEntry& parent, size_t count,
                         const std::string& miner, uint64_t now_ms = kFarFutureMs);

// Chain parameters enforcing certificates of `federation`.
ChainParams ParamsFor(const Federation& federation);

// A certificate, signed by a quorum of `federation`, naming `entry`.
Bytes CertifyBlock(const metronome::testing::TestFederation& federation, const BlockEntry& entry);

}  // namespace metronome::devchain::testing

#endif  // METRONOME_SERVICES_POW_ADAPTER_CORE_TEST_CHAIN_H_
