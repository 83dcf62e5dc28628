#ifndef METRONOME_COMMON_CONSENSUS_STATEMENTS_H_
#define METRONOME_COMMON_CONSENSUS_STATEMENTS_H_

#include "common/block.h"
#include "common/quorum_certificate.h"

namespace metronome {

// What proposals, timeouts and new-views sign. DRAFTS: the consensus-core issue fixes
// these formats (and may add fields); the vote statement is in quorum_certificate.h.
// Each payload is signed as TaggedMessage(its tag, federation id, encoding).

// Encoding (kind 9): protocol_id:u32 view:u64 header justify_qc.
// The leader of `view` proposes the block with `header`, extending justify_qc's block.
struct ProposalStatement {
  uint32_t protocol_id = kProtocolBasicHotStuff;
  uint64_t view = 0;
  Header header;
  QuorumCertificate justify_qc;
  bool operator==(const ProposalStatement& other) const;
};

// Encoding (kind 11): protocol_id:u32 view:u64 high_qc.
// The signer gives up on `view`; high_qc is the highest QC it knows.
struct TimeoutStatement {
  uint32_t protocol_id = kProtocolBasicHotStuff;
  uint64_t view = 0;
  QuorumCertificate high_qc;
  bool operator==(const TimeoutStatement& other) const;
};

// Encoding (kind 12): protocol_id:u32 view:u64 prepare_qc.
// The signer leaves `view` for view + 1 and hands the next leader its prepare QC.
struct NewViewStatement {
  uint32_t protocol_id = kProtocolBasicHotStuff;
  uint64_t view = 0;
  QuorumCertificate prepare_qc;
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
