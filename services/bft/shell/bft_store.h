#ifndef METRONOME_SERVICES_BFT_SHELL_BFT_STORE_H_
#define METRONOME_SERVICES_BFT_SHELL_BFT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/bytes.h"
#include "common/checkpoint_certificate.h"
#include "common/ed25519.h"
#include "services/bft/core/application.h"
#include "services/bft/core/messages.h"
#include "services/bft/core/outputs.h"
#include "services/bft/core/replica.h"
#include "services/bft/core/safety_state.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class WriteBatch;
struct ReadOptions;
}  // namespace rocksdb

namespace metronome::bft {

// Internal value encodings of the store (canonical Writer/Reader, a leading format
// version byte, no kind byte: they never leave the process). Decoders fail, never
// crash, on corrupt input.
Bytes EncodeStreamRecord(const StreamRecord& record);
absl::StatusOr<StreamRecord> DecodeStreamRecord(const Bytes& encoded);
Bytes EncodeCertificateRecord(const CertificateRecord& record);
absl::StatusOr<CertificateRecord> DecodeCertificateRecord(const Bytes& encoded);

// Called after every synced write with how long it took, e.g. to feed a histogram.
using SyncedWriteObserver = std::function<void(double latency_seconds)>;

// The bft service's durable state: one RocksDB database with column families
//   default        meta: "identity" -> federation id, member key;
//                  "committed" -> committed block height, hash
//   blocks         block hash -> header || body
//   children       parent hash || child hash -> ""            (sync: serve descendants)
//   block_heights  height (BE) || block hash -> ""            (pruning, restoring)
//   safety         "state" -> SafetyState
//   own_log        view (BE) || 8 bytes of BLAKE2b(payload || signature) -> StreamRecord
//   ledgers        post-state hash -> encoded ledger
//   certificates   PoW height (BE) -> CertificateRecord
//   outbox         PoW height (BE) -> ""   (certificates not yet delivered)
//
// Durability: PersistSafety, PutCertificate and RetireFromOutbox are synced (fsync)
// before they return OK. Other writes are not; since all column families share one
// write-ahead log that RocksDB replays as a prefix, an unsynced write becomes durable
// as soon as any later synced write returns, and a crash never keeps a later write
// while losing an earlier one.
//
// Every write is one atomic WriteBatch. Failures are statuses naming the path:
// RESOURCE_EXHAUSTED when the disk is full, DATA_LOSS for a corrupt value or database,
// INTERNAL otherwise. A corrupt value never crashes the process.
//
// Thread-safe: every method may be called from any thread (RocksDB is thread-safe and
// the store has no other mutable state). Concurrent writes are each atomic but not
// ordered with respect to one another.
class BftStore {
 public:
  // Opens or creates the database at `path`. A new database records (federation_id,
  // member_key); an existing one made for other values fails FAILED_PRECONDITION
  // ("foreign database"), so a node never runs on another member's safety state. An
  // unreadable, corrupt or locked (another process has it open) database fails with a
  // reason naming the path. `on_synced_write` may be empty; it runs on the writing thread.
  static absl::StatusOr<std::unique_ptr<BftStore>> Open(
      const std::string& path, const Hash256& federation_id, const PublicKey& member_key,
      SyncedWriteObserver on_synced_write = nullptr);
  ~BftStore();
  BftStore(const BftStore&) = delete;
  BftStore& operator=(const BftStore&) = delete;

  // Writes the safety state (if set) and the own-signature log records in one synced
  // batch: when it returns OK they are on disk, so the caller may send the messages
  // they cover. Re-persisting a record is a no-op (keys are derived from its contents).
  absl::Status PersistSafety(const std::optional<SafetyState>& safety,
                             const std::vector<StreamRecord>& signed_log);

  // Stores blocks and their index entries. Not synced (a lost block is fetched again);
  // idempotent.
  absl::Status StoreBlocks(const std::vector<Block>& blocks);
  // Records the committed block, so that a restart knows which blocks to restore.
  // Not synced: the commit QC in the safety state is the authority.
  absl::Status SetCommitted(uint64_t height, const Hash256& hash);
  // Deletes the blocks with height < height_min and their index entries. Not synced.
  absl::Status PruneBlocksBelow(uint64_t height_min);
  // The safety state (if any), and the committed block (if still stored) plus every
  // stored block above the committed height, sorted by height. Without a committed
  // block recorded, every stored block.
  absl::StatusOr<RestoredState> Load();
  absl::StatusOr<std::optional<Block>> GetBlock(const Hash256& hash);
  // Hashes of the stored children of `parent_hash`, in hash order.
  absl::StatusOr<std::vector<Hash256>> ChildrenOf(const Hash256& parent_hash);

  // Not synced.
  absl::Status PutLedger(const Hash256& post_state_hash, const Bytes& encoded_ledger);
  absl::StatusOr<std::optional<Bytes>> GetLedger(const Hash256& post_state_hash);

  // Stores the certificate under its PoW height (replacing one stored there) and puts
  // it in the outbox, in one synced batch.
  absl::Status PutCertificate(const CertificateRecord& record);
  // Removes the outbox entry for `pow_height` (the certificate stays). Synced.
  absl::Status RetireFromOutbox(uint64_t pow_height);
  // The certificates in the outbox, ascending PoW height.
  absl::StatusOr<std::vector<CertificateRecord>> Outbox();
  absl::StatusOr<std::optional<CertificateRecord>> LatestCertificate();
  // The certificate at `pow_height`, or with `at_or_below` the highest at or below it.
  absl::StatusOr<std::optional<CertificateRecord>> CertificateAt(uint64_t pow_height,
                                                                 bool at_or_below);
  // Up to `count_max` certificates above `pow_height`, ascending PoW height.
  absl::StatusOr<std::vector<CertificateRecord>> CertificatesAbove(uint64_t pow_height,
                                                                   size_t count_max);

  // Up to `count_max` own-signature log records with view >= from_view, ascending view.
  absl::StatusOr<std::vector<StreamRecord>> OwnLog(uint64_t from_view, size_t count_max);

  const std::string& path() const { return path_; }

 private:
  BftStore() = default;

  absl::Status CheckIdentity(const Hash256& federation_id, const PublicKey& member_key);
  absl::Status Write(rocksdb::WriteBatch* batch, bool sync, const char* what);
  absl::StatusOr<std::optional<std::string>> Get(const rocksdb::ReadOptions& options,
                                                 rocksdb::ColumnFamilyHandle* family,
                                                 const std::string& key, const char* what);
  absl::StatusOr<std::optional<Block>> ReadBlock(const rocksdb::ReadOptions& options,
                                                 const Hash256& hash);

  std::string path_;
  SyncedWriteObserver on_synced_write_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // Owned; destroyed before db_.
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* blocks_ = nullptr;
  rocksdb::ColumnFamilyHandle* children_ = nullptr;
  rocksdb::ColumnFamilyHandle* block_heights_ = nullptr;
  rocksdb::ColumnFamilyHandle* safety_ = nullptr;
  rocksdb::ColumnFamilyHandle* own_log_ = nullptr;
  rocksdb::ColumnFamilyHandle* ledgers_ = nullptr;
  rocksdb::ColumnFamilyHandle* certificates_ = nullptr;
  rocksdb::ColumnFamilyHandle* outbox_ = nullptr;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_SHELL_BFT_STORE_H_
