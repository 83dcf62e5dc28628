#include "tests/sim/sim_app.h"

#include "common/assert.h"
#include "common/hash.h"
#include "services/bft/core/certificate_checker.h"

namespace metronome::sim {

Hash256 SimApp::LedgerHash(uint64_t height) {
  Writer writer;
  writer.U64(height);
  return TaggedHash("metronome/sim/ledger", writer.bytes());
}

CheckpointCandidate SimApp::Candidate(uint64_t height) {
  CheckpointCandidate candidate;
  candidate.chain_id = "sim";
  candidate.pow_height = height;
  Writer writer;
  writer.U64(height);
  const Hash256 hash = TaggedHash("metronome/sim/pow-block", writer.bytes());
  candidate.pow_block_hash.assign(hash.begin(), hash.end());
  return candidate;
}

std::optional<uint64_t> SimApp::LedgerOf(const Hash256& block_hash) {
  static const Hash256 genesis = bft::GenesisBlock(LedgerHash(0)).hash();
  // Walk down to a block whose ledger is known, then project back up.
  std::vector<const bft::Block*> path;
  Hash256 cursor = block_hash;
  while (cursor != genesis && ledgers_.count(cursor) == 0) {
    auto block = blocks_.find(cursor);
    if (block == blocks_.end()) return std::nullopt;
    path.push_back(&block->second);
    cursor = block->second.header.parent_hash;
  }
  uint64_t ledger = cursor == genesis ? 0 : ledgers_[cursor];
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    ledger = Apply(ledger, (*it)->body).value_or(ledger);
    ledgers_[(*it)->hash()] = ledger;
  }
  return ledger;
}

void SimApp::OnStored(const std::vector<bft::Block>& blocks) {
  for (const bft::Block& block : blocks) blocks_[block.hash()] = block;
}

std::optional<uint64_t> SimApp::Apply(uint64_t parent_ledger, const Body& body) const {
  uint64_t ledger = parent_ledger;
  for (const Transaction& transaction : body.transactions) {
    if (!transaction.is_candidate()) continue;  // Proposer blocks leave the ledger as is.
    const CheckpointCandidate& candidate = transaction.candidate();
    if (!(candidate == Candidate(candidate.pow_height)) || candidate.pow_height <= ledger) {
      return std::nullopt;
    }
    ledger = candidate.pow_height;
  }
  return ledger;
}

std::optional<std::pair<Body, Hash256>> SimApp::CreateBody(const Hash256& parent_hash) {
  const std::optional<uint64_t> parent_ledger = LedgerOf(parent_hash);
  if (!parent_ledger) return std::nullopt;
  Body body;
  body.transactions.push_back(Transaction{ProposerBlock{BytesOf("node-" + std::to_string(node_))}});
  uint64_t ledger = *parent_ledger;
  if (visible_height_ > ledger) {
    body.transactions.push_back(Transaction{Candidate(visible_height_)});
    ledger = visible_height_;
  }
  return std::make_pair(body, LedgerHash(ledger));
}

bool SimApp::Validate(const bft::Block& block) {
  const std::optional<uint64_t> parent_ledger = LedgerOf(block.header.parent_hash);
  if (!parent_ledger) return false;
  const std::optional<uint64_t> ledger = Apply(*parent_ledger, block.body);
  if (!ledger || *ledger > visible_height_) return false;
  if (block.header.post_state_hash != LedgerHash(*ledger)) return false;
  ledgers_[block.hash()] = *ledger;
  return true;
}

void SimApp::OnCommit(const std::vector<bft::Block>& blocks) {
  OnStored(blocks);
  for (const bft::Block& block : blocks) {
    // Decided by a quorum: its ledger follows from its ancestors'.
    const uint64_t ledger = LedgerOf(block.hash()).value_or(0);
    committed_candidate_height_ = std::max(committed_candidate_height_, ledger);
  }
}

namespace {

std::optional<uint64_t> DecodeHeight(const Bytes& state) {
  if (state.size() != 8) return std::nullopt;
  uint64_t height = 0;
  for (uint8_t byte : state) height = height << 8 | byte;
  return height;
}

}  // namespace

bool SimApp::OnFastForward(const bft::Block& block, const Bytes& state) {
  const std::optional<uint64_t> height = DecodeHeight(state);
  if (!height || LedgerHash(*height) != block.header.post_state_hash) return false;
  ledgers_[block.hash()] = *height;
  committed_candidate_height_ = std::max(committed_candidate_height_, *height);
  return true;
}

std::optional<Bytes> SimApp::StateAfter(const Hash256& post_state_hash) {
  for (const auto& [hash, height] : ledgers_) {
    if (LedgerHash(height) != post_state_hash) continue;
    Bytes state(8);
    for (int i = 0; i < 8; ++i) state[i] = static_cast<uint8_t>(height >> (56 - 8 * i));
    return state;
  }
  return std::nullopt;
}

bool SimApp::StateMatches(const Bytes& state, const Hash256& post_state_hash) const {
  const std::optional<uint64_t> height = DecodeHeight(state);
  return height && LedgerHash(*height) == post_state_hash;
}

}  // namespace metronome::sim
