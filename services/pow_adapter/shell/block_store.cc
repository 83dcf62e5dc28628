#include "services/pow_adapter/shell/block_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <vector>

#include "absl/status/status.h"
#include "common/canonical.h"

namespace metronome::devchain {
namespace {

constexpr char kCheckpointStateKey[] = "checkpoint_state";

std::string KeyOf(uint64_t key) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(key & 0xff);
    key >>= 8;
  }
  return out;
}

absl::Status Failed(const std::string& path, const std::string& what, const rocksdb::Status& s) {
  return absl::InternalError("devchain database " + path + ": " + what + ": " + s.ToString());
}

}  // namespace

absl::StatusOr<std::unique_ptr<BlockStore>> BlockStore::Open(const std::string& directory) {
  std::unique_ptr<BlockStore> store(new BlockStore());
  store->path_ = directory;
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // Small: devchain blocks are a few hundred bytes.
  options.max_open_files = 64;
  rocksdb::ColumnFamilyOptions family;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, family}, {"blocks", family}, {"meta", family}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(options, directory, families, &handles, &db);
  if (!status.ok()) {
    const bool locked = status.ToString().find("lock") != std::string::npos;
    return absl::FailedPreconditionError(
        "cannot open the devchain database " + directory + ": " + status.ToString() +
        (locked ? " (is another metronome-pow-adapter using this data_dir?)" : ""));
  }
  store->db_.reset(db);
  store->default_ = handles[0];
  store->blocks_ = handles[1];
  store->meta_ = handles[2];
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), store->blocks_));
  it->SeekToLast();
  if (it->Valid()) {
    const rocksdb::Slice key = it->key();
    if (key.size() != 8) return absl::DataLossError("devchain database: bad block key");
    uint64_t last = 0;
    for (size_t i = 0; i < 8; ++i) last = (last << 8) | static_cast<uint8_t>(key[i]);
    store->next_key_ = last + 1;
  }
  return store;
}

BlockStore::~BlockStore() {
  if (db_) {
    for (auto* handle : {default_, blocks_, meta_}) {
      if (handle != nullptr) db_->DestroyColumnFamilyHandle(handle);
    }
    db_->Close();
  }
}

absl::Status BlockStore::LoadBlocks(
    const std::function<absl::Status(uint64_t first_seen_ms, const Bytes& block)>& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), blocks_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const rocksdb::Slice value = it->value();
    if (value.size() < 8) return absl::DataLossError("devchain database: short block record");
    Reader reader(reinterpret_cast<const uint8_t*>(value.data()), 8);
    const uint64_t first_seen_ms = reader.U64();
    const Bytes block(value.data() + 8, value.data() + value.size());
    absl::Status status = visit(first_seen_ms, block);
    if (!status.ok()) return status;
  }
  if (!it->status().ok()) return Failed(path_, "reading blocks", it->status());
  return absl::OkStatus();
}

absl::Status BlockStore::AppendBlock(uint64_t first_seen_ms, const Bytes& block) {
  Writer writer;
  writer.U64(first_seen_ms);
  writer.Fixed(block.data(), block.size());
  const Bytes& value = writer.bytes();
  rocksdb::Status status =
      db_->Put(rocksdb::WriteOptions(), blocks_, KeyOf(next_key_),
               rocksdb::Slice(reinterpret_cast<const char*>(value.data()), value.size()));
  if (!status.ok()) return Failed(path_, "writing a block", status);
  ++next_key_;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Bytes>> BlockStore::ReadCheckpointState() {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), meta_, kCheckpointStateKey, &value);
  if (status.IsNotFound()) return std::optional<Bytes>();
  if (!status.ok()) return Failed(path_, "reading the checkpoint state", status);
  return std::optional<Bytes>(Bytes(value.begin(), value.end()));
}

absl::Status BlockStore::WriteCheckpointState(const Bytes& state) {
  rocksdb::WriteOptions options;
  options.sync = true;
  rocksdb::Status status =
      db_->Put(options, meta_, kCheckpointStateKey,
               rocksdb::Slice(reinterpret_cast<const char*>(state.data()), state.size()));
  if (!status.ok()) return Failed(path_, "writing the checkpoint state", status);
  return absl::OkStatus();
}

}  // namespace metronome::devchain
