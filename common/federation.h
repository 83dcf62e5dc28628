#ifndef METRONOME_COMMON_FEDERATION_H_
#define METRONOME_COMMON_FEDERATION_H_

#include <optional>
#include <string>
#include <vector>

#include "common/canonical.h"
#include "common/ed25519.h"

namespace metronome {

enum class LeaderSelection : uint8_t {
  kRoundRobin = 1,  // leader(v) = member v mod n.
  kHashing = 2,     // leader(v) = member H(federation id, v) mod n: harder to predict far ahead.
};

// Protocol ids: every signature is bound to one (through the federation id and the
// signed payloads), so a pipelined variant can later be added with its own formats.
constexpr uint32_t kProtocolBasicHotStuff = 1;

constexpr uint32_t kFederationMembersMax = 1024;

// What a federation file states. Optional fields are derived when absent and must be
// consistent when present.
struct FederationSpec {
  std::string chain_id;
  uint64_t epoch = 0;
  std::vector<PublicKey> members;  // In file order; the order is authoritative.
  std::optional<uint32_t> n;
  std::optional<uint32_t> f;
  std::optional<uint32_t> q;
  LeaderSelection leader_selection = LeaderSelection::kRoundRobin;
  uint32_t protocol_id = kProtocolBasicHotStuff;
};

// The fixed set of members running one protocol instance for one chain. Immutable
// once made; safe to share between threads.
//
// n = number of members, f = floor((n-1)/3) unless configured lower, q =
// floor((n+f)/2)+1. The federation id is the tagged BLAKE2b-256 of the canonical
// encoding, which holds the chain id, epoch, member keys in order, n, f, q, leader
// selection and protocol id: changing any of them makes another federation.
//
// Encoding (kind 6): chain_id:str epoch:u64 count:u32 keys[32]... n:u32 f:u32 q:u32
// leader_selection:u8 protocol_id:u32.
class Federation {
 public:
  // Validates `spec`. On failure returns nullopt and sets *error to a reason naming
  // the offending field.
  static std::optional<Federation> Make(const FederationSpec& spec, std::string* error);
  // Decodes and validates canonical bytes; failures are recorded in the reader.
  static std::optional<Federation> Decode(Reader* reader);
  static std::optional<Federation> Decode(const Bytes& encoded, std::string* error);

  const std::string& chain_id() const { return chain_id_; }
  uint64_t epoch() const { return epoch_; }
  const std::vector<PublicKey>& members() const { return members_; }
  uint32_t n() const { return static_cast<uint32_t>(members_.size()); }
  uint32_t f() const { return f_; }
  uint32_t q() const { return q_; }
  LeaderSelection leader_selection() const { return leader_selection_; }
  uint32_t protocol_id() const { return protocol_id_; }
  const Hash256& id() const { return id_; }
  const Bytes& encoded() const { return encoded_; }

  // The member index of `key`, or nullopt when it is not a member.
  std::optional<uint32_t> IndexOf(const PublicKey& key) const;
  // The index of the leader of `view`.
  uint32_t LeaderOf(uint64_t view) const;

  static uint32_t DefaultF(uint32_t n) { return (n - 1) / 3; }
  static uint32_t QuorumSize(uint32_t n, uint32_t f) { return (n + f) / 2 + 1; }

 private:
  Federation() = default;

  std::string chain_id_;
  uint64_t epoch_ = 0;
  std::vector<PublicKey> members_;
  uint32_t f_ = 0;
  uint32_t q_ = 0;
  LeaderSelection leader_selection_ = LeaderSelection::kRoundRobin;
  uint32_t protocol_id_ = 0;
  Bytes encoded_;
  Hash256 id_{};
};

// A short human-readable fingerprint of a federation id: the first 8 bytes as hex in
// groups of four ("1a2b:3c4d:5e6f:7a8b").
std::string FederationFingerprint(const Hash256& federation_id);

const char* LeaderSelectionName(LeaderSelection selection);
std::optional<LeaderSelection> LeaderSelectionFromName(const std::string& name);

}  // namespace metronome

#endif  // METRONOME_COMMON_FEDERATION_H_
