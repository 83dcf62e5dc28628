#include "services/pow_adapter/core/devchain_block.h"

#include <sodium.h>

#include "common/assert.h"

namespace metronome::devchain {
namespace {

constexpr uint8_t kCoinbaseType = 0;

void ExpectDevchainKind(Reader* reader, uint8_t kind, const char* what) {
  const uint8_t got_kind = reader->U8();
  const uint8_t got_version = reader->U8();
  if (!reader->ok()) return;
  if (got_kind != kind) {
    reader->Fail(std::string(what) + ": kind byte " + std::to_string(got_kind) + ", expected " +
                 std::to_string(kind));
  } else if (got_version != kDevchainFormatVersion) {
    reader->Fail(std::string(what) + ": format version " + std::to_string(got_version) +
                 ", expected " + std::to_string(kDevchainFormatVersion));
  }
}

Hash256 HashPair(uint8_t prefix, const Hash256& left, const Hash256& right) {
  Bytes data;
  data.reserve(65);
  data.push_back(prefix);
  data.insert(data.end(), left.begin(), left.end());
  data.insert(data.end(), right.begin(), right.end());
  return Sha256d(data);
}

}  // namespace

bool DevchainHeader::operator==(const DevchainHeader& other) const {
  return parent == other.parent && height == other.height && time_ms == other.time_ms &&
         target == other.target && nonce == other.nonce && tx_root == other.tx_root;
}

Bytes EncodeCoinbase(const Coinbase& coinbase) {
  METRONOME_ASSERT(coinbase.miner.size() <= kMinerIdBytesMax);
  Writer writer;
  writer.U8(kCoinbaseType);
  writer.U64(coinbase.height);
  writer.String(coinbase.miner);
  return writer.Take();
}

std::optional<Coinbase> DecodeCoinbase(const Bytes& bytes) {
  Reader reader(bytes);
  Coinbase coinbase;
  if (reader.U8() != kCoinbaseType) return std::nullopt;
  coinbase.height = reader.U64();
  coinbase.miner = reader.String(kMinerIdBytesMax);
  reader.ExpectEnd();
  if (!reader.ok()) return std::nullopt;
  return coinbase;
}

void EncodeHeader(const DevchainHeader& header, Writer* writer) {
  writer->U8(kHeaderKind);
  writer->U8(kDevchainFormatVersion);
  writer->Fixed(header.parent);
  writer->U64(header.height);
  writer->U64(header.time_ms);
  writer->Fixed(header.target);
  writer->U64(header.nonce);
  writer->Fixed(header.tx_root);
}

Bytes EncodeHeader(const DevchainHeader& header) {
  Writer writer;
  EncodeHeader(header, &writer);
  return writer.Take();
}

DevchainHeader DecodeHeader(Reader* reader) {
  DevchainHeader header;
  ExpectDevchainKind(reader, kHeaderKind, "devchain header");
  header.parent = reader->Fixed<32>();
  header.height = reader->U64();
  header.time_ms = reader->U64();
  header.target = reader->Fixed<32>();
  header.nonce = reader->U64();
  header.tx_root = reader->Fixed<32>();
  return header;
}

Bytes EncodeBlock(const DevchainBlock& block) {
  METRONOME_ASSERT(block.transactions.size() <= kBlockTransactionsMax);
  Writer writer;
  writer.U8(kBlockKind);
  writer.U8(kDevchainFormatVersion);
  EncodeHeader(block.header, &writer);
  writer.U32(static_cast<uint32_t>(block.transactions.size()));
  for (const Bytes& transaction : block.transactions) {
    METRONOME_ASSERT(transaction.size() <= kTransactionBytesMax);
    writer.LengthPrefixed(transaction);
  }
  return writer.Take();
}

DevchainBlock DecodeBlock(Reader* reader, uint32_t transactions_max) {
  DevchainBlock block;
  ExpectDevchainKind(reader, kBlockKind, "devchain block");
  block.header = DecodeHeader(reader);
  const uint32_t count =
      reader->Count(std::min(transactions_max, kBlockTransactionsMax), "devchain transactions");
  for (uint32_t i = 0; i < count && reader->ok(); ++i) {
    block.transactions.push_back(reader->LengthPrefixed(kTransactionBytesMax));
  }
  reader->ExpectEnd();
  return block;
}

Hash256 Sha256d(const uint8_t* data, size_t size) {
  Hash256 first{};
  Hash256 second{};
  crypto_hash_sha256(first.data(), data, size);
  crypto_hash_sha256(second.data(), first.data(), first.size());
  return second;
}

Hash256 BlockHash(const DevchainHeader& header) { return Sha256d(EncodeHeader(header)); }

Hash256 TransactionRoot(const std::vector<Bytes>& transactions) {
  if (transactions.empty()) return Sha256d(nullptr, 0);
  std::vector<Hash256> level;
  level.reserve(transactions.size());
  for (const Bytes& transaction : transactions) {
    Bytes leaf;
    leaf.reserve(transaction.size() + 1);
    leaf.push_back(0x00);
    leaf.insert(leaf.end(), transaction.begin(), transaction.end());
    level.push_back(Sha256d(leaf));
  }
  while (level.size() > 1) {
    std::vector<Hash256> next;
    next.reserve((level.size() + 1) / 2);
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      next.push_back(HashPair(0x01, level[i], level[i + 1]));
    }
    // An odd last node is promoted, never paired with itself (CVE-2012-2459).
    if (level.size() % 2 == 1) next.push_back(level.back());
    level = std::move(next);
  }
  return level.front();
}

bool MeetsTarget(const Hash256& hash, const Hash256& target) {
  // Lexicographic order on big-endian bytes is numeric order.
  return hash <= target;
}

uint64_t WorkOf(const Hash256& target) {
  uint64_t top = 0;
  for (int i = 0; i < 8; ++i) top = (top << 8) | target[i];
  const unsigned __int128 numerator = static_cast<unsigned __int128>(1) << 64;
  const unsigned __int128 work = numerator / (static_cast<unsigned __int128>(top) + 1);
  // top == 0 would give 2^64: targets that hard are far beyond devchain's purpose.
  return work > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(work);
}

std::optional<Hash256> ParseTarget(const std::string& hex) { return FixedFromHex<32>(hex); }

std::string ShortName(uint64_t height, const Hash256& hash) {
  return "h" + std::to_string(height) + ":" + ToHex(hash.data(), 8);
}

}  // namespace metronome::devchain
