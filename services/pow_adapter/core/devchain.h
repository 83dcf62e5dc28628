#ifndef METRONOME_SERVICES_POW_ADAPTER_CORE_DEVCHAIN_H_
#define METRONOME_SERVICES_POW_ADAPTER_CORE_DEVCHAIN_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "common/freeze_evidence.h"
#include "services/pow_adapter/core/devchain_block.h"

// The devchain's rules as a deterministic state machine: block validation, the block
// tree with cumulative work, fork choice, reorganisations, and checkpoint certificates
// (DESIGN §5). No I/O, threads, clock or randomness: the caller passes the time
// (`now_ms`) and persists what the results say changed. Not thread-safe: the shell
// serialises calls.
namespace metronome::devchain {

// The consensus parameters every instance of one devchain must share, plus local limits.
struct ChainParams {
  std::string chain_id = "devchain";  // Must equal the federation's chain id.
  // Every block's target (no difficulty adjustment). The default, 0x00ff..., takes about
  // 256 hashes per block: proof of work that is real but costs microseconds.
  Hash256 target = DefaultTarget();
  uint64_t genesis_time_ms = 0;
  // Local limits (not consensus): a block above them is rejected as oversized.
  size_t block_bytes_max = 64 << 10;
  uint32_t transactions_max = 256;
  // A block whose time is further than this ahead of the local clock is rejected.
  uint64_t future_time_ms_max = 15000;
  // The most blocks the tree holds, side branches included; further blocks are
  // rejected (kTreeFull) so a peer cannot exhaust memory.
  size_t blocks_max = 200000;
  // false: "checkpointing off" (DESIGN §5, demos): certificates are verified and
  // recorded but fork choice ignores them.
  bool checkpointing = true;
  // The longest certificate header chain accepted (the verifier's headers_max).
  uint32_t certificate_headers_max = 16;
  // The canonical encoding of the federation whose certificates this chain enforces;
  // empty: every certificate is invalid.
  Bytes federation;

  static Hash256 DefaultTarget();
};

// The genesis block of `params`: the same on every instance with the same chain id,
// target and genesis time. Its proof of work is not checked.
DevchainBlock MakeGenesis(const ChainParams& params);

// Why a block was not added. The names (BlockVerdictName) are metric labels and log
// reasons.
enum class BlockVerdict {
  kAccepted,
  kDuplicate,      // Already in the tree: harmless, not counted as a rejection.
  kMalformed,      // Does not decode canonically.
  kOversized,      // Above block_bytes_max or transactions_max.
  kBadTarget,      // Not the chain's target.
  kBadPow,         // The hash exceeds the target.
  kUnknownParent,  // The parent is not in the tree (the caller should sync).
  kBadHeight,      // Not parent height + 1.
  kBadMerkleRoot,  // tx_root is not the root of the transactions.
  kBadCoinbase,    // First transaction missing or not a coinbase for this height.
  kTimeTooOld,     // Below the median of the last 11 ancestors' times.
  kTimeTooNew,     // Too far ahead of the local clock.
  kTreeFull,       // blocks_max reached.
};
const char* BlockVerdictName(BlockVerdict verdict);

// What adding a block or applying a certificate did to the best chain.
struct TipChange {
  bool changed = false;
  // Blocks taken off the old best chain (0 when the new tip extends the old one).
  uint64_t reorg_depth = 0;
  Hash256 old_tip{};
  Hash256 new_tip{};
};

struct BlockOutcome {
  BlockVerdict verdict = BlockVerdict::kMalformed;
  std::string reason;  // One line; empty when accepted.
  Hash256 hash{};
  uint64_t height = 0;
  TipChange tip;
  // The block was stored, but it does not descend from the applied checkpoint, so fork
  // choice never picks it.
  bool excluded_by_checkpoint = false;
  // The block's chain has more work than the best chain but lacks the checkpoint: a
  // reorganisation the checkpoint refused.
  bool reorg_refused = false;

  bool accepted() const { return verdict == BlockVerdict::kAccepted; }
};

// One block in the tree.
struct BlockEntry {
  DevchainBlock block;
  Hash256 hash{};
  uint64_t height = 0;
  uint64_t chain_work = 0;  // Sum of WorkOf over the block and its ancestors.
  uint64_t sequence = 0;    // Arrival order; earlier wins ties in work.
  uint64_t first_seen_ms = 0;
  const BlockEntry* parent = nullptr;  // nullptr for genesis.
  bool admissible = true;              // Descends from (or is) the applied checkpoint.
};

// ---- Checkpoints -------------------------------------------------------------------

// Two valid certificates that do not extend each other: common/freeze_evidence.h, the
// format every consumer writes. `metronome clear-freeze --evidence FILE` presents it back.
using metronome::DecodeFreezeEvidence;
using metronome::EncodeFreezeEvidence;
using metronome::FreezeEvidence;

// The durable checkpoint record (kind 103): has:u8 height:u64 hash[32]
// certificate:bytes frozen:u8 evidence:bytes.
struct CheckpointState {
  bool has_checkpoint = false;
  uint64_t height = 0;  // The latest checkpoint: what fork choice requires.
  Hash256 hash{};
  // The latest applied certificate. While (or after) a freeze the checkpoint is the
  // common ancestor, which no certificate names; this still holds the certificate
  // applied before the conflict.
  Bytes certificate;
  bool frozen = false;
  Bytes evidence;  // Kind 102, while frozen.

  bool operator==(const CheckpointState& other) const;
};
Bytes EncodeCheckpointState(const CheckpointState& state);
std::optional<CheckpointState> DecodeCheckpointState(const Bytes& bytes, std::string* error);

enum class CertificateOutcome {
  kApplied,        // Extends the latest checkpoint: it is the latest now.
  kDuplicate,      // Names the latest checkpoint.
  kIgnoredOlder,   // Names an ancestor of the latest checkpoint (older, replayed).
  kIgnoredFrozen,  // Valid, but finality is frozen: counted, not applied.
  kInvalid,        // Does not verify against the federation, or does not fit devchain.
  kUnknownBlock,   // Valid, but the block is not in the tree yet: not applied, retry.
  kConflict,       // Neither extends the other: finality is now frozen.
};
const char* CertificateOutcomeName(CertificateOutcome outcome);

struct CertificateResult {
  CertificateOutcome outcome = CertificateOutcome::kInvalid;
  std::string reason;  // One line.
  uint64_t pow_height = 0;
  Bytes pow_block_hash;
  // The checkpoint state changed and must be persisted (synced) before acknowledging.
  bool state_changed = false;
  TipChange tip;
};

// ---- The chain ----------------------------------------------------------------------

class Devchain {
 public:
  explicit Devchain(ChainParams params);
  Devchain(const Devchain&) = delete;
  Devchain& operator=(const Devchain&) = delete;

  const ChainParams& params() const { return params_; }

  // Decodes, validates and adds a block received from a peer or read from disk.
  BlockOutcome AddEncodedBlock(const Bytes& encoded, uint64_t now_ms);
  BlockOutcome AddBlock(const DevchainBlock& block, uint64_t now_ms);

  // The checks a header alone allows (target, proof of work), so a peer's headers can
  // be judged before their blocks are fetched.
  BlockVerdict CheckHeader(const DevchainHeader& header, std::string* reason) const;

  // ---- Queries.
  const BlockEntry& tip() const { return *best_; }
  const BlockEntry& genesis() const { return *active_.front(); }
  size_t block_count() const { return blocks_.size(); }
  const BlockEntry* Find(const Hash256& hash) const;
  bool OnBestChain(const BlockEntry& entry) const;
  // Best tip height - the block's height, when it is on the best chain.
  std::optional<uint64_t> Depth(const Hash256& hash) const;
  // The block on the best chain at `height`, if the chain is that long.
  const BlockEntry* BestChainAt(uint64_t height) const;
  // The ancestor of `entry` at `height` (entry itself at its own height); nullptr above.
  const BlockEntry* Ancestor(const BlockEntry& entry, uint64_t height) const;
  // True when `entry` is `ancestor` or descends from it.
  bool DescendsFrom(const BlockEntry& entry, const BlockEntry& ancestor) const;
  const BlockEntry& CommonAncestor(const BlockEntry& a, const BlockEntry& b) const;
  // Hashes a peer uses to find where our best chains diverge: the tip, then back with
  // exponentially growing steps, ending at genesis.
  std::vector<Hash256> Locator() const;
  // Best-chain blocks after the first locator hash on our best chain (after genesis when
  // none is), at most `count_max`.
  std::vector<const BlockEntry*> BestChainAfter(const std::vector<Hash256>& locator,
                                                size_t count_max) const;
  // Blocks in arrival order (genesis is 0): parents always precede children, so adding
  // them in this order rebuilds the tree.
  const BlockEntry& InArrivalOrder(size_t index) const { return *arrival_.at(index); }

  // ---- Mining.
  // The smallest time a child of `parent` may carry (median of the last 11 times).
  uint64_t MinimumChildTime(const BlockEntry& parent) const;
  // A block on the best tip at max(now_ms, MinimumChildTime) with a coinbase for
  // `miner`, nonce 0. The caller searches the nonce (SearchNonce).
  DevchainBlock BlockTemplate(uint64_t now_ms, const std::string& miner) const;

  // ---- Checkpoints.
  // Verifies `certificate` against params().federation and applies it per DESIGN §5.
  CertificateResult ApplyCertificate(const Bytes& certificate);
  // Ends a freeze whose evidence is exactly `evidence`. The checkpoint stays the common
  // ancestor; later certificates extending it apply again. False with a reason when not
  // frozen or the evidence is not this freeze's.
  bool ClearFreeze(const Bytes& evidence, std::string* reason);
  // Restores a persisted state (after the blocks were re-added). False with a reason
  // when its checkpoint block is not in the tree.
  bool RestoreCheckpointState(const CheckpointState& state, std::string* reason);
  const CheckpointState& checkpoint_state() const { return checkpoint_; }
  // Whether fork choice currently requires the checkpoint.
  bool enforcing() const { return params_.checkpointing && checkpoint_.has_checkpoint; }

 private:
  struct HashHasher {
    size_t operator()(const Hash256& hash) const;
  };

  BlockOutcome Reject(BlockVerdict verdict, std::string reason, const Hash256& hash,
                      uint64_t height) const;
  BlockEntry* Insert(DevchainBlock block, const Hash256& hash, const BlockEntry* parent,
                     uint64_t now_ms);
  // Makes `candidate` the best tip, updating the best chain index.
  TipChange SetBest(const BlockEntry* candidate);
  // Recomputes admissibility from the checkpoint and picks the best tip again.
  TipChange RecomputeForkChoice();
  bool Better(const BlockEntry& a, const BlockEntry& b) const;

  ChainParams params_;
  std::unordered_map<Hash256, std::unique_ptr<BlockEntry>, HashHasher> blocks_;
  std::vector<BlockEntry*> arrival_;
  std::vector<const BlockEntry*> active_;  // The best chain, by height.
  const BlockEntry* best_ = nullptr;
  uint64_t next_sequence_ = 0;
  CheckpointState checkpoint_;
};

// Searches nonces nonce_start, nonce_start + 1, ... until the header's hash meets its
// target, for at most `attempts_max` hashes. Returns the number of hashes tried, or
// nullopt (header's nonce unspecified) when none was found.
std::optional<uint64_t> SearchNonce(DevchainHeader* header, uint64_t nonce_start,
                                    uint64_t attempts_max);

}  // namespace metronome::devchain

#endif  // METRONOME_SERVICES_POW_ADAPTER_CORE_DEVCHAIN_H_
