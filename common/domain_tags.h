#ifndef METRONOME_COMMON_DOMAIN_TAGS_H_
#define METRONOME_COMMON_DOMAIN_TAGS_H_

namespace metronome {

// Domain tags for every hash and signature in the system, in one place so that no tag
// is ever reused for a second purpose. Changing one changes every identifier derived
// from it: treat them as part of the wire format.
inline constexpr char kTagHeaderHash[] = "metronome/v1/header";
inline constexpr char kTagLedgerHash[] = "metronome/v1/ledger";
inline constexpr char kTagFederationId[] = "metronome/v1/federation-id";
inline constexpr char kTagLeaderSelection[] = "metronome/v1/leader-selection";
inline constexpr char kTagVote[] = "metronome/v1/vote";
inline constexpr char kTagProposal[] = "metronome/v1/proposal";
inline constexpr char kTagTimeout[] = "metronome/v1/timeout";
inline constexpr char kTagNewView[] = "metronome/v1/new-view";
inline constexpr char kTagHandshake[] = "metronome/v1/handshake";

}  // namespace metronome

#endif  // METRONOME_COMMON_DOMAIN_TAGS_H_
