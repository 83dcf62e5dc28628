#include "tests/sim/byzantine.h"

#include <limits>

#include "common/assert.h"
#include "common/domain_tags.h"

namespace metronome::sim {
namespace {

using bft::Block;
using bft::Message;

constexpr size_t kKeptMax = 64;  // Observed QCs, blocks and messages kept for replays.

template <typename T>
void Keep(std::vector<T>* kept, T value) {
  if (kept->size() >= kKeptMax) kept->erase(kept->begin());
  kept->push_back(std::move(value));
}

template <typename T>
const T& Pick(Random* random, const std::vector<T>& values) {
  METRONOME_ASSERT(!values.empty());
  return values[random->Range(0, values.size() - 1)];
}

}  // namespace

ByzantineAdversary::ByzantineAdversary(const testing::TestFederation* federation,
                                       std::set<uint32_t> members, uint64_t seed,
                                       StateSource state_of)
    : federation_(*federation),
      members_(std::move(members)),
      random_(seed ^ 0xb52a27f1e5d3c49bULL),
      state_of_(std::move(state_of)) {
  METRONOME_ASSERT(members_.size() <= federation_.federation.f());
}

std::vector<uint32_t> ByzantineAdversary::Honest() const {
  std::vector<uint32_t> honest;
  for (uint32_t member = 0; member < federation_.federation.n(); ++member) {
    if (!Controls(member)) honest.push_back(member);
  }
  return honest;
}

bft::Signed ByzantineAdversary::Sign(uint32_t from, std::string_view tag, const Bytes& payload) {
  // Floods repeat statements: one signature each (and the receivers' shared verification
  // cache hits), which keeps a run's cost near an honest one's.
  Bytes key(tag.begin(), tag.end());
  key.push_back(static_cast<uint8_t>(from));
  key.insert(key.end(), payload.begin(), payload.end());
  auto found = signatures_.find(key);
  if (found != signatures_.end()) return {from, found->second};
  if (signatures_.size() >= 4096) signatures_.clear();
  const Signature signature =
      SignTagged(federation_.keys[from], tag, federation_.federation.id(), payload);
  signatures_.emplace(std::move(key), signature);
  return {from, signature};
}

uint64_t ByzantineAdversary::MutateView(uint64_t view) {
  switch (random_.Range(0, 7)) {
    case 0:
      return view + 1;
    case 1:
      return view > 0 ? view - 1 : 0;
    case 2:
      return view + random_.Range(2, 20);
    case 3:
      return 0;
    case 4:
      return view + 1000;
    case 5:
      return std::numeric_limits<uint64_t>::max() - random_.Range(0, 2);
    case 6:
      return highest_view_ + random_.Range(0, 70);  // Inside and just past the window.
    default:
      return view;
  }
}

Hash256 ByzantineAdversary::SomeHash() {
  if (!blocks_.empty() && random_.Chance(0.6)) return Pick(&random_, blocks_).hash();
  Hash256 hash;
  for (uint8_t& byte : hash) byte = static_cast<uint8_t>(random_.Next());
  return hash;
}

QuorumCertificate ByzantineAdversary::SomeQc() {
  QuorumCertificate qc;
  if (!qcs_.empty()) qc = Pick(&random_, qcs_);
  if (random_.Chance(0.7)) return qc;  // A genuine QC, replayed.
  switch (random_.Range(0, 5)) {       // A forged one.
    case 0:
      qc.view = MutateView(qc.view);
      break;
    case 1:
      qc.phase = static_cast<Phase>(random_.Range(0, 255));
      break;
    case 2:
      if (!qc.signatures.empty()) qc.signatures.pop_back();
      break;
    case 3:
      if (!qc.signer_bitmap.empty()) qc.signer_bitmap[0] ^= 1u << random_.Range(0, 7);
      break;
    case 4:
      qc.block_hash = SomeHash();
      break;
    default:
      qc.signer_bitmap.push_back(0xff);
      break;
  }
  return qc;
}

void ByzantineAdversary::Observe(const Message& message) {
  auto keep_qc = [this](const QuorumCertificate& qc) {
    if (qc.view == 0) return;
    Keep(&qcs_, qc);
    highest_view_ = std::max(highest_view_, qc.view);
    if (qc.phase == Phase::kCommit && (!latest_commit_ || latest_commit_->view < qc.view)) {
      latest_commit_ = qc;
    }
  };
  auto keep_block = [this](const Block& block) {
    Keep(&blocks_, block);
    if (latest_commit_ && block.hash() == latest_commit_->block_hash) latest_commit_block_ = block;
  };
  if (const auto* proposal = std::get_if<bft::Proposal>(&message)) {
    keep_qc(proposal->justify_qc);
    keep_block(Block{proposal->statement.header, proposal->body});
    highest_view_ = std::max(highest_view_, proposal->statement.view);
  } else if (const auto* quorum = std::get_if<bft::QuorumMessage>(&message)) {
    keep_qc(quorum->qc);
  } else if (const auto* new_view = std::get_if<bft::NewView>(&message)) {
    keep_qc(new_view->prepare_qc);
  } else if (const auto* timeout = std::get_if<bft::Timeout>(&message)) {
    keep_qc(timeout->high_qc);
  } else if (const auto* status = std::get_if<bft::SyncStatus>(&message)) {
    keep_qc(status->high_qc);
    keep_qc(status->commit_qc);
  } else if (const auto* response = std::get_if<bft::BlockResponse>(&message)) {
    for (const Block& block : response->blocks) keep_block(block);
    keep_qc(response->commit_qc);
    if (response->commit_block) keep_block(*response->commit_block);
  }
  Keep(&messages_, message);
}

bft::Proposal ByzantineAdversary::MutateProposal(uint32_t from, bft::Proposal proposal) {
  ProposalStatement& statement = proposal.statement;
  Header& header = statement.header;
  switch (random_.Range(0, 8)) {
    case 0:
      statement.view = header.view = MutateView(statement.view);
      break;
    case 1:
      header.view = MutateView(header.view);
      break;
    case 2:
      statement.justify_view = MutateView(statement.justify_view);
      break;
    case 3:
      header.height = random_.Chance(0.5) ? header.height + 1 : MutateView(header.height);
      break;
    case 4:
      header.parent_hash = SomeHash();
      break;
    case 5:
      header.post_state_hash = SomeHash();
      break;
    case 6: {  // Another body: equivocation when sent beside the original.
      proposal.body.transactions.push_back(Transaction{ProposerBlock{
          Bytes{static_cast<uint8_t>(random_.Next()), static_cast<uint8_t>(random_.Next())}}});
      if (random_.Chance(0.8)) header.content_root = ContentRoot(proposal.body);
      break;
    }
    case 7:
      proposal.justify_qc = SomeQc();
      if (random_.Chance(0.5)) {
        statement.justify_view = proposal.justify_qc.view;
        header.parent_hash = proposal.justify_qc.block_hash;
      }
      break;
    default:
      statement.protocol_id = static_cast<uint32_t>(random_.Range(0, 3));
      break;
  }
  proposal.signed_by = Sign(from, kTagProposal, EncodeProposalStatement(statement));
  return proposal;
}

bft::Vote ByzantineAdversary::MutateVote(uint32_t from, bft::Vote vote) {
  VoteStatement& statement = vote.statement;
  switch (random_.Range(0, 4)) {
    case 0:  // Out-of-range phases: once enough to abort a leader (found on main).
      statement.phase =
          static_cast<Phase>(random_.Chance(0.5) ? random_.Range(4, 255) : random_.Range(0, 3));
      break;
    case 1:
      statement.view = MutateView(statement.view);
      break;
    case 2:
      statement.block_hash = SomeHash();
      break;
    case 3:
      statement.justify_view = MutateView(statement.justify_view);
      break;
    default:
      statement.protocol_id ^= 1;
      break;
  }
  vote.signed_by = Sign(from, kTagVote, EncodeVoteStatement(statement));
  return vote;
}

Message ByzantineAdversary::Mutate(uint32_t from, const Message& message) {
  if (const auto* proposal = std::get_if<bft::Proposal>(&message)) {
    return MutateProposal(from, *proposal);
  }
  if (const auto* vote = std::get_if<bft::Vote>(&message)) return MutateVote(from, *vote);
  if (std::holds_alternative<bft::QuorumMessage>(message)) return bft::QuorumMessage{SomeQc()};
  if (const auto* new_view = std::get_if<bft::NewView>(&message)) {
    bft::NewView mutated = *new_view;
    mutated.prepare_qc = SomeQc();
    mutated.statement.view = MutateView(mutated.statement.view);
    if (random_.Chance(0.5)) {  // Consistent with the QC: a validly signed report.
      mutated.statement.prepare_qc_view = mutated.prepare_qc.view;
      mutated.statement.prepare_qc_block_hash = mutated.prepare_qc.block_hash;
    }
    mutated.signed_by = Sign(from, kTagNewView, EncodeNewViewStatement(mutated.statement));
    return mutated;
  }
  if (const auto* timeout = std::get_if<bft::Timeout>(&message)) {
    bft::Timeout mutated = *timeout;
    mutated.high_qc = SomeQc();
    mutated.statement.view = MutateView(mutated.statement.view);
    if (random_.Chance(0.5)) {
      mutated.statement.high_qc_view = mutated.high_qc.view;
      mutated.statement.high_qc_block_hash = mutated.high_qc.block_hash;
    }
    mutated.signed_by = Sign(from, kTagTimeout, EncodeTimeoutStatement(mutated.statement));
    return mutated;
  }
  if (const auto* status = std::get_if<bft::SyncStatus>(&message)) {
    bft::SyncStatus mutated = *status;
    mutated.view = MutateView(mutated.view);
    mutated.high_qc = SomeQc();
    mutated.commit_qc = SomeQc();
    mutated.committed_height = random_.Next();
    if (random_.Chance(0.3)) mutated.timeout_certificate.reset();
    return mutated;
  }
  if (std::holds_alternative<bft::BlockRequest>(message)) {
    bft::BlockRequest request;
    for (uint64_t i = random_.Range(0, 100); i > 0; --i) request.hashes.push_back(SomeHash());
    request.include_ancestors = random_.Chance(0.8);
    request.stop_height = random_.Chance(0.5) ? 0 : random_.Next();
    request.blocks_max = static_cast<uint32_t>(random_.Next());
    return request;
  }
  if (const auto* response = std::get_if<bft::BlockResponse>(&message)) {
    if (response->blocks.empty() || !response->commit_block || random_.Chance(0.3)) {
      return UnsolicitedResponse(from);
    }
    // A member catching up asked us: claim the block is pruned and offer our decision
    // with a state that does not check out (or does), to make it jump.
    bft::BlockResponse lie;
    lie.missing = {response->blocks.front().hash()};
    lie.commit_qc = response->commit_qc;
    lie.commit_block = response->commit_block;
    lie.commit_state = random_.Chance(0.5)
                           ? state_of_(from, response->commit_block->header.post_state_hash)
                           : std::optional<Bytes>(Bytes{0xde, 0xad});
    return lie;
  }
  return message;
}

std::vector<Injection> ByzantineAdversary::Transform(uint32_t from, uint32_t to,
                                                     const Message& message) {
  METRONOME_ASSERT(Controls(from));
  std::vector<uint32_t> targets;
  for (uint32_t member = 0; member < federation_.federation.n(); ++member) {
    if (member != from && (to == bft::kBroadcast || to == member)) targets.push_back(member);
  }
  const uint64_t action = random_.Range(0, 99);
  std::vector<Injection> out;
  if (action < 10) {  // Silence.
    ++totals_.withheld;
    return out;
  }
  for (uint32_t target : targets) {
    if (Controls(target) || action >= 40) {
      out.push_back({from, target, message});
    } else if (action < 30) {  // One mutation for everyone.
      if (out.empty() || Controls(out.back().to)) {
        out.push_back({from, target, Mutate(from, message)});
      } else {
        out.push_back({from, target, out.back().message});
      }
    } else {  // Equivocation: each honest peer gets its own version.
      out.push_back({from, target, Mutate(from, message)});
    }
  }
  if (action >= 10 && action < 30) ++totals_.mutated;
  if (action >= 30 && action < 40) ++totals_.equivocated;
  return out;
}

bft::BlockResponse ByzantineAdversary::UnsolicitedResponse(uint32_t from) {
  bft::BlockResponse response;
  for (uint64_t i = random_.Range(0, 3); i > 0 && !blocks_.empty(); --i) {
    response.blocks.push_back(Pick(&random_, blocks_));
  }
  for (uint64_t i = random_.Range(0, 3); i > 0; --i) response.missing.push_back(SomeHash());
  response.retained_from_height = random_.Chance(0.5) ? random_.Next() : random_.Range(0, 1000);
  response.commit_qc = latest_commit_ && random_.Chance(0.7) ? *latest_commit_ : SomeQc();
  if (latest_commit_block_ && random_.Chance(0.8)) {
    response.commit_block = *latest_commit_block_;
  } else if (!blocks_.empty()) {
    response.commit_block = Pick(&random_, blocks_);
  }
  if (response.commit_block) {
    response.commit_state = random_.Chance(0.7)
                                ? state_of_(from, response.commit_block->header.post_state_hash)
                                : std::optional<Bytes>(Bytes(random_.Range(0, 16), 0x5a));
  }
  for (uint64_t i = random_.Range(0, 3); i > 0; --i) response.block_commit_qcs.push_back(SomeQc());
  return response;
}

std::vector<Injection> ByzantineAdversary::Flood(uint32_t from, uint32_t to) {
  // Validly signed messages for views ahead (the stash) and out-of-range phases for the
  // view `to` may lead now (the vote set): more than any honest sender would send.
  std::vector<Injection> out;
  const Federation& federation = federation_.federation;
  // Future views `to` leads: a leader stashes votes for its views.
  std::vector<uint64_t> led;
  for (uint64_t view = highest_view_ + 1; view <= highest_view_ + 64; ++view) {
    if (federation.LeaderOf(view) == to) led.push_back(view);
  }
  for (uint64_t i = 0; i < 64; ++i) {
    bft::Vote vote;
    const bool sweep = led.empty() || random_.Chance(0.25);
    Hash256 hash{};
    hash[0] = static_cast<uint8_t>(i);
    const uint64_t view = sweep ? highest_view_ + random_.Range(0, 1) : Pick(&random_, led);
    vote.statement =
        VoteStatement{federation.protocol_id(), static_cast<Phase>(sweep ? 4 + i % 252 : 1 + i % 3),
                      view, hash, view - 1};
    vote.signed_by = Sign(from, kTagVote, EncodeVoteStatement(vote.statement));
    out.push_back({from, to, vote});
  }
  return out;
}

std::vector<Injection> ByzantineAdversary::Act() {
  std::vector<Injection> out;
  const std::vector<uint32_t> honest = Honest();
  for (uint32_t from : members_) {
    const uint32_t to = Pick(&random_, honest);
    switch (random_.Range(0, 5)) {
      case 0:
        if (!messages_.empty()) out.push_back({from, to, Pick(&random_, messages_)});  // Replay.
        break;
      case 1:
        out.push_back({from, to, UnsolicitedResponse(from)});
        break;
      case 2: {
        std::vector<Injection> flood = Flood(from, to);
        out.insert(out.end(), flood.begin(), flood.end());
        break;
      }
      case 3:
        if (!messages_.empty()) out.push_back({from, to, Mutate(from, Pick(&random_, messages_))});
        break;
      case 4:
        out.push_back({from, to, Mutate(from, bft::BlockRequest{})});
        break;
      default:
        out.push_back({from, to, Mutate(from, bft::SyncStatus{})});
        break;
    }
  }
  totals_.injected += out.size();
  return out;
}

}  // namespace metronome::sim
