#ifndef METRONOME_COMMON_CONSENSUS_STATEMENTS_H_
#define METRONOME_COMMON_CONSENSUS_STATEMENTS_H_

#include "common/block.h"
#include "common/quorum_certificate.h"

namespace metronome {

// What proposals, timeouts and new-views sign (the vote statement is in
// quorum_certificate.h). Fixed by the consensus core; later work only adds fields at the
// end. Each payload is signed as TaggedMessage(its tag, federation id, encoding). A
// statement names the QC it relies on by (view, block hash); the QC itself travels next
// to the signed artefact, so signatures stay small and the QC is verified on its own.

// Encoding (kind 9): protocol_id:u32 view:u64 header justify_view:u64.
// The leader of `view` proposes the block with `header`; its justify QC is the Prepare
// QC of view justify_view over header.parent_hash.
struct ProposalStatement {
  uint32_t protocol_id = kProtocolBasicHotStuff;
  uint64_t view = 0;
  Header header;
  uint64_t justify_view = 0;
  bool operator==(const ProposalStatement& other) const;
};

// Encoding (kind 11): protocol_id:u32 view:u64 high_qc_view:u64 high_qc_block_hash[32].
// The signer gives up on `view`; its highest Prepare QC is the one named.
struct TimeoutStatement {
  uint32_t protocol_id = kProtocolBasicHotStuff;
  uint64_t view = 0;
  uint64_t high_qc_view = 0;
  Hash256 high_qc_block_hash{};
  bool operator==(const TimeoutStatement& other) const;
};

// Encoding (kind 12): protocol_id:u32 view:u64 prepare_qc_view:u64
// prepare_qc_block_hash[32]. The signer has entered `view` and hands its leader its
// highest Prepare QC.
struct NewViewStatement {
  uint32_t protocol_id = kProtocolBasicHotStuff;
  uint64_t view = 0;
  uint64_t prepare_qc_view = 0;
  Hash256 prepare_qc_block_hash{};
  bool operator==(const NewViewStatement& other) const;
};

Bytes EncodeProposalStatement(const ProposalStatement& statement);
ProposalStatement DecodeProposalStatement(Reader* reader);
Bytes EncodeTimeoutStatement(const TimeoutStatement& statement);
TimeoutStatement DecodeTimeoutStatement(Reader* reader);
Bytes EncodeNewViewStatement(const NewViewStatement& statement);
NewViewStatement DecodeNewViewStatement(Reader* reader);

}  // namespace metronome

#endif  // METRONOME_COMMON_CONSENSUS_STATEMENTS_H_
