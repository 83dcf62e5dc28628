#ifndef METRONOME_SERVICES_BFT_SHELL_WIRE_H_
#define METRONOME_SERVICES_BFT_SHELL_WIRE_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "metronome/v1/consensus.pb.h"
#include "metronome/v1/consensus_stream.pb.h"
#include "services/bft/core/messages.h"
#include "services/bft/core/outputs.h"

// The wire mapping between the consensus core's messages (services/bft/core/messages.h)
// and proto/metronome/v1/consensus.proto, and between the core's StreamRecord and
// consensus_stream.proto. Signed statements, QCs, headers and bodies travel as their
// canonical encodings from common/, so a signature verifies on exactly the bytes its
// signer signed; protobuf is only the envelope.
//
// FromProto checks the shape of untrusted bytes (sizes, canonical decodes, kinds,
// counts, signer indices) and nothing else: it does NOT verify signatures or QCs and
// applies no consensus rule. The core does that. Pure functions; thread-safe.
namespace metronome::bft {

// Bounds on what FromProto accepts from a peer.
struct WireLimits {
  uint32_t members = 0;                 // n: signer indices must be below it.
  uint32_t block_hashes_max = 64;       // Hashes in a BlockRequest or missing in a response.
  uint32_t blocks_max = 64;             // Blocks in a BlockResponse; clamps max_blocks.
  size_t artefact_bytes_max = 1 << 20;  // Any one canonical encoding (payload, QC, block).
};

// The proto form of a core message. The core's StatusRequest has no id: request ids
// are 0 (unsolicited) throughout; SyncStatus.locked_view and latest_certificate are
// left unset (the core does not carry them). Timeout-certificate entries carry only the
// signed statement (their high_qc is empty).
v1::ConsensusMessage ToProto(const Message& message);

// Decodes a message from a peer. On anything malformed returns INVALID_ARGUMENT with a
// message "<code>: <message>.<field>: <details>", the code short and stable (for metrics):
//   empty_message          no message kind set;
//   not_core_message       ledger_request / ledger_response (the shell serves those);
//   malformed_<message>    a field of <message> (proposal, vote, timeout, new_view,
//                          quorum, sync_status, block_request, block_response) has a wrong
//                          size or does not decode canonically (trailing bytes included),
//                          e.g. "malformed_proposal: proposal.block.header: <reader
//                          error>";
//   wrong_kind             a canonical field holds another artefact kind (a vote payload
//                          inside a proposal);
//   header_mismatch        a proposal's block header is not the header it signed;
//   signer_out_of_range    a signer index ≥ limits.members;
//   artefact_too_large     one canonical encoding above limits.artefact_bytes_max;
//   too_many_hashes        more hashes than limits.block_hashes_max;
//   too_many_blocks        more blocks than limits.blocks_max;
//   too_many_qcs           more block commit QCs than limits.blocks_max;
//   too_many_timeouts      a timeout certificate with more entries than members.
// Request ids and the SyncStatus fields the core does not carry are ignored; a
// BlockRequest's max_blocks is clamped to limits.blocks_max (0 is malformed).
absl::StatusOr<Message> FromProto(const v1::ConsensusMessage& message, const WireLimits& limits);

// The ConsensusStream record for a core StreamRecord, observed by `observer` at
// `observed_unix_ms` and numbered `sequence` within its subscription.
v1::StreamRecord StreamRecordToProto(const StreamRecord& record, uint64_t sequence,
                                     const PublicKey& observer, uint64_t observed_unix_ms);

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_SHELL_WIRE_H_
