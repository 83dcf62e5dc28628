#include "common/block.h"

#include "common/assert.h"
#include "common/domain_tags.h"
#include "common/hash.h"
#include "common/merkle.h"

namespace metronome {
namespace {

constexpr uint8_t kTypeCandidate = 1;
constexpr uint8_t kTypeProposerBlock = 2;

}  // namespace

bool Header::operator==(const Header& other) const {
  return parent_hash == other.parent_hash && height == other.height && view == other.view &&
         post_state_hash == other.post_state_hash && content_root == other.content_root;
}

bool CheckpointCandidate::operator==(const CheckpointCandidate& other) const {
  return chain_id == other.chain_id && pow_height == other.pow_height &&
         pow_block_hash == other.pow_block_hash && opaque == other.opaque;
}

void EncodeHeader(const Header& header, Writer* writer) {
  writer->Kind(ArtefactKind::kHeader);
  writer->Fixed(header.parent_hash);
  writer->U64(header.height);
  writer->U64(header.view);
  writer->Fixed(header.post_state_hash);
  writer->Fixed(header.content_root);
}

Bytes EncodeHeader(const Header& header) {
  Writer writer;
  EncodeHeader(header, &writer);
  return writer.Take();
}

Header DecodeHeader(Reader* reader) {
  Header header;
  reader->ExpectKind(ArtefactKind::kHeader);
  header.parent_hash = reader->Fixed<32>();
  header.height = reader->U64();
  header.view = reader->U64();
  header.post_state_hash = reader->Fixed<32>();
  header.content_root = reader->Fixed<32>();
  return header;
}

Hash256 HeaderHash(const Header& header) {
  return TaggedHash(kTagHeaderHash, EncodeHeader(header));
}

void EncodeTransaction(const Transaction& transaction, Writer* writer) {
  writer->Kind(ArtefactKind::kTransaction);
  if (transaction.is_candidate()) {
    const CheckpointCandidate& candidate = transaction.candidate();
    METRONOME_ASSERT(candidate.chain_id.size() <= kChainIdBytesMax);
    METRONOME_ASSERT(candidate.pow_block_hash.size() <= kPowBlockHashBytesMax);
    METRONOME_ASSERT(candidate.opaque.size() <= kCandidateOpaqueBytesMax);
    writer->U8(kTypeCandidate);
    writer->String(candidate.chain_id);
    writer->U64(candidate.pow_height);
    writer->LengthPrefixed(candidate.pow_block_hash);
    writer->LengthPrefixed(candidate.opaque);
  } else {
    const ProposerBlock& block = std::get<ProposerBlock>(transaction.value);
    METRONOME_ASSERT(block.opaque.size() <= kProposerBlockBytesMax);
    writer->U8(kTypeProposerBlock);
    writer->LengthPrefixed(block.opaque);
  }
}

Bytes EncodeTransaction(const Transaction& transaction) {
  Writer writer;
  EncodeTransaction(transaction, &writer);
  return writer.Take();
}

Transaction DecodeTransaction(Reader* reader) {
  reader->ExpectKind(ArtefactKind::kTransaction);
  const uint8_t type = reader->U8();
  if (!reader->ok()) return {};
  if (type == kTypeCandidate) {
    CheckpointCandidate candidate;
    candidate.chain_id = reader->String(kChainIdBytesMax);
    candidate.pow_height = reader->U64();
    candidate.pow_block_hash = reader->LengthPrefixed(kPowBlockHashBytesMax);
    candidate.opaque = reader->LengthPrefixed(kCandidateOpaqueBytesMax);
    return Transaction{std::move(candidate)};
  }
  if (type == kTypeProposerBlock) {
    return Transaction{ProposerBlock{reader->LengthPrefixed(kProposerBlockBytesMax)}};
  }
  reader->Fail("unknown transaction type " + std::to_string(type));
  return {};
}

void EncodeBody(const Body& body, Writer* writer) {
  METRONOME_ASSERT(body.transactions.size() <= kBodyTransactionsMax);
  writer->Kind(ArtefactKind::kBody);
  writer->U32(static_cast<uint32_t>(body.transactions.size()));
  for (const Transaction& transaction : body.transactions) EncodeTransaction(transaction, writer);
}

Bytes EncodeBody(const Body& body) {
  Writer writer;
  EncodeBody(body, &writer);
  return writer.Take();
}

Body DecodeBody(Reader* reader) {
  Body body;
  reader->ExpectKind(ArtefactKind::kBody);
  const uint32_t count = reader->Count(kBodyTransactionsMax, "transaction");
  for (uint32_t i = 0; i < count && reader->ok(); ++i) {
    body.transactions.push_back(DecodeTransaction(reader));
  }
  return body;
}

Hash256 TransactionLeafHash(const Transaction& transaction) {
  return MerkleLeafHash(EncodeTransaction(transaction));
}

Hash256 ContentRoot(const Body& body) {
  std::vector<Hash256> leaves;
  leaves.reserve(body.transactions.size());
  for (const Transaction& transaction : body.transactions) {
    leaves.push_back(TransactionLeafHash(transaction));
  }
  return MerkleRoot(leaves);
}

}  // namespace metronome
