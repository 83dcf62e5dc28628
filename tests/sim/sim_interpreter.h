#ifndef METRONOME_TESTS_SIM_SIM_INTERPRETER_H_
#define METRONOME_TESTS_SIM_SIM_INTERPRETER_H_

#include <map>
#include <optional>
#include <string>

#include "common/federation.h"
#include "common/ledger.h"
#include "services/bft/core/application.h"

namespace metronome::sim {

// The simulated interpreter of one member: the checkpoint rules reduced to a PoW chain
// whose candidate at height h is Candidate(h), visible to members from a known time.
// The real application module (services/bft/core/application.h) runs next to it, so
// ledgers, block execution and certificates are the product's own. Deterministic.
class SimInterpreter {
 public:
  static CheckpointCandidate Candidate(uint64_t height);

  // Bodies carry a proposer block naming `node`: the nodes' interpreters see different
  // mempools, so a member's twins propose different blocks.
  void SetNode(uint32_t node) { node_ = node; }
  // The candidate heights visible now, up to `visible_height`.
  void SetVisibleHeight(uint64_t visible_height) { visible_height_ = visible_height; }

  // A body on `parent`: the proposer block, and the newest visible candidate when it is
  // above the parent's checkpoint.
  Body CreateBody(const Ledger& parent) const;
  // Accepts a body whose candidates are the chain's and visible here.
  bool Validate(const Body& body) const;

 private:
  uint64_t visible_height_ = 0;
  uint32_t node_ = 0;
};

// The PoW height of a ledger's checkpoint (0: none).
uint64_t CheckpointHeight(const Ledger& ledger);

// Checks every certificate an honest member issues, as its consumers would: it verifies
// against the federation within the consumers' default header limit, and every honest
// member's certificate at one PoW height names the same block.
class CertificateAudit {
 public:
  explicit CertificateAudit(const Federation* federation) : federation_(federation) {}
  // The first problem with `record`, issued by `node`; empty when there is none.
  std::string Check(uint32_t node, const bft::CertificateRecord& record);
  uint64_t checked() const { return checked_; }
  size_t headers_max_seen() const { return headers_max_seen_; }

 private:
  const Federation* federation_;
  std::map<uint64_t, CheckpointIdentity> identities_;  // By PoW height.
  uint64_t checked_ = 0;
  size_t headers_max_seen_ = 0;
};

}  // namespace metronome::sim

#endif  // METRONOME_TESTS_SIM_SIM_INTERPRETER_H_
