#include "services/pow_adapter/core/devchain.h"

#include <algorithm>
#include <cstring>

#include "common/assert.h"
#include "common/checkpoint_certificate.h"
#include "common/verifier/certificate_verifier.h"

namespace metronome::devchain {
namespace {

constexpr size_t kMedianTimeSpan = 11;

void ExpectKind(Reader* reader, uint8_t kind, const char* what) {
  const uint8_t got_kind = reader->U8();
  const uint8_t got_version = reader->U8();
  if (reader->ok() && (got_kind != kind || got_version != kDevchainFormatVersion)) {
    reader->Fail(std::string(what) + ": kind/version " + std::to_string(got_kind) + "/" +
                 std::to_string(got_version) + ", expected " + std::to_string(kind) + "/" +
                 std::to_string(kDevchainFormatVersion));
  }
}

}  // namespace

Hash256 ChainParams::DefaultTarget() {
  Hash256 target;
  target.fill(0xff);
  target[0] = 0x00;
  return target;
}

DevchainBlock MakeGenesis(const ChainParams& params) {
  DevchainBlock genesis;
  genesis.header.height = 0;
  genesis.header.time_ms = params.genesis_time_ms;
  genesis.header.target = params.target;
  genesis.transactions.push_back(
      EncodeCoinbase(Coinbase{0, "genesis:" + params.chain_id.substr(0, kMinerIdBytesMax - 8)}));
  genesis.header.tx_root = TransactionRoot(genesis.transactions);
  return genesis;
}

const char* BlockVerdictName(BlockVerdict verdict) {
  switch (verdict) {
    case BlockVerdict::kAccepted:
      return "accepted";
    case BlockVerdict::kDuplicate:
      return "duplicate";
    case BlockVerdict::kMalformed:
      return "malformed";
    case BlockVerdict::kOversized:
      return "oversized";
    case BlockVerdict::kBadTarget:
      return "bad_target";
    case BlockVerdict::kBadPow:
      return "bad_pow";
    case BlockVerdict::kUnknownParent:
      return "unknown_parent";
    case BlockVerdict::kBadHeight:
      return "bad_height";
    case BlockVerdict::kBadMerkleRoot:
      return "bad_merkle_root";
    case BlockVerdict::kBadCoinbase:
      return "bad_coinbase";
    case BlockVerdict::kTimeTooOld:
      return "time_too_old";
    case BlockVerdict::kTimeTooNew:
      return "time_too_new";
    case BlockVerdict::kTreeFull:
      return "tree_full";
  }
  return "unknown";
}

const char* CertificateOutcomeName(CertificateOutcome outcome) {
  switch (outcome) {
    case CertificateOutcome::kApplied:
      return "applied";
    case CertificateOutcome::kDuplicate:
      return "duplicate";
    case CertificateOutcome::kIgnoredOlder:
      return "older";
    case CertificateOutcome::kIgnoredFrozen:
      return "frozen";
    case CertificateOutcome::kInvalid:
      return "invalid";
    case CertificateOutcome::kUnknownBlock:
      return "unknown_block";
    case CertificateOutcome::kConflict:
      return "conflict";
  }
  return "unknown";
}

// ---- Encodings ------------------------------------------------------------------------

bool CheckpointState::operator==(const CheckpointState& other) const {
  return has_checkpoint == other.has_checkpoint && height == other.height && hash == other.hash &&
         certificate == other.certificate && frozen == other.frozen && evidence == other.evidence;
}

Bytes EncodeCheckpointState(const CheckpointState& state) {
  Writer writer;
  writer.U8(kCheckpointStateKind);
  writer.U8(kDevchainFormatVersion);
  writer.U8(state.has_checkpoint ? 1 : 0);
  writer.U64(state.height);
  writer.Fixed(state.hash);
  writer.LengthPrefixed(state.certificate);
  writer.U8(state.frozen ? 1 : 0);
  writer.LengthPrefixed(state.evidence);
  return writer.Take();
}

std::optional<CheckpointState> DecodeCheckpointState(const Bytes& bytes, std::string* error) {
  Reader reader(bytes);
  ExpectKind(&reader, kCheckpointStateKind, "checkpoint state");
  CheckpointState state;
  const uint8_t has = reader.U8();
  state.height = reader.U64();
  state.hash = reader.Fixed<32>();
  state.certificate = reader.LengthPrefixed(kFreezeEvidenceCertificateBytesMax);
  const uint8_t frozen = reader.U8();
  state.evidence = reader.LengthPrefixed(2 * kFreezeEvidenceCertificateBytesMax + 16);
  reader.ExpectEnd();
  if (reader.ok() && (has > 1 || frozen > 1)) reader.Fail("checkpoint state: flag not 0 or 1");
  if (!reader.ok()) {
    *error = reader.error();
    return std::nullopt;
  }
  state.has_checkpoint = has == 1;
  state.frozen = frozen == 1;
  return state;
}

// ---- The tree --------------------------------------------------------------------------

size_t Devchain::HashHasher::operator()(const Hash256& hash) const {
  size_t value;
  std::memcpy(&value, hash.data(), sizeof(value));
  return value;
}

Devchain::Devchain(ChainParams params) : params_(std::move(params)) {
  DevchainBlock genesis = MakeGenesis(params_);
  const Hash256 hash = BlockHash(genesis.header);
  BlockEntry* entry = Insert(std::move(genesis), hash, nullptr, params_.genesis_time_ms);
  best_ = entry;
  active_.push_back(entry);
}

BlockEntry* Devchain::Insert(DevchainBlock block, const Hash256& hash, const BlockEntry* parent,
                             uint64_t now_ms) {
  auto entry = std::make_unique<BlockEntry>();
  entry->hash = hash;
  entry->height = block.header.height;
  entry->chain_work = (parent ? parent->chain_work : 0) + WorkOf(block.header.target);
  entry->sequence = next_sequence_++;
  entry->first_seen_ms = now_ms;
  entry->parent = parent;
  entry->admissible = parent == nullptr || parent->admissible;
  entry->block = std::move(block);
  BlockEntry* raw = entry.get();
  blocks_.emplace(hash, std::move(entry));
  arrival_.push_back(raw);
  return raw;
}

BlockOutcome Devchain::Reject(BlockVerdict verdict, std::string reason, const Hash256& hash,
                              uint64_t height) const {
  BlockOutcome outcome;
  outcome.verdict = verdict;
  outcome.reason = std::move(reason);
  outcome.hash = hash;
  outcome.height = height;
  return outcome;
}

BlockOutcome Devchain::AddEncodedBlock(const Bytes& encoded, uint64_t now_ms) {
  if (encoded.size() > params_.block_bytes_max) {
    return Reject(BlockVerdict::kOversized,
                  "block is " + std::to_string(encoded.size()) + " bytes, limit " +
                      std::to_string(params_.block_bytes_max),
                  Hash256{}, 0);
  }
  Reader reader(encoded);
  DevchainBlock block = DecodeBlock(&reader, kBlockTransactionsMax);
  if (!reader.ok()) return Reject(BlockVerdict::kMalformed, reader.error(), Hash256{}, 0);
  return AddBlock(block, now_ms);
}

BlockVerdict Devchain::CheckHeader(const DevchainHeader& header, std::string* reason) const {
  if (header.target != params_.target) {
    *reason = "target " + ToHex(header.target) + " is not the chain's " + ToHex(params_.target);
    return BlockVerdict::kBadTarget;
  }
  const Hash256 hash = BlockHash(header);
  if (!MeetsTarget(hash, header.target)) {
    *reason = "hash " + ToHex(hash) + " exceeds the target";
    return BlockVerdict::kBadPow;
  }
  return BlockVerdict::kAccepted;
}

BlockOutcome Devchain::AddBlock(const DevchainBlock& block, uint64_t now_ms) {
  const DevchainHeader& header = block.header;
  const Hash256 hash = BlockHash(header);
  if (blocks_.count(hash) != 0) return Reject(BlockVerdict::kDuplicate, "", hash, header.height);
  if (block.transactions.size() > params_.transactions_max) {
    return Reject(BlockVerdict::kOversized,
                  std::to_string(block.transactions.size()) + " transactions, limit " +
                      std::to_string(params_.transactions_max),
                  hash, header.height);
  }
  size_t bytes = kHeaderEncodedBytes + 6;
  for (const Bytes& transaction : block.transactions) bytes += 4 + transaction.size();
  if (bytes > params_.block_bytes_max) {
    return Reject(BlockVerdict::kOversized,
                  "block is " + std::to_string(bytes) + " bytes, limit " +
                      std::to_string(params_.block_bytes_max),
                  hash, header.height);
  }
  std::string reason;
  const BlockVerdict header_verdict = CheckHeader(header, &reason);
  if (header_verdict != BlockVerdict::kAccepted) {
    return Reject(header_verdict, reason, hash, header.height);
  }
  auto parent_it = blocks_.find(header.parent);
  if (parent_it == blocks_.end()) {
    return Reject(BlockVerdict::kUnknownParent, "parent " + ToHex(header.parent) + " unknown", hash,
                  header.height);
  }
  const BlockEntry& parent = *parent_it->second;
  if (header.height != parent.height + 1) {
    return Reject(BlockVerdict::kBadHeight,
                  "height " + std::to_string(header.height) + ", parent is at " +
                      std::to_string(parent.height),
                  hash, header.height);
  }
  if (TransactionRoot(block.transactions) != header.tx_root) {
    return Reject(BlockVerdict::kBadMerkleRoot, "tx_root does not match the transactions", hash,
                  header.height);
  }
  std::optional<Coinbase> coinbase;
  if (!block.transactions.empty()) coinbase = DecodeCoinbase(block.transactions.front());
  if (!coinbase || coinbase->height != header.height) {
    return Reject(BlockVerdict::kBadCoinbase,
                  "first transaction is not a coinbase for height " + std::to_string(header.height),
                  hash, header.height);
  }
  const uint64_t time_min = MinimumChildTime(parent);
  if (header.time_ms < time_min) {
    return Reject(
        BlockVerdict::kTimeTooOld,
        "time " + std::to_string(header.time_ms) + " below the median " + std::to_string(time_min),
        hash, header.height);
  }
  if (header.time_ms > now_ms + params_.future_time_ms_max) {
    return Reject(BlockVerdict::kTimeTooNew,
                  "time " + std::to_string(header.time_ms) + " is " +
                      std::to_string(header.time_ms - now_ms) + " ms ahead of the local clock",
                  hash, header.height);
  }
  if (blocks_.size() >= params_.blocks_max) {
    return Reject(BlockVerdict::kTreeFull,
                  "the tree holds its maximum of " + std::to_string(params_.blocks_max) + " blocks",
                  hash, header.height);
  }

  const BlockEntry* entry = Insert(block, hash, &parent, now_ms);
  BlockOutcome outcome;
  outcome.verdict = BlockVerdict::kAccepted;
  outcome.hash = hash;
  outcome.height = header.height;
  if (!entry->admissible) {
    outcome.excluded_by_checkpoint = true;
    outcome.reorg_refused = entry->chain_work > best_->chain_work;
  } else if (Better(*entry, *best_)) {
    outcome.tip = SetBest(entry);
  }
  return outcome;
}

bool Devchain::Better(const BlockEntry& a, const BlockEntry& b) const {
  if (a.chain_work != b.chain_work) return a.chain_work > b.chain_work;
  return a.sequence < b.sequence;  // First seen wins a tie.
}

TipChange Devchain::SetBest(const BlockEntry* candidate) {
  TipChange change;
  change.old_tip = best_->hash;
  change.new_tip = candidate->hash;
  if (candidate == best_) return change;
  change.changed = true;
  // Walk back from the candidate to the best chain: that is the fork point.
  std::vector<const BlockEntry*> path;
  const BlockEntry* walk = candidate;
  while (!OnBestChain(*walk)) {
    path.push_back(walk);
    walk = walk->parent;
    METRONOME_ASSERT(walk != nullptr);  // Genesis is on every chain.
  }
  change.reorg_depth = best_->height - walk->height;
  active_.resize(walk->height + 1);
  for (auto it = path.rbegin(); it != path.rend(); ++it) active_.push_back(*it);
  best_ = candidate;
  METRONOME_ASSERT(active_.size() == best_->height + 1 && active_.back() == best_);
  return change;
}

TipChange Devchain::RecomputeForkChoice() {
  const BlockEntry* checkpoint = nullptr;
  if (enforcing()) {
    checkpoint = Find(checkpoint_.hash);
    METRONOME_ASSERT(checkpoint != nullptr);  // Only known blocks become checkpoints.
  }
  const BlockEntry* best = nullptr;
  for (BlockEntry* entry : arrival_) {
    if (checkpoint == nullptr) {
      entry->admissible = true;
    } else {
      entry->admissible =
          entry == checkpoint || (entry->parent != nullptr && entry->parent->admissible);
    }
    if (entry->admissible && (best == nullptr || Better(*entry, *best))) best = entry;
  }
  METRONOME_ASSERT(best != nullptr);
  return SetBest(best);
}

const BlockEntry* Devchain::Find(const Hash256& hash) const {
  auto it = blocks_.find(hash);
  return it == blocks_.end() ? nullptr : it->second.get();
}

bool Devchain::OnBestChain(const BlockEntry& entry) const {
  return entry.height < active_.size() && active_[entry.height] == &entry;
}

std::optional<uint64_t> Devchain::Depth(const Hash256& hash) const {
  const BlockEntry* entry = Find(hash);
  if (entry == nullptr || !OnBestChain(*entry)) return std::nullopt;
  return best_->height - entry->height;
}

const BlockEntry* Devchain::BestChainAt(uint64_t height) const {
  return height < active_.size() ? active_[height] : nullptr;
}

const BlockEntry* Devchain::Ancestor(const BlockEntry& entry, uint64_t height) const {
  if (height > entry.height) return nullptr;
  const BlockEntry* walk = &entry;
  while (walk->height > height) {
    // Once on the best chain, index instead of walking.
    if (OnBestChain(*walk)) return active_[height];
    walk = walk->parent;
  }
  return walk;
}

bool Devchain::DescendsFrom(const BlockEntry& entry, const BlockEntry& ancestor) const {
  return Ancestor(entry, ancestor.height) == &ancestor;
}

const BlockEntry& Devchain::CommonAncestor(const BlockEntry& a, const BlockEntry& b) const {
  const BlockEntry* x = Ancestor(a, std::min(a.height, b.height));
  const BlockEntry* y = Ancestor(b, std::min(a.height, b.height));
  while (x != y) {
    x = x->parent;
    y = y->parent;
    METRONOME_ASSERT(x != nullptr && y != nullptr);  // Genesis is shared.
  }
  return *x;
}

std::vector<Hash256> Devchain::Locator() const {
  std::vector<Hash256> locator;
  uint64_t step = 1;
  uint64_t height = best_->height;
  while (true) {
    locator.push_back(active_[height]->hash);
    if (height == 0) break;
    if (locator.size() >= 10) step *= 2;
    height = height > step ? height - step : 0;
  }
  return locator;
}

std::vector<const BlockEntry*> Devchain::BestChainAfter(const std::vector<Hash256>& locator,
                                                        size_t count_max) const {
  uint64_t start = 1;
  for (const Hash256& hash : locator) {
    const BlockEntry* entry = Find(hash);
    if (entry != nullptr && OnBestChain(*entry)) {
      start = entry->height + 1;
      break;
    }
  }
  std::vector<const BlockEntry*> out;
  for (uint64_t height = start; height < active_.size() && out.size() < count_max; ++height) {
    out.push_back(active_[height]);
  }
  return out;
}

uint64_t Devchain::MinimumChildTime(const BlockEntry& parent) const {
  std::vector<uint64_t> times;
  for (const BlockEntry* walk = &parent; walk != nullptr && times.size() < kMedianTimeSpan;
       walk = walk->parent) {
    times.push_back(walk->block.header.time_ms);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

DevchainBlock Devchain::BlockTemplate(uint64_t now_ms, const std::string& miner) const {
  DevchainBlock block;
  block.header.parent = best_->hash;
  block.header.height = best_->height + 1;
  block.header.time_ms = std::max(now_ms, MinimumChildTime(*best_));
  block.header.target = params_.target;
  block.transactions.push_back(
      EncodeCoinbase(Coinbase{block.header.height, miner.substr(0, kMinerIdBytesMax)}));
  block.header.tx_root = TransactionRoot(block.transactions);
  return block;
}

std::optional<uint64_t> SearchNonce(DevchainHeader* header, uint64_t nonce_start,
                                    uint64_t attempts_max) {
  for (uint64_t attempt = 0; attempt < attempts_max; ++attempt) {
    header->nonce = nonce_start + attempt;
    if (MeetsTarget(BlockHash(*header), header->target)) return attempt + 1;
  }
  return std::nullopt;
}

// ---- Checkpoints -----------------------------------------------------------------------

CertificateResult Devchain::ApplyCertificate(const Bytes& certificate) {
  CertificateResult result;
  const CertificateCheck check =
      VerifyCertificate(params_.federation.data(), params_.federation.size(), certificate.data(),
                        certificate.size(), params_.certificate_headers_max);
  if (!check.ok()) {
    result.outcome = CertificateOutcome::kInvalid;
    result.reason = std::string(CertificateVerdictName(check.verdict)) + ": " + check.reason;
    return result;
  }
  Reader reader(certificate);
  const CheckpointCertificate decoded = DecodeCheckpointCertificate(&reader);
  METRONOME_ASSERT(reader.ok() && decoded.candidate.is_candidate());  // The verifier said so.
  const CheckpointIdentity identity = IdentityOf(decoded);
  result.pow_height = identity.pow_height;
  result.pow_block_hash = identity.pow_block_hash;
  if (identity.chain_id != params_.chain_id) {
    result.outcome = CertificateOutcome::kInvalid;
    result.reason =
        "certificate is for chain '" + identity.chain_id + "', this is '" + params_.chain_id + "'";
    return result;
  }
  if (identity.pow_block_hash.size() != 32) {
    result.outcome = CertificateOutcome::kInvalid;
    result.reason = "PoW block hash is " + std::to_string(identity.pow_block_hash.size()) +
                    " bytes; devchain hashes are 32";
    return result;
  }
  if (checkpoint_.frozen) {
    result.outcome = CertificateOutcome::kIgnoredFrozen;
    result.reason = "finality is frozen by conflicting certificates; verified, not applied";
    return result;
  }
  Hash256 hash;
  std::copy(identity.pow_block_hash.begin(), identity.pow_block_hash.end(), hash.begin());
  const BlockEntry* entry = Find(hash);
  if (entry == nullptr) {
    result.outcome = CertificateOutcome::kUnknownBlock;
    result.reason = "block " + ShortName(identity.pow_height, hash) + " is not known yet";
    return result;
  }
  if (entry->height != identity.pow_height) {
    result.outcome = CertificateOutcome::kInvalid;
    result.reason = "certificate names height " + std::to_string(identity.pow_height) +
                    " but the block is at " + std::to_string(entry->height);
    return result;
  }
  const BlockEntry* current = checkpoint_.has_checkpoint ? Find(checkpoint_.hash) : nullptr;
  METRONOME_ASSERT(!checkpoint_.has_checkpoint || current != nullptr);
  if (current != nullptr && entry == current) {
    result.outcome = CertificateOutcome::kDuplicate;
    result.reason = "names the latest checkpoint";
    return result;
  }
  if (current == nullptr || DescendsFrom(*entry, *current)) {
    checkpoint_.has_checkpoint = true;
    checkpoint_.height = entry->height;
    checkpoint_.hash = entry->hash;
    checkpoint_.certificate = certificate;
    result.outcome = CertificateOutcome::kApplied;
    result.reason = "applied at " + ShortName(entry->height, entry->hash);
    result.state_changed = true;
    result.tip = RecomputeForkChoice();
    return result;
  }
  if (DescendsFrom(*current, *entry)) {
    result.outcome = CertificateOutcome::kIgnoredOlder;
    result.reason =
        "names an ancestor of the latest checkpoint at height " + std::to_string(current->height);
    return result;
  }
  // Neither extends the other: the federation certified two branches. Fall back to what
  // both agree on and stop applying until an operator has looked (DESIGN §5).
  const BlockEntry& ancestor = CommonAncestor(*entry, *current);
  checkpoint_.evidence = EncodeFreezeEvidence(FreezeEvidence{checkpoint_.certificate, certificate});
  checkpoint_.frozen = true;
  checkpoint_.height = ancestor.height;
  checkpoint_.hash = ancestor.hash;
  result.outcome = CertificateOutcome::kConflict;
  result.reason = "conflicts with the checkpoint at " + ShortName(current->height, current->hash) +
                  "; frozen at their common ancestor " + ShortName(ancestor.height, ancestor.hash);
  result.state_changed = true;
  result.tip = RecomputeForkChoice();
  return result;
}

bool Devchain::ClearFreeze(const Bytes& evidence, std::string* reason) {
  if (!checkpoint_.frozen) {
    *reason = "finality is not frozen";
    return false;
  }
  if (evidence != checkpoint_.evidence) {
    *reason = "the evidence is not that of the current freeze";
    return false;
  }
  checkpoint_.frozen = false;
  checkpoint_.evidence.clear();
  return true;
}

bool Devchain::RestoreCheckpointState(const CheckpointState& state, std::string* reason) {
  if (state.has_checkpoint) {
    const BlockEntry* entry = Find(state.hash);
    if (entry == nullptr || entry->height != state.height) {
      *reason = "checkpoint block " + ShortName(state.height, state.hash) + " is not in the tree";
      return false;
    }
  }
  checkpoint_ = state;
  RecomputeForkChoice();
  return true;
}

}  // namespace metronome::devchain
