#include "services/bft/shell/bft_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "common/test_support.h"

namespace metronome::bft {
namespace {

std::string FreshDir(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

Hash256 Filled(uint8_t byte) {
  Hash256 out;
  out.fill(byte);
  return out;
}

const Hash256 kFederationId = Filled(0xfe);
const PublicKey kMemberKey = Filled(0x11);

std::unique_ptr<BftStore> OpenOrDie(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<BftStore>> store = BftStore::Open(dir, kFederationId, kMemberKey);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// A chain of blocks at heights 0..count-1, each the parent of the next.
std::vector<Block> MakeChain(size_t count) {
  std::vector<Block> chain;
  Hash256 parent{};
  for (size_t height = 0; height < count; ++height) {
    Block block;
    block.header.parent_hash = parent;
    block.header.height = height;
    block.header.view = height + 10;
    block.header.post_state_hash = Filled(static_cast<uint8_t>(height));
    if (height % 2 == 1) {
      block.body.transactions.push_back(
          Transaction{testing::MakeTestCandidate("devchain", 100 + height)});
    }
    block.header.content_root = ContentRoot(block.body);
    parent = block.hash();
    chain.push_back(block);
  }
  return chain;
}

SafetyState MakeSafety(uint64_t view) {
  SafetyState safety;
  safety.view = view;
  safety.last_vote_view = view - 1;
  safety.last_vote_phase = 2;
  safety.last_timeout_view = view - 2;
  safety.locked_qc.view = view - 1;
  safety.locked_qc.block_hash = Filled(0x22);
  safety.locked_qc.signer_bitmap = {0x07};
  safety.locked_qc.signatures = {Signature{}, Signature{}, Signature{}};
  safety.high_qc = safety.locked_qc;
  safety.commit_qc.view = view - 3;
  return safety;
}

StreamRecord MakeOwnRecord(uint64_t view, uint8_t tag) {
  StreamRecord record;
  record.view = view;
  record.source = StreamRecord::Source::kOwn;
  record.item = StreamRecord::Item::kArtefact;
  record.payload = Bytes{10, tag, static_cast<uint8_t>(view)};
  record.signature.fill(tag);
  record.signer = 3;
  return record;
}

bool SameRecord(const StreamRecord& a, const StreamRecord& b) {
  return a.view == b.view && a.source == b.source && a.item == b.item && a.rejected == b.rejected &&
         a.rejection_reason == b.rejection_reason && a.payload == b.payload &&
         a.signature == b.signature && a.signer == b.signer;
}

CertificateRecord MakeCertificate(uint64_t pow_height) {
  CertificateRecord record;
  record.encoded = Bytes{5, 1, static_cast<uint8_t>(pow_height), 0xaa};
  record.identity.chain_id = "devchain";
  record.identity.pow_height = pow_height;
  record.identity.pow_block_hash = Bytes(32, static_cast<uint8_t>(pow_height));
  record.bft_height = pow_height / 2;
  record.bft_block_hash = Filled(static_cast<uint8_t>(pow_height + 1));
  record.committed_view = pow_height + 7;
  return record;
}

std::vector<uint64_t> PowHeightsOf(const std::vector<CertificateRecord>& records) {
  std::vector<uint64_t> heights;
  for (const CertificateRecord& record : records) heights.push_back(record.identity.pow_height);
  return heights;
}

// Overwrites a value behind the store's back, as disk corruption or a bug would.
void WriteRaw(const std::string& dir, const std::string& family, const std::string& key,
              const std::string& value) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir, families, &handles, &db).ok());
  bool written = false;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == family) {
      EXPECT_TRUE(db->Put(rocksdb::WriteOptions(), handles[i], key, value).ok());
      written = true;
    }
  }
  EXPECT_TRUE(written) << "no column family " << family;
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
}

std::string BigEndianKey(uint64_t value) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, value >>= 8) key[i] = static_cast<char>(value & 0xff);
  return key;
}

TEST(BftStoreTest, StreamAndCertificateRecordsRoundTripThroughTheirEncodings) {
  StreamRecord stream = MakeOwnRecord(9, 4);
  stream.source = StreamRecord::Source::kReceived;
  stream.item = StreamRecord::Item::kQc;
  stream.rejected = true;
  stream.rejection_reason = "stale view";
  absl::StatusOr<StreamRecord> decoded_stream = DecodeStreamRecord(EncodeStreamRecord(stream));
  ASSERT_TRUE(decoded_stream.ok()) << decoded_stream.status();
  EXPECT_TRUE(SameRecord(*decoded_stream, stream));

  const CertificateRecord certificate = MakeCertificate(42);
  absl::StatusOr<CertificateRecord> decoded_certificate =
      DecodeCertificateRecord(EncodeCertificateRecord(certificate));
  ASSERT_TRUE(decoded_certificate.ok()) << decoded_certificate.status();
  EXPECT_EQ(*decoded_certificate, certificate);
}

TEST(BftStoreTest, TruncatedOrPaddedRecordEncodingsAreDataLossNotACrash) {
  Bytes stream = EncodeStreamRecord(MakeOwnRecord(9, 4));
  Bytes certificate = EncodeCertificateRecord(MakeCertificate(42));
  for (size_t size = 0; size < stream.size(); ++size) {
    EXPECT_EQ(DecodeStreamRecord(Bytes(stream.begin(), stream.begin() + size)).status().code(),
              absl::StatusCode::kDataLoss);
  }
  for (size_t size = 0; size < certificate.size(); ++size) {
    EXPECT_EQ(DecodeCertificateRecord(Bytes(certificate.begin(), certificate.begin() + size))
                  .status()
                  .code(),
              absl::StatusCode::kDataLoss);
  }
  stream.push_back(0);
  EXPECT_FALSE(DecodeStreamRecord(stream).ok());
  Bytes bad_source = EncodeStreamRecord(MakeOwnRecord(9, 4));
  bad_source[9] = 7;  // After version:u8 and view:u64.
  EXPECT_FALSE(DecodeStreamRecord(bad_source).ok());
}

TEST(BftStoreTest, BlocksLedgersAndChildrenRoundTrip) {
  std::unique_ptr<BftStore> store = OpenOrDie(FreshDir("round_trip"));
  const std::vector<Block> chain = MakeChain(3);
  ASSERT_TRUE(store->StoreBlocks(chain).ok());
  ASSERT_TRUE(store->StoreBlocks(chain).ok());  // Idempotent.

  absl::StatusOr<std::optional<Block>> block = store->GetBlock(chain[1].hash());
  ASSERT_TRUE(block.ok()) << block.status();
  ASSERT_TRUE(block->has_value());
  EXPECT_EQ((*block)->header, chain[1].header);
  EXPECT_EQ((*block)->body, chain[1].body);
  absl::StatusOr<std::optional<Block>> missing = store->GetBlock(Filled(0x99));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  absl::StatusOr<std::vector<Hash256>> children = store->ChildrenOf(chain[0].hash());
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(*children, std::vector<Hash256>{chain[1].hash()});

  const Bytes ledger = {8, 1, 2, 3};
  ASSERT_TRUE(store->PutLedger(Filled(0x33), ledger).ok());
  absl::StatusOr<std::optional<Bytes>> stored_ledger = store->GetLedger(Filled(0x33));
  ASSERT_TRUE(stored_ledger.ok());
  EXPECT_EQ(*stored_ledger, std::optional<Bytes>(ledger));
  absl::StatusOr<std::optional<Bytes>> no_ledger = store->GetLedger(Filled(0x34));
  ASSERT_TRUE(no_ledger.ok());
  EXPECT_FALSE(no_ledger->has_value());
}

TEST(BftStoreTest, LoadAfterReopenRestoresSafetyCommittedBlockAndBlocksAboveButNotPruned) {
  const std::string dir = FreshDir("load");
  const std::vector<Block> chain = MakeChain(6);
  Block sibling = chain[3];  // A fork at the committed height: never restored.
  sibling.header.view = 99;
  const SafetyState safety = MakeSafety(20);
  {
    std::unique_ptr<BftStore> store = OpenOrDie(dir);
    absl::StatusOr<RestoredState> empty = store->Load();
    ASSERT_TRUE(empty.ok()) << empty.status();
    EXPECT_FALSE(empty->safety.has_value());
    EXPECT_TRUE(empty->blocks.empty());

    // Out of height order on purpose: Load sorts.
    ASSERT_TRUE(store->StoreBlocks({chain[5], chain[2], sibling, chain[0], chain[4]}).ok());
    ASSERT_TRUE(store->StoreBlocks({chain[1], chain[3]}).ok());
    ASSERT_TRUE(store->PersistSafety(safety, {}).ok());
    ASSERT_TRUE(store->SetCommitted(3, chain[3].hash()).ok());
    ASSERT_TRUE(store->PruneBlocksBelow(2).ok());
  }
  std::unique_ptr<BftStore> store = OpenOrDie(dir);
  absl::StatusOr<RestoredState> restored = store->Load();
  ASSERT_TRUE(restored.ok()) << restored.status();
  ASSERT_TRUE(restored->safety.has_value());
  EXPECT_EQ(*restored->safety, safety);
  std::vector<Hash256> hashes;
  for (const Block& block : restored->blocks) hashes.push_back(block.hash());
  EXPECT_EQ(hashes, (std::vector<Hash256>{chain[3].hash(), chain[4].hash(), chain[5].hash()}));

  // Pruned: gone with their index entries; the block at height 2 is stored but below
  // the committed one, so it is kept but not restored.
  for (size_t height : {0, 1}) {
    absl::StatusOr<std::optional<Block>> pruned = store->GetBlock(chain[height].hash());
    ASSERT_TRUE(pruned.ok());
    EXPECT_FALSE(pruned->has_value()) << "height " << height;
  }
  absl::StatusOr<std::optional<Block>> kept = store->GetBlock(chain[2].hash());
  ASSERT_TRUE(kept.ok() && kept->has_value());
  absl::StatusOr<std::vector<Hash256>> children_of_pruned = store->ChildrenOf(chain[1].hash());
  ASSERT_TRUE(children_of_pruned.ok());
  EXPECT_TRUE(children_of_pruned->empty());
  absl::StatusOr<std::vector<Hash256>> children = store->ChildrenOf(chain[2].hash());
  ASSERT_TRUE(children.ok());
  EXPECT_EQ(children->size(), 2u);  // chain[3] and its sibling.
}

TEST(BftStoreTest, LoadWithoutACommittedRecordRestoresEveryStoredBlock) {
  std::unique_ptr<BftStore> store = OpenOrDie(FreshDir("no_commit"));
  const std::vector<Block> chain = MakeChain(3);
  ASSERT_TRUE(store->StoreBlocks({chain[2], chain[0], chain[1]}).ok());
  absl::StatusOr<RestoredState> restored = store->Load();
  ASSERT_TRUE(restored.ok()) << restored.status();
  ASSERT_EQ(restored->blocks.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(restored->blocks[i].header.height, i);
}

TEST(BftStoreTest, ASecondOpenOfAnOpenDatabaseFailsNamingThePath) {
  const std::string dir = FreshDir("locked");
  std::unique_ptr<BftStore> first = OpenOrDie(dir);
  absl::StatusOr<std::unique_ptr<BftStore>> second = BftStore::Open(dir, kFederationId, kMemberKey);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(dir), std::string::npos) << second.status();
  EXPECT_NE(second.status().message().find("another metronome-bft"), std::string::npos);
}

TEST(BftStoreTest, ADatabaseMadeForAnotherFederationOrMemberIsRefused) {
  const std::string dir = FreshDir("foreign");
  OpenOrDie(dir).reset();
  for (const auto& [federation_id, member_key] :
       {std::pair{Filled(0x01), kMemberKey}, std::pair{kFederationId, Filled(0x02)}}) {
    absl::StatusOr<std::unique_ptr<BftStore>> store =
        BftStore::Open(dir, federation_id, member_key);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(store.status().message().find("foreign database"), std::string::npos);
    EXPECT_NE(store.status().message().find("made for federation " + ToHex(kFederationId) +
                                            " member " + ToHex(kMemberKey)),
              std::string::npos)
        << store.status();
  }
  EXPECT_NE(OpenOrDie(dir), nullptr);  // The rightful owner still gets in.
}

TEST(BftStoreTest, OutboxPutAndRetireSurviveReopening) {
  const std::string dir = FreshDir("outbox");
  {
    std::unique_ptr<BftStore> store = OpenOrDie(dir);
    for (uint64_t height : {30, 10, 20}) {
      ASSERT_TRUE(store->PutCertificate(MakeCertificate(height)).ok());
    }
    ASSERT_TRUE(store->RetireFromOutbox(20).ok());
  }
  std::unique_ptr<BftStore> store = OpenOrDie(dir);
  absl::StatusOr<std::vector<CertificateRecord>> outbox = store->Outbox();
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  EXPECT_EQ(PowHeightsOf(*outbox), (std::vector<uint64_t>{10, 30}));
  EXPECT_EQ((*outbox)[0], MakeCertificate(10));
  // Retiring delivers, it does not forget: the certificate is still served.
  absl::StatusOr<std::optional<CertificateRecord>> retired = store->CertificateAt(20, false);
  ASSERT_TRUE(retired.ok() && retired->has_value());

  ASSERT_TRUE(store->RetireFromOutbox(10).ok());
  ASSERT_TRUE(store->RetireFromOutbox(30).ok());
  store.reset();
  store = OpenOrDie(dir);
  outbox = store->Outbox();
  ASSERT_TRUE(outbox.ok());
  EXPECT_TRUE(outbox->empty());
}

TEST(BftStoreTest, CertificateLookupsExactAtOrBelowLatestAndAbove) {
  std::unique_ptr<BftStore> store = OpenOrDie(FreshDir("certificates"));
  absl::StatusOr<std::optional<CertificateRecord>> none = store->LatestCertificate();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  for (uint64_t height : {10, 20, 300}) {
    ASSERT_TRUE(store->PutCertificate(MakeCertificate(height)).ok());
  }

  absl::StatusOr<std::optional<CertificateRecord>> exact = store->CertificateAt(20, false);
  ASSERT_TRUE(exact.ok() && exact->has_value());
  EXPECT_EQ(**exact, MakeCertificate(20));
  absl::StatusOr<std::optional<CertificateRecord>> no_exact = store->CertificateAt(25, false);
  ASSERT_TRUE(no_exact.ok());
  EXPECT_FALSE(no_exact->has_value());
  absl::StatusOr<std::optional<CertificateRecord>> below = store->CertificateAt(25, true);
  ASSERT_TRUE(below.ok() && below->has_value());
  EXPECT_EQ((*below)->identity.pow_height, 20u);
  absl::StatusOr<std::optional<CertificateRecord>> at = store->CertificateAt(300, true);
  ASSERT_TRUE(at.ok() && at->has_value());
  EXPECT_EQ((*at)->identity.pow_height, 300u);
  absl::StatusOr<std::optional<CertificateRecord>> under_all = store->CertificateAt(9, true);
  ASSERT_TRUE(under_all.ok());
  EXPECT_FALSE(under_all->has_value());

  absl::StatusOr<std::optional<CertificateRecord>> latest = store->LatestCertificate();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->identity.pow_height, 300u);

  absl::StatusOr<std::vector<CertificateRecord>> above = store->CertificatesAbove(10, 10);
  ASSERT_TRUE(above.ok());
  EXPECT_EQ(PowHeightsOf(*above), (std::vector<uint64_t>{20, 300}));
  above = store->CertificatesAbove(0, 2);
  ASSERT_TRUE(above.ok());
  EXPECT_EQ(PowHeightsOf(*above), (std::vector<uint64_t>{10, 20}));
  above = store->CertificatesAbove(UINT64_MAX, 10);
  ASSERT_TRUE(above.ok());
  EXPECT_TRUE(above->empty());
}

TEST(BftStoreTest, OwnLogFiltersByViewIsCappedAndRepersistingIsIdempotent) {
  const std::string dir = FreshDir("own_log");
  const std::vector<StreamRecord> records = {MakeOwnRecord(5, 1), MakeOwnRecord(7, 1),
                                             MakeOwnRecord(7, 2), MakeOwnRecord(9, 1)};
  std::vector<double> latencies_seconds;
  {
    absl::StatusOr<std::unique_ptr<BftStore>> store = BftStore::Open(
        dir, kFederationId, kMemberKey,
        [&](double latency_seconds) { latencies_seconds.push_back(latency_seconds); });
    ASSERT_TRUE(store.ok()) << store.status();
    latencies_seconds.clear();  // Creating the database recorded its identity.
    ASSERT_TRUE((*store)->PersistSafety(std::nullopt, records).ok());
    ASSERT_TRUE((*store)->PersistSafety(MakeSafety(10), {records[1], records[3]}).ok());
    EXPECT_EQ(latencies_seconds.size(), 2u);
  }
  std::unique_ptr<BftStore> store = OpenOrDie(dir);
  absl::StatusOr<std::vector<StreamRecord>> all = store->OwnLog(0, 100);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 4u);  // Not 6: the same record maps to the same key.

  absl::StatusOr<std::vector<StreamRecord>> from_seven = store->OwnLog(7, 100);
  ASSERT_TRUE(from_seven.ok());
  ASSERT_EQ(from_seven->size(), 3u);
  std::vector<uint64_t> views;
  for (const StreamRecord& record : *from_seven) views.push_back(record.view);
  EXPECT_EQ(views, (std::vector<uint64_t>{7, 7, 9}));
  EXPECT_TRUE(SameRecord((*from_seven)[2], records[3]));

  absl::StatusOr<std::vector<StreamRecord>> capped = store->OwnLog(0, 2);
  ASSERT_TRUE(capped.ok());
  ASSERT_EQ(capped->size(), 2u);
  EXPECT_TRUE(SameRecord((*capped)[0], records[0]));
  absl::StatusOr<std::vector<StreamRecord>> beyond = store->OwnLog(10, 100);
  ASSERT_TRUE(beyond.ok());
  EXPECT_TRUE(beyond->empty());
}

TEST(BftStoreTest, CorruptValuesAreDataLossErrorsNotCrashes) {
  const std::string dir = FreshDir("corrupt");
  const std::vector<Block> chain = MakeChain(2);
  {
    std::unique_ptr<BftStore> store = OpenOrDie(dir);
    ASSERT_TRUE(store->StoreBlocks(chain).ok());
    ASSERT_TRUE(store->PutCertificate(MakeCertificate(10)).ok());
    ASSERT_TRUE(store->PersistSafety(MakeSafety(10), {MakeOwnRecord(5, 1)}).ok());
  }
  const Hash256 block_hash = chain[1].hash();
  const std::string block_key(block_hash.begin(), block_hash.end());
  WriteRaw(dir, "blocks", block_key, "garbage");
  WriteRaw(dir, "certificates", BigEndianKey(10), "garbage");
  WriteRaw(dir, "own_log", BigEndianKey(5) + "12345678", "garbage");

  std::unique_ptr<BftStore> store = OpenOrDie(dir);
  EXPECT_EQ(store->GetBlock(chain[1].hash()).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store->Load().status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store->CertificateAt(10, false).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store->LatestCertificate().status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store->Outbox().status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(store->OwnLog(0, 10).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(store->Load().status().message().find(dir), std::string::npos);
  // A corrupt block below the prune height is still pruned.
  ASSERT_TRUE(store->PruneBlocksBelow(2).ok());
  absl::StatusOr<std::optional<Block>> pruned = store->GetBlock(chain[1].hash());
  ASSERT_TRUE(pruned.ok());
  EXPECT_FALSE(pruned->has_value());
}

TEST(BftStoreTest, CorruptSafetyStateOrIdentityIsDataLoss) {
  const std::string dir = FreshDir("corrupt_safety");
  OpenOrDie(dir).reset();
  WriteRaw(dir, "safety", "state", "garbage");
  {
    std::unique_ptr<BftStore> store = OpenOrDie(dir);
    absl::StatusOr<RestoredState> restored = store->Load();
    EXPECT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
  }
  WriteRaw(dir, "default", "identity", "garbage");
  absl::StatusOr<std::unique_ptr<BftStore>> store = BftStore::Open(dir, kFederationId, kMemberKey);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
}

}  // namespace
}  // namespace metronome::bft
