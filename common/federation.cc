#include "common/federation.h"

#include <cctype>
#include <set>

#include "common/assert.h"
#include "common/block.h"
#include "common/domain_tags.h"
#include "common/hash.h"

namespace metronome {

std::optional<Federation> Federation::Make(const FederationSpec& spec, std::string* error) {
  METRONOME_ASSERT(error != nullptr);
  const size_t count = spec.members.size();
  if (spec.chain_id.empty() || spec.chain_id.size() > kChainIdBytesMax) {
    *error = "chain_id: must be 1 to " + std::to_string(kChainIdBytesMax) + " bytes";
    return std::nullopt;
  }
  for (char c : spec.chain_id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      *error = "chain_id: only letters, digits, '-', '_' and '.' are allowed";
      return std::nullopt;
    }
  }
  if (count == 0 || count > kFederationMembersMax) {
    *error = "members: need 1 to " + std::to_string(kFederationMembersMax) + " members, have " +
             std::to_string(count);
    return std::nullopt;
  }
  std::set<PublicKey> distinct(spec.members.begin(), spec.members.end());
  if (distinct.size() != count) {
    *error = "members: a public key appears more than once";
    return std::nullopt;
  }
  const uint32_t n = static_cast<uint32_t>(count);
  if (spec.n && *spec.n != n) {
    *error = "n: states " + std::to_string(*spec.n) + " but the file lists " + std::to_string(n) +
             " members";
    return std::nullopt;
  }
  const uint32_t f = spec.f.value_or(DefaultF(n));
  if (f > DefaultF(n)) {
    *error = "f: " + std::to_string(f) +
             " is above floor((n-1)/3) = " + std::to_string(DefaultF(n)) +
             " for n = " + std::to_string(n);
    return std::nullopt;
  }
  const uint32_t q = QuorumSize(n, f);
  if (spec.q && *spec.q != q) {
    *error = "q: states " + std::to_string(*spec.q) + " but n = " + std::to_string(n) +
             ", f = " + std::to_string(f) + " give q = floor((n+f)/2)+1 = " + std::to_string(q);
    return std::nullopt;
  }
  if (spec.leader_selection != LeaderSelection::kRoundRobin &&
      spec.leader_selection != LeaderSelection::kHashing) {
    *error = "leader_selection: unknown value";
    return std::nullopt;
  }
  if (spec.protocol_id != kProtocolBasicHotStuff) {
    *error = "protocol_id: unsupported protocol " + std::to_string(spec.protocol_id);
    return std::nullopt;
  }

  Federation federation;
  federation.chain_id_ = spec.chain_id;
  federation.epoch_ = spec.epoch;
  federation.members_ = spec.members;
  federation.f_ = f;
  federation.q_ = q;
  federation.leader_selection_ = spec.leader_selection;
  federation.protocol_id_ = spec.protocol_id;

  Writer writer;
  writer.Kind(ArtefactKind::kFederation);
  writer.String(federation.chain_id_);
  writer.U64(federation.epoch_);
  writer.U32(n);
  for (const PublicKey& member : federation.members_) writer.Fixed(member);
  writer.U32(n);
  writer.U32(f);
  writer.U32(q);
  writer.U8(static_cast<uint8_t>(federation.leader_selection_));
  writer.U32(federation.protocol_id_);
  federation.encoded_ = writer.Take();
  federation.id_ = TaggedHash(kTagFederationId, federation.encoded_);
  METRONOME_ASSERT(federation.q_ <= federation.n());
  METRONOME_ASSERT(federation.q_ >= 2 * federation.f_ + 1);  // Two quorums share an honest member.
  return federation;
}

std::optional<Federation> Federation::Decode(Reader* reader) {
  FederationSpec spec;
  reader->ExpectKind(ArtefactKind::kFederation);
  spec.chain_id = reader->String(kChainIdBytesMax);
  spec.epoch = reader->U64();
  const uint32_t count = reader->Count(kFederationMembersMax, "member");
  for (uint32_t i = 0; i < count && reader->ok(); ++i) spec.members.push_back(reader->Fixed<32>());
  spec.n = reader->U32();
  spec.f = reader->U32();
  spec.q = reader->U32();
  spec.leader_selection = static_cast<LeaderSelection>(reader->U8());
  spec.protocol_id = reader->U32();
  if (!reader->ok()) return std::nullopt;
  std::string error;
  std::optional<Federation> federation = Make(spec, &error);
  if (!federation) reader->Fail("federation: " + error);
  return federation;
}

std::optional<Federation> Federation::Decode(const Bytes& encoded, std::string* error) {
  Reader reader(encoded);
  std::optional<Federation> federation = Decode(&reader);
  reader.ExpectEnd();
  if (!reader.ok()) {
    *error = reader.error();
    return std::nullopt;
  }
  return federation;
}

std::optional<uint32_t> Federation::IndexOf(const PublicKey& key) const {
  for (uint32_t i = 0; i < members_.size(); ++i) {
    if (members_[i] == key) return i;
  }
  return std::nullopt;
}

uint32_t Federation::LeaderOf(uint64_t view) const {
  if (leader_selection_ == LeaderSelection::kRoundRobin) return static_cast<uint32_t>(view % n());
  Writer writer;
  writer.Fixed(id_);
  writer.U64(view);
  const Hash256 digest = TaggedHash(kTagLeaderSelection, writer.bytes());
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | digest[i];
  return static_cast<uint32_t>(value % n());
}

std::string FederationFingerprint(const Hash256& federation_id) {
  const std::string hex = ToHex(federation_id.data(), 8);
  return hex.substr(0, 4) + ":" + hex.substr(4, 4) + ":" + hex.substr(8, 4) + ":" +
         hex.substr(12, 4);
}

const char* LeaderSelectionName(LeaderSelection selection) {
  return selection == LeaderSelection::kHashing ? "hashing" : "round_robin";
}

std::optional<LeaderSelection> LeaderSelectionFromName(const std::string& name) {
  if (name == "round_robin") return LeaderSelection::kRoundRobin;
  if (name == "hashing") return LeaderSelection::kHashing;
  return std::nullopt;
}

}  // namespace metronome
