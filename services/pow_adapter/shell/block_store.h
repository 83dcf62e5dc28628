#ifndef METRONOME_SERVICES_POW_ADAPTER_SHELL_BLOCK_STORE_H_
#define METRONOME_SERVICES_POW_ADAPTER_SHELL_BLOCK_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/bytes.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace metronome::devchain {

// devchain's RocksDB database under <data_dir>/devchain.db. Column families:
//   blocks  key u64 (big-endian, arrival order) -> first_seen_ms:u64 || block (kind 101)
//   meta    "checkpoint_state" -> CheckpointState (kind 103)
// Blocks are written without sync: a lost block is fetched from peers again. The
// checkpoint state is written with sync = true, which also makes every earlier block
// write durable (RocksDB syncs the write-ahead log up to that point), so the checkpoint
// block is always on disk before its certificate is acknowledged. Thread-compatible.
class BlockStore {
 public:
  // Opens or creates the database. Fails with a reason naming the path (e.g. when
  // another process holds it).
  static absl::StatusOr<std::unique_ptr<BlockStore>> Open(const std::string& directory);
  ~BlockStore();
  BlockStore(const BlockStore&) = delete;
  BlockStore& operator=(const BlockStore&) = delete;

  // Calls `visit(first_seen_ms, block bytes)` for every stored block in arrival order.
  // Stops and fails on a corrupt record or when `visit` returns an error.
  absl::Status LoadBlocks(
      const std::function<absl::Status(uint64_t first_seen_ms, const Bytes& block)>& visit);
  absl::Status AppendBlock(uint64_t first_seen_ms, const Bytes& block);

  absl::StatusOr<std::optional<Bytes>> ReadCheckpointState();
  // Synced.
  absl::Status WriteCheckpointState(const Bytes& state);

 private:
  BlockStore() = default;

  std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* blocks_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* default_ = nullptr;
  uint64_t next_key_ = 0;
};

}  // namespace metronome::devchain

#endif  // METRONOME_SERVICES_POW_ADAPTER_SHELL_BLOCK_STORE_H_
