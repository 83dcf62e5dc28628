#include "services/bft/shell/bft_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>

#include "common/block.h"
#include "common/canonical.h"
#include "common/hash.h"

namespace metronome::bft {
namespace {

// Bumped when a value encoding changes; a value of another version is corrupt to us.
constexpr uint8_t kValueFormatVersion = 1;
// Bounds for decoding our own values: generous, they only stop a corrupt length from
// making us allocate without limit.
constexpr size_t kValueBytesMax = 64 << 20;
constexpr size_t kRejectionReasonBytesMax = 64 << 10;

constexpr char kIdentityKey[] = "identity";
constexpr char kCommittedKey[] = "committed";
constexpr char kSafetyKey[] = "state";

constexpr size_t kHeightKeyBytes = 8;
constexpr size_t kOwnLogDigestBytes = 8;

// Column families in handle order; kMeta must stay the default family.
enum Family : size_t {
  kMeta,
  kBlocks,
  kChildren,
  kBlockHeights,
  kSafety,
  kOwnLog,
  kLedgers,
  kCertificates,
  kOutbox,
  kFamilyCount,
};
const char* const kFamilyNames[kFamilyCount] = {
    "default", "blocks",  "children",     "block_heights", "safety",
    "own_log", "ledgers", "certificates", "outbox",
};

std::string StringOf(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }
template <size_t N>
std::string StringOf(const std::array<uint8_t, N>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}
rocksdb::Slice SliceOf(const Bytes& bytes) {
  return rocksdb::Slice(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}
const uint8_t* DataOf(const rocksdb::Slice& slice) {
  return reinterpret_cast<const uint8_t*>(slice.data());
}

// Big-endian, so that RocksDB's bytewise order is numeric order.
std::string HeightKey(uint64_t height) {
  Writer writer;
  writer.U64(height);
  return StringOf(writer.bytes());
}

uint64_t HeightOfKey(const rocksdb::Slice& key) {
  Reader reader(DataOf(key), kHeightKeyBytes);
  return reader.U64();
}

std::string BlockHeightKey(uint64_t height, const Hash256& hash) {
  return HeightKey(height) + StringOf(hash);
}

std::string ChildKey(const Hash256& parent_hash, const Hash256& child_hash) {
  return StringOf(parent_hash) + StringOf(child_hash);
}

// Derived from the record's contents, so persisting the same record twice writes the
// same key, while two different artefacts signed in one view (a vote and a timeout,
// say) do not collide.
std::string OwnLogKey(const StreamRecord& record) {
  Bytes signed_bytes = record.payload;
  signed_bytes.insert(signed_bytes.end(), record.signature.begin(), record.signature.end());
  const Hash256 digest = Blake2b256(signed_bytes);
  return HeightKey(record.view) + std::string(digest.begin(), digest.begin() + kOwnLogDigestBytes);
}

Bytes EncodeBlock(const Block& block) {
  Writer writer;
  EncodeHeader(block.header, &writer);
  EncodeBody(block.body, &writer);
  return writer.Take();
}

absl::Status Failed(const std::string& path, const std::string& what,
                    const rocksdb::Status& status) {
  const std::string message = "bft database " + path + ": " + what + ": " + status.ToString();
  if (status.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (status.IsCorruption()) return absl::DataLossError(message);
  return absl::InternalError(message);
}

absl::Status Corrupt(const std::string& path, const std::string& what, const std::string& why) {
  return absl::DataLossError("bft database " + path + ": corrupt " + what + ": " + why);
}

}  // namespace

// version:u8 view:u64 source:u8 item:u8 rejected:u8 rejection_reason:str payload:bytes
// signature[64] signer:u32
Bytes EncodeStreamRecord(const StreamRecord& record) {
  Writer writer;
  writer.U8(kValueFormatVersion);
  writer.U64(record.view);
  writer.U8(static_cast<uint8_t>(record.source));
  writer.U8(static_cast<uint8_t>(record.item));
  writer.U8(record.rejected ? 1 : 0);
  writer.String(record.rejection_reason);
  writer.LengthPrefixed(record.payload);
  writer.Fixed(record.signature);
  writer.U32(record.signer);
  return writer.Take();
}

absl::StatusOr<StreamRecord> DecodeStreamRecord(const Bytes& encoded) {
  Reader reader(encoded);
  if (reader.U8() != kValueFormatVersion) reader.Fail("unknown stream record version");
  StreamRecord record;
  record.view = reader.U64();
  const uint8_t source = reader.U8();
  const uint8_t item = reader.U8();
  const uint8_t rejected = reader.U8();
  if (source < 1 || source > 3) reader.Fail("bad stream record source");
  if (item < 1 || item > 3) reader.Fail("bad stream record item");
  if (rejected > 1) reader.Fail("bad stream record rejected flag");
  record.source = static_cast<StreamRecord::Source>(source);
  record.item = static_cast<StreamRecord::Item>(item);
  record.rejected = rejected == 1;
  record.rejection_reason = reader.String(kRejectionReasonBytesMax);
  record.payload = reader.LengthPrefixed(kValueBytesMax);
  record.signature = reader.Fixed<64>();
  record.signer = reader.U32();
  reader.ExpectEnd();
  if (!reader.ok()) return absl::DataLossError("stream record: " + reader.error());
  return record;
}

// version:u8 encoded:bytes chain_id:str pow_height:u64 pow_block_hash:bytes
// bft_height:u64 bft_block_hash[32] committed_view:u64
Bytes EncodeCertificateRecord(const CertificateRecord& record) {
  Writer writer;
  writer.U8(kValueFormatVersion);
  writer.LengthPrefixed(record.encoded);
  writer.String(record.identity.chain_id);
  writer.U64(record.identity.pow_height);
  writer.LengthPrefixed(record.identity.pow_block_hash);
  writer.U64(record.bft_height);
  writer.Fixed(record.bft_block_hash);
  writer.U64(record.committed_view);
  return writer.Take();
}

absl::StatusOr<CertificateRecord> DecodeCertificateRecord(const Bytes& encoded) {
  Reader reader(encoded);
  if (reader.U8() != kValueFormatVersion) reader.Fail("unknown certificate record version");
  CertificateRecord record;
  record.encoded = reader.LengthPrefixed(kValueBytesMax);
  record.identity.chain_id = reader.String(kChainIdBytesMax);
  record.identity.pow_height = reader.U64();
  record.identity.pow_block_hash = reader.LengthPrefixed(kPowBlockHashBytesMax);
  record.bft_height = reader.U64();
  record.bft_block_hash = reader.Fixed<32>();
  record.committed_view = reader.U64();
  reader.ExpectEnd();
  if (!reader.ok()) return absl::DataLossError("certificate record: " + reader.error());
  return record;
}

absl::StatusOr<std::unique_ptr<BftStore>> BftStore::Open(const std::string& path,
                                                         const Hash256& federation_id,
                                                         const PublicKey& member_key,
                                                         SyncedWriteObserver on_synced_write) {
  std::unique_ptr<BftStore> store(new BftStore());
  store->path_ = path;
  store->on_synced_write_ = std::move(on_synced_write);
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.max_open_files = 256;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const char* name : kFamilyNames) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  rocksdb::DB* db = nullptr;
  const rocksdb::Status status = rocksdb::DB::Open(options, path, families, &store->handles_, &db);
  if (!status.ok()) {
    const std::string reason = "cannot open the bft database " + path + ": " + status.ToString();
    if (status.IsCorruption()) return absl::DataLossError(reason);
    const bool locked = status.ToString().find("lock") != std::string::npos;
    return absl::FailedPreconditionError(
        reason + (locked ? " (is another metronome-bft using this data directory?)" : ""));
  }
  store->db_.reset(db);
  store->meta_ = store->handles_[kMeta];
  store->blocks_ = store->handles_[kBlocks];
  store->children_ = store->handles_[kChildren];
  store->block_heights_ = store->handles_[kBlockHeights];
  store->safety_ = store->handles_[kSafety];
  store->own_log_ = store->handles_[kOwnLog];
  store->ledgers_ = store->handles_[kLedgers];
  store->certificates_ = store->handles_[kCertificates];
  store->outbox_ = store->handles_[kOutbox];
  absl::Status identity = store->CheckIdentity(federation_id, member_key);
  if (!identity.ok()) return identity;
  return store;
}

BftStore::~BftStore() {
  if (!db_) return;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  db_->Close();
}

// The identity is written once, when the database is created, and checked on every
// open: a data directory copied to (or configured for) another member or federation
// would otherwise hand it a safety state that is not its own.
absl::Status BftStore::CheckIdentity(const Hash256& federation_id, const PublicKey& member_key) {
  absl::StatusOr<std::optional<std::string>> stored =
      Get(rocksdb::ReadOptions(), meta_, kIdentityKey, "reading the database identity");
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    Writer writer;
    writer.U8(kValueFormatVersion);
    writer.Fixed(federation_id);
    writer.Fixed(member_key);
    rocksdb::WriteBatch batch;
    batch.Put(meta_, kIdentityKey, SliceOf(writer.bytes()));
    return Write(&batch, /*sync=*/true, "recording the database identity");
  }
  const std::string& value = **stored;
  Reader reader(reinterpret_cast<const uint8_t*>(value.data()), value.size());
  if (reader.U8() != kValueFormatVersion) reader.Fail("unknown identity version");
  const Hash256 stored_federation_id = reader.Fixed<32>();
  const PublicKey stored_member_key = reader.Fixed<32>();
  reader.ExpectEnd();
  if (!reader.ok()) return Corrupt(path_, "identity", reader.error());
  if (stored_federation_id != federation_id || stored_member_key != member_key) {
    return absl::FailedPreconditionError("foreign database " + path_ + ": made for federation " +
                                         ToHex(stored_federation_id) + " member " +
                                         ToHex(stored_member_key) + ", not federation " +
                                         ToHex(federation_id) + " member " + ToHex(member_key));
  }
  return absl::OkStatus();
}

absl::Status BftStore::Write(rocksdb::WriteBatch* batch, bool sync, const char* what) {
  rocksdb::WriteOptions options;
  options.sync = sync;
  const auto start = std::chrono::steady_clock::now();
  const rocksdb::Status status = db_->Write(options, batch);
  if (!status.ok()) return Failed(path_, what, status);
  if (sync && on_synced_write_) {
    on_synced_write_(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> BftStore::Get(const rocksdb::ReadOptions& options,
                                                         rocksdb::ColumnFamilyHandle* family,
                                                         const std::string& key, const char* what) {
  std::string value;
  const rocksdb::Status status = db_->Get(options, family, key, &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return Failed(path_, what, status);
  return std::optional<std::string>(std::move(value));
}

absl::Status BftStore::PersistSafety(const std::optional<SafetyState>& safety,
                                     const std::vector<StreamRecord>& signed_log) {
  if (!safety && signed_log.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  if (safety) batch.Put(safety_, kSafetyKey, SliceOf(EncodeSafetyState(*safety)));
  for (const StreamRecord& record : signed_log) {
    batch.Put(own_log_, OwnLogKey(record), SliceOf(EncodeStreamRecord(record)));
  }
  return Write(&batch, /*sync=*/true, "persisting the safety state");
}

absl::Status BftStore::StoreBlocks(const std::vector<Block>& blocks) {
  if (blocks.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  for (const Block& block : blocks) {
    const Hash256 hash = block.hash();
    batch.Put(blocks_, StringOf(hash), SliceOf(EncodeBlock(block)));
    batch.Put(children_, ChildKey(block.header.parent_hash, hash), "");
    batch.Put(block_heights_, BlockHeightKey(block.header.height, hash), "");
  }
  return Write(&batch, /*sync=*/false, "storing blocks");
}

absl::Status BftStore::SetCommitted(uint64_t height, const Hash256& hash) {
  Writer writer;
  writer.U8(kValueFormatVersion);
  writer.U64(height);
  writer.Fixed(hash);
  rocksdb::WriteBatch batch;
  batch.Put(meta_, kCommittedKey, SliceOf(writer.bytes()));
  return Write(&batch, /*sync=*/false, "recording the committed block");
}

absl::Status BftStore::PruneBlocksBelow(uint64_t height_min) {
  const rocksdb::ReadOptions options;
  const std::string end = HeightKey(height_min);
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> heights(db_->NewIterator(options, block_heights_));
  std::unique_ptr<rocksdb::Iterator> children(db_->NewIterator(options, children_));
  for (heights->SeekToFirst(); heights->Valid() && heights->key().compare(end) < 0;
       heights->Next()) {
    const rocksdb::Slice key = heights->key();
    if (key.size() != kHeightKeyBytes + 32) {
      return Corrupt(path_, "block height index",
                     "key of " + std::to_string(key.size()) + " bytes");
    }
    const std::string hash_key(key.data() + kHeightKeyBytes, 32);
    // The parent is needed to find this block's own children-index entry. A block
    // that no longer decodes is deleted all the same: pruning it is what we want.
    absl::StatusOr<std::optional<std::string>> value =
        Get(options, blocks_, hash_key, "reading a block to prune");
    if (!value.ok()) return value.status();
    if (value->has_value()) {
      const std::string& bytes = **value;
      Reader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      const Header header = DecodeHeader(&reader);
      if (reader.ok()) batch.Delete(children_, StringOf(header.parent_hash) + hash_key);
    }
    // Entries naming this block as the parent: the index must not outlive the block.
    for (children->Seek(hash_key); children->Valid() && children->key().starts_with(hash_key);
         children->Next()) {
      batch.Delete(children_, children->key());
    }
    if (!children->status().ok())
      return Failed(path_, "reading the children index", children->status());
    batch.Delete(blocks_, hash_key);
    batch.Delete(block_heights_, key);
  }
  if (!heights->status().ok()) {
    return Failed(path_, "reading the block height index", heights->status());
  }
  return Write(&batch, /*sync=*/false, "pruning blocks");
}

absl::StatusOr<std::optional<Block>> BftStore::ReadBlock(const rocksdb::ReadOptions& options,
                                                         const Hash256& hash) {
  absl::StatusOr<std::optional<std::string>> value =
      Get(options, blocks_, StringOf(hash), "reading a block");
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<Block>();
  const std::string& bytes = **value;
  Reader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  Block block;
  block.header = DecodeHeader(&reader);
  block.body = DecodeBody(&reader);
  reader.ExpectEnd();
  if (!reader.ok()) return Corrupt(path_, "block " + ToHex(hash), reader.error());
  // A value that decodes but is not the block its key names is just as corrupt.
  if (block.hash() != hash) return Corrupt(path_, "block " + ToHex(hash), "hash mismatch");
  return std::optional<Block>(std::move(block));
}

absl::StatusOr<std::optional<Block>> BftStore::GetBlock(const Hash256& hash) {
  return ReadBlock(rocksdb::ReadOptions(), hash);
}

absl::StatusOr<std::vector<Hash256>> BftStore::ChildrenOf(const Hash256& parent_hash) {
  const std::string prefix = StringOf(parent_hash);
  std::vector<Hash256> children;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), children_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->key().size() != 64) return Corrupt(path_, "children index", "bad key length");
    Hash256 child;
    std::copy(DataOf(it->key()) + 32, DataOf(it->key()) + 64, child.begin());
    children.push_back(child);
  }
  if (!it->status().ok()) return Failed(path_, "reading the children index", it->status());
  return children;
}

absl::StatusOr<RestoredState> BftStore::Load() {
  // One snapshot, so that a concurrent write cannot tear the state we restore from.
  rocksdb::ManagedSnapshot snapshot(db_.get());
  rocksdb::ReadOptions options;
  options.snapshot = snapshot.snapshot();
  RestoredState restored;

  absl::StatusOr<std::optional<std::string>> safety =
      Get(options, safety_, kSafetyKey, "reading the safety state");
  if (!safety.ok()) return safety.status();
  if (safety->has_value()) {
    const std::string& bytes = **safety;
    Reader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    SafetyState state = DecodeSafetyState(&reader);
    reader.ExpectEnd();
    if (!reader.ok()) return Corrupt(path_, "safety state", reader.error());
    restored.safety = std::move(state);
  }

  uint64_t committed_height = 0;
  std::optional<Hash256> committed_hash;
  absl::StatusOr<std::optional<std::string>> committed =
      Get(options, meta_, kCommittedKey, "reading the committed block");
  if (!committed.ok()) return committed.status();
  if (committed->has_value()) {
    const std::string& bytes = **committed;
    Reader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    if (reader.U8() != kValueFormatVersion) reader.Fail("unknown version");
    committed_height = reader.U64();
    committed_hash = reader.Fixed<32>();
    reader.ExpectEnd();
    if (!reader.ok()) return Corrupt(path_, "committed block record", reader.error());
  }

  // The height index is ordered by height, so the blocks come out sorted.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, block_heights_));
  for (it->Seek(HeightKey(committed_height)); it->Valid(); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (key.size() != kHeightKeyBytes + 32) {
      return Corrupt(path_, "block height index",
                     "key of " + std::to_string(key.size()) + " bytes");
    }
    const uint64_t height = HeightOfKey(key);
    Hash256 hash;
    std::copy(DataOf(key) + kHeightKeyBytes, DataOf(key) + key.size(), hash.begin());
    // Siblings of the committed block lost the race: they can never commit.
    if (committed_hash && height == committed_height && hash != *committed_hash) continue;
    absl::StatusOr<std::optional<Block>> block = ReadBlock(options, hash);
    if (!block.ok()) return block.status();
    if (!block->has_value()) {
      return Corrupt(path_, "block height index", "names missing block " + ToHex(hash));
    }
    restored.blocks.push_back(std::move(**block));
  }
  if (!it->status().ok()) return Failed(path_, "reading the block height index", it->status());
  restored.executed_hash = committed_hash;
  return restored;
}

absl::Status BftStore::PutLedger(const Hash256& post_state_hash, const Bytes& encoded_ledger) {
  rocksdb::WriteBatch batch;
  batch.Put(ledgers_, StringOf(post_state_hash), SliceOf(encoded_ledger));
  return Write(&batch, /*sync=*/false, "storing a ledger");
}

absl::StatusOr<std::optional<Bytes>> BftStore::GetLedger(const Hash256& post_state_hash) {
  absl::StatusOr<std::optional<std::string>> value =
      Get(rocksdb::ReadOptions(), ledgers_, StringOf(post_state_hash), "reading a ledger");
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<Bytes>();
  return std::optional<Bytes>(Bytes((*value)->begin(), (*value)->end()));
}

absl::Status BftStore::PutCertificate(const CertificateRecord& record) {
  const std::string key = HeightKey(record.identity.pow_height);
  rocksdb::WriteBatch batch;
  batch.Put(certificates_, key, SliceOf(EncodeCertificateRecord(record)));
  batch.Put(outbox_, key, "");
  return Write(&batch, /*sync=*/true, "storing a certificate");
}

absl::Status BftStore::RetireFromOutbox(uint64_t pow_height) {
  rocksdb::WriteBatch batch;
  batch.Delete(outbox_, HeightKey(pow_height));
  return Write(&batch, /*sync=*/true, "retiring a certificate from the outbox");
}

namespace {

// Decodes a certificates-CF entry and checks it is filed under its own PoW height.
absl::StatusOr<CertificateRecord> CertificateOfEntry(const std::string& path,
                                                     const rocksdb::Slice& key,
                                                     const rocksdb::Slice& value) {
  absl::StatusOr<CertificateRecord> record =
      DecodeCertificateRecord(Bytes(DataOf(value), DataOf(value) + value.size()));
  if (!record.ok()) return Corrupt(path, "certificate", std::string(record.status().message()));
  if (key.size() != kHeightKeyBytes || HeightOfKey(key) != record->identity.pow_height) {
    return Corrupt(path, "certificate", "filed under the wrong PoW height");
  }
  return record;
}

}  // namespace

absl::StatusOr<std::vector<CertificateRecord>> BftStore::Outbox() {
  // One snapshot: an entry retired or added meanwhile is either wholly seen or not.
  rocksdb::ManagedSnapshot snapshot(db_.get());
  rocksdb::ReadOptions options;
  options.snapshot = snapshot.snapshot();
  std::vector<CertificateRecord> records;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, outbox_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    absl::StatusOr<std::optional<std::string>> value =
        Get(options, certificates_, key, "reading an outbox certificate");
    if (!value.ok()) return value.status();
    if (!value->has_value()) return Corrupt(path_, "outbox", "entry without a certificate");
    absl::StatusOr<CertificateRecord> record = CertificateOfEntry(path_, key, **value);
    if (!record.ok()) return record.status();
    records.push_back(std::move(*record));
  }
  if (!it->status().ok()) return Failed(path_, "reading the outbox", it->status());
  return records;
}

absl::StatusOr<std::optional<CertificateRecord>> BftStore::LatestCertificate() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), certificates_));
  it->SeekToLast();
  if (!it->status().ok()) return Failed(path_, "reading certificates", it->status());
  if (!it->Valid()) return std::optional<CertificateRecord>();
  absl::StatusOr<CertificateRecord> record = CertificateOfEntry(path_, it->key(), it->value());
  if (!record.ok()) return record.status();
  return std::optional<CertificateRecord>(std::move(*record));
}

absl::StatusOr<std::optional<CertificateRecord>> BftStore::CertificateAt(uint64_t pow_height,
                                                                         bool at_or_below) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), certificates_));
  const std::string key = HeightKey(pow_height);
  if (at_or_below) {
    it->SeekForPrev(key);
  } else {
    it->Seek(key);
  }
  if (!it->status().ok()) return Failed(path_, "reading certificates", it->status());
  if (!it->Valid() || (!at_or_below && it->key() != key)) {
    return std::optional<CertificateRecord>();
  }
  absl::StatusOr<CertificateRecord> record = CertificateOfEntry(path_, it->key(), it->value());
  if (!record.ok()) return record.status();
  return std::optional<CertificateRecord>(std::move(*record));
}

absl::StatusOr<std::vector<CertificateRecord>> BftStore::CertificatesAbove(uint64_t pow_height,
                                                                           size_t count_max) {
  std::vector<CertificateRecord> records;
  if (pow_height == UINT64_MAX || count_max == 0) return records;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), certificates_));
  for (it->Seek(HeightKey(pow_height + 1)); it->Valid() && records.size() < count_max; it->Next()) {
    absl::StatusOr<CertificateRecord> record = CertificateOfEntry(path_, it->key(), it->value());
    if (!record.ok()) return record.status();
    records.push_back(std::move(*record));
  }
  if (!it->status().ok()) return Failed(path_, "reading certificates", it->status());
  return records;
}

absl::StatusOr<std::vector<StreamRecord>> BftStore::OwnLog(uint64_t from_view, size_t count_max) {
  std::vector<StreamRecord> records;
  if (count_max == 0) return records;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), own_log_));
  for (it->Seek(HeightKey(from_view)); it->Valid() && records.size() < count_max; it->Next()) {
    const rocksdb::Slice value = it->value();
    absl::StatusOr<StreamRecord> record =
        DecodeStreamRecord(Bytes(DataOf(value), DataOf(value) + value.size()));
    if (!record.ok()) {
      return Corrupt(path_, "own-signature log", std::string(record.status().message()));
    }
    if (it->key().size() != kHeightKeyBytes + kOwnLogDigestBytes ||
        HeightOfKey(it->key()) != record->view) {
      return Corrupt(path_, "own-signature log", "record filed under the wrong view");
    }
    records.push_back(std::move(*record));
  }
  if (!it->status().ok()) return Failed(path_, "reading the own-signature log", it->status());
  return records;
}

}  // namespace metronome::bft
