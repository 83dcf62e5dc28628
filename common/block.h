#ifndef METRONOME_COMMON_BLOCK_H_
#define METRONOME_COMMON_BLOCK_H_

#include <string>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/canonical.h"

namespace metronome {

// Hard bounds on decoded fields. Services configure tighter ones; these only keep a
// hostile encoding from making us allocate without limit.
constexpr size_t kChainIdBytesMax = 64;
constexpr size_t kPowBlockHashBytesMax = 64;
constexpr size_t kCandidateOpaqueBytesMax = 4096;
constexpr size_t kProposerBlockBytesMax = 1 << 20;
constexpr uint32_t kBodyTransactionsMax = 1 << 16;

// A BFT block header. The block hash is TaggedHash(header tag, canonical encoding).
//
// Encoding (kind 1): parent_hash[32] height:u64 view:u64 post_state_hash[32]
// content_root[32].
struct Header {
  Hash256 parent_hash{};
  uint64_t height = 0;
  uint64_t view = 0;          // The view whose leader proposed the block.
  Hash256 post_state_hash{};  // The ledger hash after executing the body.
  Hash256 content_root{};     // MerkleRoot of the body's transaction leaves.

  bool operator==(const Header& other) const;
};

// The identity of a PoW block proposed for certification. Certificates for equal
// identities are duplicates, whatever their bytes.
struct CheckpointCandidate {
  std::string chain_id;
  uint64_t pow_height = 0;
  Bytes pow_block_hash;
  Bytes opaque;  // Chain-specific data the interpreter wants certified with it.

  bool operator==(const CheckpointCandidate& other) const;
};

// Opaque PoW data (Advocate's proposer blocks; unused by checkpointing so far).
struct ProposerBlock {
  Bytes opaque;
  bool operator==(const ProposerBlock& other) const { return opaque == other.opaque; }
};

// Encoding (kind 3): type:u8, then for a candidate (type 1): chain_id:str pow_height:u64
// pow_block_hash:bytes opaque:bytes; for a proposer block (type 2): opaque:bytes.
struct Transaction {
  std::variant<CheckpointCandidate, ProposerBlock> value;

  bool is_candidate() const { return std::holds_alternative<CheckpointCandidate>(value); }
  const CheckpointCandidate& candidate() const { return std::get<CheckpointCandidate>(value); }
  bool operator==(const Transaction& other) const { return value == other.value; }
};

// Encoding (kind 2): count:u32, then each transaction.
struct Body {
  std::vector<Transaction> transactions;
  bool operator==(const Body& other) const { return transactions == other.transactions; }
};

void EncodeHeader(const Header& header, Writer* writer);
Bytes EncodeHeader(const Header& header);
Header DecodeHeader(Reader* reader);
Hash256 HeaderHash(const Header& header);

void EncodeTransaction(const Transaction& transaction, Writer* writer);
Bytes EncodeTransaction(const Transaction& transaction);
Transaction DecodeTransaction(Reader* reader);

void EncodeBody(const Body& body, Writer* writer);
Bytes EncodeBody(const Body& body);
Body DecodeBody(Reader* reader);

// The Merkle leaf hash of a transaction and the content root of a body.
Hash256 TransactionLeafHash(const Transaction& transaction);
Hash256 ContentRoot(const Body& body);

}  // namespace metronome

#endif  // METRONOME_COMMON_BLOCK_H_
