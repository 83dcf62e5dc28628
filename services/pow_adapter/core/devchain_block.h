#ifndef METRONOME_SERVICES_POW_ADAPTER_CORE_DEVCHAIN_BLOCK_H_
#define METRONOME_SERVICES_POW_ADAPTER_CORE_DEVCHAIN_BLOCK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/canonical.h"

// devchain's blocks: a real, small proof-of-work chain embedded in the pow-adapter so
// the whole system runs with nothing else installed (DESIGN §5). Pure functions; no
// I/O. Thread-safe.
//
// CANONICAL ENCODINGS. devchain artefacts are written with common/canonical.h and start
// with their own kind byte and format version. They are not Metronome protocol
// artefacts (never signed, never in a BFT block), so their kinds sit in a range common/
// does not use, >= 100:
//
//   100 devchain header   parent[32] height:u64 time_ms:u64 target[32] nonce:u64
//                         tx_root[32]                                  (122 bytes)
//   101 devchain block    header(kind 100) count:u32 transaction:bytes...
//   102 freeze evidence   see devchain.h
//   103 checkpoint state  see devchain.h (the adapter's durable record)
//
// HASHES. A block's hash is SHA-256d (SHA-256 of SHA-256, libsodium) of its header's
// canonical encoding, kind bytes included. Proof of work: the hash, read as a 256-bit
// big-endian number, is at most the header's target. The transaction root is an RFC
// 6962-style tree over SHA-256d: leaf = H(0x00 || tx), node = H(0x01 || left || right),
// an odd node promoted unchanged (never paired with itself), the root of no leaves
// H(""). Transactions are opaque bytes except the first, the coinbase.
namespace metronome::devchain {

constexpr uint8_t kHeaderKind = 100;
constexpr uint8_t kBlockKind = 101;
constexpr uint8_t kCheckpointStateKind = 103;
constexpr uint8_t kDevchainFormatVersion = 1;

constexpr size_t kHeaderEncodedBytes = 122;
// Hard decode bounds; the chain's parameters set tighter ones.
constexpr uint32_t kBlockTransactionsMax = 4096;
constexpr size_t kTransactionBytesMax = 1 << 20;
constexpr size_t kMinerIdBytesMax = 64;

struct DevchainHeader {
  Hash256 parent{};  // Zero for genesis.
  uint64_t height = 0;
  uint64_t time_ms = 0;  // Miner's clock, ms since the Unix epoch.
  Hash256 target{};      // Big-endian 256-bit; the block hash must not exceed it.
  uint64_t nonce = 0;
  Hash256 tx_root{};

  bool operator==(const DevchainHeader& other) const;
};

struct DevchainBlock {
  DevchainHeader header;
  // transactions[0] is the coinbase (EncodeCoinbase); the rest are opaque.
  std::vector<Bytes> transactions;

  bool operator==(const DevchainBlock& other) const {
    return header == other.header && transactions == other.transactions;
  }
};

// The coinbase names the miner and the height, so blocks by different miners, or at
// different heights, never share a transaction (BIP 34's reason). Encoding:
// type:u8 = 0, height:u64, miner:str (at most kMinerIdBytesMax bytes).
struct Coinbase {
  uint64_t height = 0;
  std::string miner;
};
Bytes EncodeCoinbase(const Coinbase& coinbase);
// nullopt when `bytes` is not a canonical coinbase.
std::optional<Coinbase> DecodeCoinbase(const Bytes& bytes);

void EncodeHeader(const DevchainHeader& header, Writer* writer);
Bytes EncodeHeader(const DevchainHeader& header);
// Reads a header (kind byte first); failures are recorded in the reader.
DevchainHeader DecodeHeader(Reader* reader);

Bytes EncodeBlock(const DevchainBlock& block);
// Decodes a whole block (no trailing bytes), refusing more than `transactions_max`
// transactions. Failures are recorded in the reader.
DevchainBlock DecodeBlock(Reader* reader, uint32_t transactions_max = kBlockTransactionsMax);

Hash256 Sha256d(const uint8_t* data, size_t size);
inline Hash256 Sha256d(const Bytes& data) { return Sha256d(data.data(), data.size()); }

Hash256 BlockHash(const DevchainHeader& header);
Hash256 TransactionRoot(const std::vector<Bytes>& transactions);

// True when `hash` <= `target`, both big-endian 256-bit numbers.
bool MeetsTarget(const Hash256& hash, const Hash256& target);

// The work a block at `target` proves, scaled so it fits 64 bits: floor(2^64 / (t + 1))
// where t is the target's most significant 64 bits. devchain has no difficulty
// adjustment (every block must carry the chain's target), so this only has to order
// chains correctly, which it does: equal targets, equal work per block.
uint64_t WorkOf(const Hash256& target);

// Parses a target from 64 hex digits; nullopt otherwise.
std::optional<Hash256> ParseTarget(const std::string& hex);

// "h<height>:<first 8 bytes hex>" for logs.
std::string ShortName(uint64_t height, const Hash256& hash);

}  // namespace metronome::devchain

#endif  // METRONOME_SERVICES_POW_ADAPTER_CORE_DEVCHAIN_BLOCK_H_
