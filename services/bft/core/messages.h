#ifndef METRONOME_SERVICES_BFT_CORE_MESSAGES_H_
#define METRONOME_SERVICES_BFT_CORE_MESSAGES_H_

#include <optional>
#include <variant>
#include <vector>

#include "common/block.h"
#include "common/consensus_statements.h"
#include "common/quorum_certificate.h"

// The messages HotStuff replicas exchange, as plain values. The shell maps them to and
// from proto/metronome/v1/consensus.proto; signed statements keep their canonical
// encodings (common/consensus_statements.h), so a signature verifies on exactly the
// bytes the signer signed.
namespace metronome::bft {

struct Block {
  Header header;
  Body body;
  Hash256 hash() const { return HeaderHash(header); }
};

// A signature by member `signer` over a statement.
struct Signed {
  uint32_t signer = 0;
  Signature signature{};
};

// The leader's proposal for a view: the signed statement, the block, and the Prepare
// QC that justifies it (over the block's parent).
struct Proposal {
  ProposalStatement statement;
  Signed signed_by;
  Body body;
  QuorumCertificate justify_qc;
};

struct Vote {
  VoteStatement statement;
  Signed signed_by;
};

// A QC formed by the leader, broadcast so replicas can move to the next phase. Self-
// authenticating; no signature of its own.
struct QuorumMessage {
  QuorumCertificate qc;
};

// Sent on entering a view to that view's leader, with the sender's highest Prepare QC.
struct NewView {
  NewViewStatement statement;
  Signed signed_by;
  QuorumCertificate prepare_qc;
};

// Broadcast when the sender gives up on a view, with its highest Prepare QC.
struct Timeout {
  TimeoutStatement statement;
  Signed signed_by;
  QuorumCertificate high_qc;
};

// q signed timeouts for one view, from distinct members: proof that the view may be
// left. Each entry keeps the QC its signer named (by view and hash only).
struct TimeoutCertificate {
  uint64_t view = 0;
  std::vector<std::pair<TimeoutStatement, Signed>> timeouts;
};

// Asks a peer for its SyncStatus.
struct StatusRequest {};

// What a replica knows: where it is and the certificates that justify it.
struct SyncStatus {
  uint64_t view = 0;
  QuorumCertificate high_qc;                              // Highest Prepare QC.
  QuorumCertificate commit_qc;                            // Latest decision.
  std::optional<TimeoutCertificate> timeout_certificate;  // Highest TC, if any.
  uint64_t committed_height = 0;
};

// Asks for blocks by hash; with ancestors, the parents too (down to `stop_height`).
struct BlockRequest {
  std::vector<Hash256> hashes;
  bool include_ancestors = false;
  uint64_t stop_height = 0;
  uint32_t blocks_max = 64;
};

struct BlockResponse {
  std::vector<Block> blocks;  // Requested block first, then its ancestors, if asked.
  std::vector<Hash256> missing;
  // The responder's oldest retained committed height: blocks below were pruned. A hint
  // for operators only: unauthenticated, so the replica never acts on it.
  uint64_t retained_from_height = 0;
  QuorumCertificate commit_qc;  // The responder's latest decision, for fast-forward.
  std::optional<Block> commit_block;
  // The application state after commit_block (StateTransfer), checked by the requester
  // against commit_block's post-state hash before any fast-forward.
  std::optional<Bytes> commit_state;
  // Commit QCs that decided some of `blocks` directly, so a member catching up issues
  // the same shortest certificates as the members that saw those decisions live.
  std::vector<QuorumCertificate> block_commit_qcs;
};

using Message = std::variant<Proposal, Vote, QuorumMessage, NewView, Timeout, StatusRequest,
                             SyncStatus, BlockRequest, BlockResponse>;

const char* MessageName(const Message& message);

// A cheap upper estimate of a message's size on the wire, for byte quotas (the stash).
size_t ApproxBytes(const Message& message);

// The view a message belongs to, for stashing and staleness; nullopt for messages that
// are answered whatever the view (requests and responses).
std::optional<uint64_t> MessageView(const Message& message);

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_CORE_MESSAGES_H_
