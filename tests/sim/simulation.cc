#include "tests/sim/simulation.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <sstream>

#include "common/assert.h"
#include "common/consensus_statements.h"
#include "common/domain_tags.h"
#include "common/test_support.h"
#include "services/bft/core/effects.h"
#include "services/bft/core/replica.h"
#include "tests/sim/byzantine.h"
#include "tests/sim/random.h"
#include "tests/sim/sim_interpreter.h"

namespace metronome::sim {
namespace {

using bft::Block;
using bft::Outputs;
using bft::StreamRecord;

enum class EventType {
  kDeliver,
  kTimer,
  kAppCreate,    // The interpreter's body arrives (value: request id).
  kAppValidate,  // The interpreter's verdict arrives (value: request id).
  kAppAck,       // The interpreter acknowledges a certificate durably (value: request id).
  kAppTimer,     // An application request's deadline (value: request id).
  kAppResult,    // The application's answers reach the replica (`app_result`).
  kAppTick,      // The application's periodic tick (certificate resends).
  kCrash,
  kRestart,
  kPartition,
  kHeal,
  kCandidate,
  kLivenessCheck,
  kAdversary
};

struct Event {
  uint64_t time = 0;
  uint64_t sequence = 0;
  EventType type = EventType::kDeliver;
  uint32_t node = 0;
  uint64_t epoch = 0;
  uint32_t from = 0;
  std::shared_ptr<const bft::Message> message;
  bft::TimerKind timer = bft::TimerKind::kView;
  uint64_t view = 0;
  uint64_t value = 0;
  uint64_t appeared_ms = 0;  // Liveness checks: when the candidate appeared.
  std::shared_ptr<const Block> block;
  std::shared_ptr<const Ledger> ledger;  // kAppCreate: the parent ledger asked about.
  std::shared_ptr<const bft::ApplicationOutputs> app_result;
  Hash256 hash{};
  bool operator>(const Event& other) const {
    return time != other.time ? time > other.time : sequence > other.sequence;
  }
};

constexpr uint64_t kAppTickMs = 250;  // As the bft's actor ticks.

Event At(uint64_t time, EventType type, uint32_t node = 0, uint64_t epoch = 0) {
  Event event;
  event.time = time;
  event.type = type;
  event.node = node;
  event.epoch = epoch;
  return event;
}

struct Node {
  uint32_t member = 0;
  bool honest = true;
  std::unique_ptr<bft::Replica> replica;
  std::unique_ptr<bft::CheckpointApplication> app;  // The product's application module.
  SimInterpreter interpreter;
  uint64_t committed_candidate = 0;  // Highest checkpoint height its app committed.
  bool up = true;
  uint64_t epoch = 0;
  uint32_t group = 0;
  uint64_t last_view = 0;
  int effects_left = -1;  // >= 0: the node dies after this many more effects.
  // Its disk: synced state and log, synced blocks, blocks not yet synced.
  std::optional<bft::SafetyState> disk_safety;
  std::vector<StreamRecord> disk_log;
  std::map<Hash256, Block> disk_blocks;
  std::vector<Block> unsynced_blocks;
  std::map<Hash256, Ledger> disk_ledgers;
  std::vector<std::pair<Hash256, Ledger>> unsynced_ledgers;
  std::map<uint64_t, bft::CertificateRecord> disk_outbox;  // Synced.
  // For the durability checker: every artefact that left, by slot.
  std::map<std::tuple<uint8_t, uint64_t, uint8_t>, Bytes> sent_slots;
  std::vector<StreamRecord> stream;
};

// The adversary of SimOptions::lock_attack. It speaks for member 0 on the network, next to
// member 0's real replica, and runs one attempt at a time (see Simulation::Adversary*).
struct LockAttack {
  std::optional<bft::Proposal> last_proposal;  // Member 0's replica's latest proposal.
  bool active = false;                         // An attempt is under way.
  uint64_t view = 0;                           // v: member 0 leads v and v + 1.
  uint64_t deadline_ms = 0;                    // The attempt is abandoned after this.
  QuorumCertificate withheld_commit;           // The Commit QC for B, member 0's block of v.
  bft::Proposal sibling;                       // B', proposed in v + 1.
  Hash256 sibling_hash{};
  std::map<Phase, std::map<uint32_t, Signature>> votes;  // Victims' votes for B'.
};

class Simulation : public bft::EffectHandler {
 public:
  explicit Simulation(const SimOptions& options);
  SimResult Run();

  // bft::EffectHandler, for the node whose outputs are being executed.
  void Persist(const std::optional<bft::SafetyState>& safety,
               const std::vector<StreamRecord>& signed_log) override;
  // Carries out the application's outputs for `index` (ApplicationOutputs' order); its
  // answers reach the replica as an event, as the interpreter's do.
  void RunApplication(uint32_t index, bft::ApplicationOutputs outputs);
  void SyncDisk(Node& node);
  void StoreBlocks(const std::vector<Block>& blocks) override;
  void SendAll(const std::vector<bft::Send>& sends) override;
  void Deliver(const std::vector<bft::Commit>& commits,
               const std::optional<bft::FastForward>& fast_forward) override;
  void AskApplication(const std::optional<bft::CreateBodyRequest>& create_body,
                      const std::vector<bft::ValidateRequest>& validate) override;
  void ScheduleTimers(const std::vector<bft::TimerRequest>& timers) override;
  void Publish(const std::vector<StreamRecord>& stream,
               const std::vector<bft::Rejection>& rejections) override;

 private:
  void Schedule(Event event);
  void Process(uint32_t node, Outputs outputs);
  bool EffectAllowed();
  void StartReplica(uint32_t node);
  void Crash(uint32_t node);
  void HandleEvent(const Event& event);
  void Fail(bool* flag, const std::string& violation);
  bool Connected(uint32_t from_node, uint32_t to_node, const bft::Message& message) const;
  void CheckSlot(Node& node, const StreamRecord& record);
  void HandleApplicationEvent(const Event& event, Node* node);
  // The lock attack. Member 0's replica is about to send `message`: true when the
  // adversary keeps it off the network (always, during an attempt).
  bool AdversaryWithholds(const bft::Message& message);
  // Honest member `from`'s `message` reaches member 0 (whether its replica is up or not).
  void AdversaryObserves(uint32_t from, const bft::Message& message);
  // A message forged or withheld by the adversary leaves as member 0's, after 1 ms.
  void AdversarySend(uint32_t to, const bft::Message& message);
  void EndAttempt() { attack_ = LockAttack{}; }
  // Members 2..n-1: the ones the adversary tries to decide B' (member 1 decides B).
  static bool IsVictim(uint32_t member) { return member >= 2; }
  void ScheduleFaults();
  void ScheduleCandidates();
  // The Byzantine adversary (SimOptions::byzantine): its injections leave after a
  // network delay, never dropped, within partitions.
  void Inject(const std::vector<Injection>& injections);
  // Checks an honest node's stash share of a Byzantine sender after its message.
  void CheckStashShare(uint32_t index, uint32_t from);
  uint64_t DelayMs() { return random_.Range(options_.delay_ms_min, options_.delay_ms_max); }

  SimOptions options_;
  Random random_;
  testing::TestFederation federation_;
  std::vector<uint32_t> leader_schedule_;
  bft::VerificationCache cache_;
  std::vector<Node> nodes_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t now_ = 0;
  uint64_t sequence_ = 0;
  uint32_t current_ = 0;  // The node whose outputs run.
  const Outputs* current_outputs_ = nullptr;
  std::map<uint64_t, std::pair<Hash256, uint64_t>> decided_;  // Height -> (hash, QC view).
  std::vector<uint64_t> candidate_times_;
  SimResult result_;
  bool trace_ = getenv("METRONOME_SIM_TRACE") != nullptr;
  std::optional<uint64_t> twins_healed_ms_;
  LockAttack attack_;
  std::optional<ByzantineAdversary> adversary_;
  CertificateAudit audit_{&federation_.federation};
};

Simulation::Simulation(const SimOptions& options)
    : options_(options),
      random_(options.seed),
      federation_(testing::MakeTestFederation(options.members, "sim")),
      cache_(1 << 16) {
  METRONOME_ASSERT(options.members >= 1);
  const std::vector<uint32_t> twin_of =
      options.twins ? options.twins->twin_of : std::vector<uint32_t>{};
  for (uint32_t i = 0; i < options.members + twin_of.size(); ++i) {
    Node node;
    node.member = i < options.members ? i : twin_of[i - options.members];
    nodes_.push_back(std::move(node));
  }
  for (uint32_t index = 0; index < nodes_.size(); ++index) {
    nodes_[index].interpreter.SetNode(index);
  }
  for (Node& node : nodes_) {
    node.honest = std::find(twin_of.begin(), twin_of.end(), node.member) == twin_of.end() &&
                  !(options.lock_attack && node.member == 0) && node.member >= options.byzantine;
  }
  if (options.byzantine > 0) {
    METRONOME_ASSERT(!options.twins && !options.lock_attack);
    std::set<uint32_t> members;
    for (uint32_t member = 0; member < options.byzantine; ++member) members.insert(member);
    adversary_.emplace(&federation_, members, options.seed,
                       [this](uint32_t member, const Hash256& post_state_hash) {
                         const auto& app = nodes_[member].app;
                         return app ? app->StateAfter(post_state_hash) : std::nullopt;
                       });
  }
  if (options.lock_attack) {
    METRONOME_ASSERT(options.members >= 4 && !options.twins);
    for (uint32_t member = 0; member < options.members; ++member) {
      leader_schedule_.push_back(member);
      if (member == 0) leader_schedule_.push_back(0);
    }
  }
  if (options.twins) {
    const std::vector<uint32_t>& leaders = options.twins->leaders;
    leader_schedule_.resize(leaders.size() + 100000);
    for (size_t view = 0; view < leader_schedule_.size(); ++view) {
      leader_schedule_[view] =
          view >= 1 && view <= leaders.size() ? leaders[view - 1] : view % options.members;
    }
  }
}

void Simulation::Schedule(Event event) {
  event.sequence = sequence_++;
  events_.push(std::move(event));
}

void Simulation::Fail(bool* flag, const std::string& violation) {
  if (result_.violation.empty()) result_.violation = violation;
  *flag = false;
}

void Simulation::StartReplica(uint32_t index) {
  Node& node = nodes_[index];
  bft::ReplicaConfig config;
  config.federation = &federation_.federation;
  config.self = node.member;
  config.key = federation_.keys[node.member];
  config.genesis_post_state_hash = LedgerHash(Ledger{});
  config.timeout_ms_base = options_.timeout_ms_base;
  config.timeout_ms_max = options_.timeout_ms_max;
  config.idle_interval_ms = options_.idle_interval_ms;
  config.shared_verification_cache = options_.share_verification_cache ? &cache_ : nullptr;
  if (!leader_schedule_.empty()) config.leader_schedule = &leader_schedule_;
  config.committed_history = options_.committed_history;
  bft::RestoredState restored;
  restored.safety = node.disk_safety;
  for (const auto& [hash, block] : node.disk_blocks) restored.blocks.push_back(block);
  bft::ApplicationConfig app_config;
  app_config.genesis_post_state_hash = config.genesis_post_state_hash;
  app_config.committed_history = options_.committed_history;
  bft::RestoredApplication restored_app;
  restored_app.blocks = restored.blocks;
  for (const auto& [hash, ledger] : node.disk_ledgers) restored_app.ledgers.push_back(ledger);
  for (const auto& [height, record] : node.disk_outbox) restored_app.outbox.push_back(record);
  node.app = std::make_unique<bft::CheckpointApplication>(app_config, std::move(restored_app));
  config.state_transfer = node.app.get();
  node.replica = std::make_unique<bft::Replica>(config);
  node.up = true;
  current_ = index;
  RunApplication(index, node.app->OnAttached(true, now_));
  Schedule(At(now_ + kAppTickMs, EventType::kAppTick, index, node.epoch));
  Process(index, node.replica->Start(restored));
}

void Simulation::Crash(uint32_t index) {
  Node& node = nodes_[index];
  if (!node.up) return;
  node.up = false;
  node.effects_left = -1;
  ++node.epoch;
  node.unsynced_blocks.clear();  // Unsynced writes are lost.
  node.unsynced_ledgers.clear();
  node.replica.reset();
  node.app.reset();
  ++result_.totals.crashes;
}

void Simulation::Process(uint32_t index, Outputs outputs) {
  Node& node = nodes_[index];
  current_ = index;
  current_outputs_ = &outputs;
  result_.totals.signatures += outputs.signed_log.size();
  bft::ExecuteInOrder(outputs, this);
  current_outputs_ = nullptr;
  if (node.effects_left == 0) {
    Crash(index);
    Schedule(
        At(std::min(options_.heal_ms, now_ + random_.Range(100, options_.crash_downtime_ms_max)),
           EventType::kRestart, index));
    return;
  }
  if (node.honest && node.replica->view() > node.last_view) {
    result_.totals.view_changes += node.replica->view() - node.last_view;
    node.last_view = node.replica->view();
    if (options_.twins && !twins_healed_ms_) {
      const uint64_t scenario_views = options_.twins->partitions.size();
      bool healed = true;
      for (const Node& each : nodes_) healed &= !each.honest || each.last_view > scenario_views;
      if (healed) twins_healed_ms_ = now_;
    }
  }
}

bool Simulation::EffectAllowed() {
  Node& node = nodes_[current_];
  if (node.effects_left == 0) return false;
  if (node.effects_left > 0) --node.effects_left;
  return true;
}

void Simulation::Persist(const std::optional<bft::SafetyState>& safety,
                         const std::vector<StreamRecord>& signed_log) {
  if (!EffectAllowed()) return;
  Node& node = nodes_[current_];
  if (safety) node.disk_safety = *safety;
  node.disk_log.insert(node.disk_log.end(), signed_log.begin(), signed_log.end());
  SyncDisk(node);
}

void Simulation::SyncDisk(Node& node) {
  // A synced write makes every earlier write durable too (one log, as in RocksDB).
  for (const Block& block : node.unsynced_blocks) node.disk_blocks[block.hash()] = block;
  node.unsynced_blocks.clear();
  for (auto& [hash, ledger] : node.unsynced_ledgers) node.disk_ledgers[hash] = std::move(ledger);
  node.unsynced_ledgers.clear();
}

void Simulation::StoreBlocks(const std::vector<Block>& blocks) {
  if (!EffectAllowed()) return;
  Node& node = nodes_[current_];
  node.app->OnStored(blocks);
  for (const Block& block : blocks) {
    if (options_.faults) {
      node.unsynced_blocks.push_back(block);
    } else {
      node.disk_blocks[block.hash()] = block;
    }
  }
}

void Simulation::CheckSlot(Node& node, const StreamRecord& record) {
  // The own-signature log must already hold everything that leaves.
  bool logged = false;
  for (auto it = node.disk_log.rbegin(); it != node.disk_log.rend() && !logged; ++it) {
    logged = it->payload == record.payload && it->signature == record.signature;
  }
  if (!logged) {
    Fail(&result_.durable, "node " + std::to_string(current_) + " sent an artefact of view " +
                               std::to_string(record.view) + " before it was durably logged");
  }
  Reader reader(record.payload);
  uint8_t phase = 0;
  if (record.payload.size() > 7 && record.payload[0] == static_cast<uint8_t>(ArtefactKind::kVote)) {
    phase = static_cast<uint8_t>(DecodeVoteStatement(&reader).phase);
  }
  const auto slot = std::make_tuple(record.payload[0], record.view, phase);
  auto [it, inserted] = node.sent_slots.emplace(slot, record.payload);
  if (!inserted && it->second != record.payload) {
    Fail(&result_.durable, "node " + std::to_string(current_) + " signed two different artefacts" +
                               " of kind " + std::to_string(record.payload[0]) + " for view " +
                               std::to_string(record.view));
  }
}

bool Simulation::Connected(uint32_t from_node, uint32_t to_node,
                           const bft::Message& message) const {
  if (options_.twins) {
    const std::optional<uint64_t> message_view = bft::MessageView(message);
    const uint64_t view = message_view ? *message_view : nodes_[from_node].replica->view();
    const auto& partitions = options_.twins->partitions;
    if (view == 0 || view > partitions.size() || now_ >= options_.heal_ms) return true;
    return partitions[view - 1][from_node] == partitions[view - 1][to_node];
  }
  return nodes_[from_node].group == nodes_[to_node].group;
}

void Simulation::SendAll(const std::vector<bft::Send>& sends) {
  if (!EffectAllowed()) return;
  Node& sender = nodes_[current_];
  for (const StreamRecord& record : current_outputs_->signed_log) CheckSlot(sender, record);
  if (adversary_ && adversary_->Controls(sender.member)) {
    if (now_ >= options_.heal_ms) return;  // Its budget is spent: silent from now on.
    for (const bft::Send& send : sends) {
      Inject(adversary_->Transform(sender.member, send.to, send.message));
    }
    return;
  }
  for (const bft::Send& send : sends) {
    if (options_.lock_attack && sender.member == 0 && AdversaryWithholds(send.message)) continue;
    auto message = std::make_shared<const bft::Message>(send.message);
    for (uint32_t to = 0; to < nodes_.size(); ++to) {
      const uint32_t member = nodes_[to].member;
      if (member == sender.member || (send.to != bft::kBroadcast && send.to != member)) continue;
      if (!Connected(current_, to, *message)) continue;
      const bool faulty = options_.faults && now_ < options_.heal_ms;
      if (faulty && random_.Chance(options_.drop_probability)) continue;
      ++result_.totals.messages;
      const int copies = faulty && random_.Chance(options_.duplicate_probability) ? 2 : 1;
      for (int copy = 0; copy < copies; ++copy) {
        Event event = At(now_ + DelayMs(), EventType::kDeliver, to);
        event.from = sender.member;
        event.message = message;
        Schedule(std::move(event));
      }
    }
  }
}

// The lock attack, step by step (n = 4: member 0 Byzantine, 1 decides B, 2 and 3 are the
// victims; with n = 7, 2..6 are). With a correct core it fails at step 3 and the run must
// stay safe, live and durable; with a core that ignores its lock, 2..n-1 decide B' while
// member 1 decides B.
//  1. View v (member 0 leads v and v + 1): member 0's replica proposes B normally and its
//     Prepare and PreCommit QCs reach everyone, so 1..n-1 lock on B. When the Commit QC
//     for B forms, the adversary withholds it, and from then on everything member 0's
//     replica sends: no honest member learns that B was decided.
//  2. It proposes B' for view v + 1 to the victims at once: a sibling of B (parent P = B's
//     parent, justify = the Prepare QC over P that justified B, height = B's), with a body
//     from member 0's application, signed with member 0's key. The victims stash it. No
//     Commit QC comes, so members 1..n-1 time out in v, form a timeout certificate without
//     member 0 and enter v + 1, where the victims take B' from the stash (it is sent again to
//     a victim whose NewView(v + 1) arrives, in case a restart lost the stash).
//  3. A correct victim refuses B': it neither extends the lock on B nor has a newer justify
//     QC. A victim ignoring its lock votes Prepare for it, to member 0.
//  4. With q - 1 victims' votes of a phase and its own, the adversary forms that phase's
//     QC for B' and hands it to the victims, which vote the next phase: Prepare, PreCommit,
//     Commit. The Commit QC makes the victims decide B' at B's height.
//  5. The adversary hands member 1 the withheld Commit QC for B: member 1 decides B, and
//     the safety checker sees two blocks decided at one height.
// The attempt is abandoned when a victim times out in v + 1 or an honest member is seen
// beyond v + 1 (the victims refused B'), or after a deadline; member 0's replica then
// speaks again, and the next pair of views member 0 leads brings the next attempt.
bool Simulation::AdversaryWithholds(const bft::Message& message) {
  if (attack_.active && now_ > attack_.deadline_ms) EndAttempt();
  if (attack_.active) return true;
  if (const auto* proposal = std::get_if<bft::Proposal>(&message)) {
    attack_.last_proposal = *proposal;
    return false;
  }
  // Step 1: the Commit QC for B, member 0's own block of a view v; member 0 leads v + 1 too.
  const auto* quorum = std::get_if<bft::QuorumMessage>(&message);
  if (quorum == nullptr || quorum->qc.phase != Phase::kCommit || !attack_.last_proposal) {
    return false;
  }
  const bft::Proposal& own = *attack_.last_proposal;
  const uint64_t view = quorum->qc.view;
  if (own.statement.view != view || quorum->qc.block_hash != HeaderHash(own.statement.header) ||
      leader_schedule_[(view + 1) % leader_schedule_.size()] != 0) {
    return false;
  }
  // Step 2: B', the sibling of B, for view v + 1.
  const QuorumCertificate& stale = own.justify_qc;  // Over P, B's parent.
  if (!nodes_[0].app) return false;
  const std::optional<Ledger> parent = nodes_[0].app->LedgerAfter(stale.block_hash);
  if (!parent) return false;
  bft::Proposal sibling;
  sibling.body = nodes_[0].interpreter.CreateBody(*parent);
  std::string reason;
  const std::optional<Ledger> after = ApplyBody(*parent, sibling.body, &reason);
  if (!after) return false;
  sibling.justify_qc = stale;
  sibling.statement.protocol_id = own.statement.protocol_id;
  sibling.statement.view = view + 1;
  sibling.statement.justify_view = stale.view;
  Header& header = sibling.statement.header;
  header.parent_hash = stale.block_hash;
  header.height = own.statement.header.height;
  header.view = view + 1;
  header.post_state_hash = LedgerHash(*after);
  header.content_root = ContentRoot(sibling.body);
  sibling.signed_by = {0, SignTagged(federation_.keys[0], kTagProposal, federation_.federation.id(),
                                     EncodeProposalStatement(sibling.statement))};
  attack_.active = true;
  attack_.view = view;
  attack_.deadline_ms = now_ + 4 * (options_.idle_interval_ms + options_.timeout_ms_max);
  attack_.withheld_commit = quorum->qc;
  attack_.sibling = sibling;
  attack_.sibling_hash = HeaderHash(header);
  ++result_.totals.lock_attacks;
  for (uint32_t member = 0; member < options_.members; ++member) {
    if (IsVictim(member)) AdversarySend(member, attack_.sibling);
  }
  return true;
}

void Simulation::AdversaryObserves(uint32_t from, const bft::Message& message) {
  if (!attack_.active) return;
  const uint64_t next = attack_.view + 1;
  const std::optional<uint64_t> view = bft::MessageView(message);
  const auto* timeout = std::get_if<bft::Timeout>(&message);
  if (now_ > attack_.deadline_ms || (view && *view > next) ||
      (timeout != nullptr && IsVictim(from) && timeout->statement.view >= next)) {
    EndAttempt();  // The victims gave up on v + 1: they refused B' (or lost a message).
    return;
  }
  if (const auto* new_view = std::get_if<bft::NewView>(&message)) {
    if (IsVictim(from) && new_view->statement.view == next) AdversarySend(from, attack_.sibling);
    return;
  }
  // Step 4: the victims' votes for B', phase by phase.
  const auto* vote = std::get_if<bft::Vote>(&message);
  if (vote == nullptr || !IsVictim(from) || vote->signed_by.signer != from ||
      vote->statement.view != next || vote->statement.block_hash != attack_.sibling_hash) {
    return;
  }
  auto& signatures = attack_.votes[vote->statement.phase];
  if (!signatures.emplace(from, vote->signed_by.signature).second ||
      signatures.size() + 1 != federation_.federation.q()) {
    return;
  }
  std::vector<std::pair<uint32_t, Signature>> collected(signatures.begin(), signatures.end());
  collected.emplace_back(0, SignTagged(federation_.keys[0], kTagVote, federation_.federation.id(),
                                       EncodeVoteStatement(vote->statement)));
  const bft::QuorumMessage quorum{
      AssembleQuorumCertificate(federation_.federation, vote->statement, collected)};
  for (uint32_t member = 0; member < options_.members; ++member) {
    if (IsVictim(member)) AdversarySend(member, quorum);
  }
  if (vote->statement.phase == Phase::kCommit) {
    // Step 5: the victims decide B'; member 1 now learns that B was decided.
    AdversarySend(1, bft::QuorumMessage{attack_.withheld_commit});
    EndAttempt();
  }
}

void Simulation::AdversarySend(uint32_t to, const bft::Message& message) {
  // Only member 0's own messages are the adversary's to time: 1 ms, never dropped (it
  // may resend), but it cannot reach across a partition.
  if (!Connected(0, to, message)) return;
  ++result_.totals.messages;
  Event event = At(now_ + 1, EventType::kDeliver, to);
  event.from = 0;
  event.message = std::make_shared<const bft::Message>(message);
  Schedule(std::move(event));
}

void Simulation::Inject(const std::vector<Injection>& injections) {
  for (const Injection& injection : injections) {
    if (!Connected(injection.from, injection.to, injection.message)) continue;
    ++result_.totals.messages;
    Event event = At(now_ + DelayMs(), EventType::kDeliver, injection.to);
    event.from = injection.from;
    event.message = std::make_shared<const bft::Message>(injection.message);
    Schedule(std::move(event));
  }
}

void Simulation::CheckStashShare(uint32_t index, uint32_t from) {
  const Node& node = nodes_[index];
  if (!node.replica) return;
  const auto [messages, bytes] = node.replica->StashUsageOf(from);
  const bft::ReplicaConfig defaults;
  const size_t share = std::max<size_t>(1, defaults.stash_max / options_.members);
  if (messages > share || bytes > defaults.stash_bytes_per_sender_max) {
    Fail(&result_.bounded, "node " + std::to_string(index) + " holds " + std::to_string(messages) +
                               " stashed messages (" + std::to_string(bytes) +
                               " bytes) of member " + std::to_string(from) + ", above its share");
  }
}

void Simulation::Deliver(const std::vector<bft::Commit>& commits,
                         const std::optional<bft::FastForward>& fast_forward) {
  if (!EffectAllowed()) return;
  Node& node = nodes_[current_];
  if (fast_forward && node.honest) ++result_.totals.fast_forwards;
  if (!commits.empty() || fast_forward) {
    RunApplication(current_, node.app->OnDeliver(commits, fast_forward));
  }
  node.committed_candidate =
      std::max(node.committed_candidate, CheckpointHeight(node.app->committed_ledger()));
  for (const bft::Commit& commit : commits) {
    if (!node.honest) continue;
    result_.totals.commits += commit.blocks.size();
    for (const Block& block : commit.blocks) {
      const uint64_t height = block.header.height;
      result_.totals.decisions = std::max(result_.totals.decisions, height);
      auto [it, inserted] =
          decided_.emplace(height, std::make_pair(block.hash(), commit.commit_qc.view));
      if (!inserted && it->second.first != block.hash()) {
        if (!result_.conflict_views) {
          result_.conflict_views = std::make_pair(it->second.second, commit.commit_qc.view);
        }
        Fail(&result_.safe, "conflicting blocks committed at height " + std::to_string(height) +
                                " (node " + std::to_string(current_) + ", commit QC views " +
                                std::to_string(it->second.second) + " and " +
                                std::to_string(commit.commit_qc.view) + ")");
      }
    }
  }
}

void Simulation::AskApplication(const std::optional<bft::CreateBodyRequest>& create_body,
                                const std::vector<bft::ValidateRequest>& validate) {
  if (!EffectAllowed()) return;
  Node& node = nodes_[current_];
  if (create_body) RunApplication(current_, node.app->OnCreateBody(*create_body));
  for (const bft::ValidateRequest& request : validate) {
    RunApplication(current_, node.app->OnValidate(request));
  }
}

void Simulation::RunApplication(uint32_t index, bft::ApplicationOutputs outputs) {
  Node& node = nodes_[index];
  const uint64_t epoch = node.epoch;
  for (auto& [hash, encoded] : outputs.ledgers) {
    Reader reader(encoded);
    Ledger ledger = DecodeLedger(&reader);
    if (options_.faults) {
      node.unsynced_ledgers.emplace_back(hash, std::move(ledger));
    } else {
      node.disk_ledgers[hash] = std::move(ledger);
    }
  }
  for (const bft::CertificateRecord& record : outputs.certificates) {
    if (node.honest) {
      const std::string problem = audit_.Check(index, record);
      if (!problem.empty()) Fail(&result_.safe, problem);
    }
    node.disk_outbox[record.identity.pow_height] = record;
    SyncDisk(node);
  }
  for (const bft::CertificateRecord& record : outputs.retired) {
    node.disk_outbox.erase(record.identity.pow_height);
  }
  for (const bft::InterpreterAsk& ask : outputs.asks) {
    Event event = At(now_ + random_.Range(1, 5), EventType::kAppCreate, index, epoch);
    if (const auto* create = std::get_if<bft::CreateBodyAsk>(&ask)) {
      event.value = create->request_id;
      event.ledger = std::make_shared<const Ledger>(create->parent_ledger);
    } else if (const auto* check = std::get_if<bft::ValidateBodyAsk>(&ask)) {
      event.type = EventType::kAppValidate;
      event.value = check->request_id;
      event.block = std::make_shared<const Block>(check->block);
    } else if (const auto* offer = std::get_if<bft::CertificateOffer>(&ask)) {
      event.type = EventType::kAppAck;
      event.value = offer->request_id;
    } else {
      continue;  // Status reports: nothing to answer.
    }
    Schedule(std::move(event));
  }
  for (const bft::RequestTimer& timer : outputs.timers) {
    Event event = At(now_ + timer.delay_ms, EventType::kAppTimer, index, epoch);
    event.value = timer.request_id;
    Schedule(std::move(event));
  }
  if (!outputs.bodies.empty() || !outputs.verdicts.empty()) {
    Event event = At(now_, EventType::kAppResult, index, epoch);
    event.app_result = std::make_shared<const bft::ApplicationOutputs>(std::move(outputs));
    Schedule(std::move(event));
  }
}

void Simulation::ScheduleTimers(const std::vector<bft::TimerRequest>& timers) {
  if (!EffectAllowed()) return;
  for (const bft::TimerRequest& timer : timers) {
    Event event = At(now_ + timer.delay_ms, EventType::kTimer, current_, nodes_[current_].epoch);
    event.timer = timer.kind;
    event.view = timer.view;
    Schedule(std::move(event));
  }
}

void Simulation::Publish(const std::vector<StreamRecord>& stream,
                         const std::vector<bft::Rejection>& rejections) {
  if (!EffectAllowed()) return;
  Node& node = nodes_[current_];
  for (const bft::Rejection& rejection : rejections) {
    if (trace_) {
      fprintf(stderr, "t=%lu node=%u rejected %s from %u: %s\n", now_, current_,
              rejection.message.c_str(), rejection.from, rejection.reason.c_str());
    }
    if (node.honest &&
        rejection.reason == "neither extends the locked block nor has a newer justify QC") {
      ++result_.totals.lock_refusals;
    }
    // A valid Commit QC for a block conflicting with a decided one: two decisions exist.
    if (node.honest && rejection.reason == "commit QC conflicts with a decided block") {
      Fail(&result_.safe, "node " + std::to_string(current_) +
                              " saw a commit QC conflicting with its decided block");
    }
  }
  if (options_.record_streams && node.honest) {
    node.stream.insert(node.stream.end(), stream.begin(), stream.end());
  }
}

void Simulation::ScheduleFaults() {
  if (!options_.faults) return;
  const double heal_seconds = options_.heal_ms / 1000.0;
  for (uint32_t node = 0; node < nodes_.size(); ++node) {
    const uint64_t crash_count =
        static_cast<uint64_t>(options_.crashes_per_second * heal_seconds + 0.5);
    for (uint64_t i = 0; i < crash_count; ++i) {
      Schedule(At(random_.Range(0, options_.heal_ms), EventType::kCrash, node));
    }
  }
  const uint64_t partition_count =
      static_cast<uint64_t>(options_.partitions_per_second * heal_seconds + 0.5);
  for (uint64_t i = 0; i < partition_count; ++i) {
    Schedule(At(random_.Range(0, options_.heal_ms), EventType::kPartition));
  }
  Schedule(At(options_.heal_ms, EventType::kHeal));
}

void Simulation::ScheduleCandidates() {
  const uint64_t bound = 10 * options_.timeout_ms_max;
  uint64_t time = 0;
  for (uint64_t height = 1;; ++height) {
    time += 1 + random_.Exponential(static_cast<double>(options_.candidate_interval_ms_mean));
    if (time >= options_.duration_ms) break;
    Event event = At(time, EventType::kCandidate);
    event.value = height;
    Schedule(event);
    const uint64_t last_heal = options_.heal_ms;
    if (time >= last_heal && time + bound <= options_.duration_ms) {
      Event check = At(time + bound, EventType::kLivenessCheck);
      check.value = height;
      check.appeared_ms = time;
      Schedule(check);
    }
  }
}

// The application's events for a node that is up in the event's epoch.
void Simulation::HandleApplicationEvent(const Event& event, Node* node) {
  switch (event.type) {
    case EventType::kAppCreate: {
      bft::BodyAnswer answer;
      answer.request_id = event.value;
      answer.body = node->interpreter.CreateBody(*event.ledger);
      RunApplication(event.node, node->app->OnBodyAnswer(answer));
      break;
    }
    case EventType::kAppValidate: {
      const bool accept = node->interpreter.Validate(event.block->body);
      RunApplication(event.node, node->app->OnVerdictAnswer({event.value, accept, ""}));
      break;
    }
    case EventType::kAppAck: {
      // Now and then the interpreter is not done yet: the outbox offers it again.
      const auto outcome = random_.Chance(0.2) ? bft::CertificateAnswer::Outcome::kProgress
                                               : bft::CertificateAnswer::Outcome::kDurable;
      RunApplication(event.node, node->app->OnCertificateAnswer({event.value, outcome}));
      break;
    }
    case EventType::kAppTick:
      RunApplication(event.node, node->app->OnTick(now_));
      Schedule(At(now_ + kAppTickMs, EventType::kAppTick, event.node, event.epoch));
      break;
    case EventType::kAppTimer:
      RunApplication(event.node, node->app->OnRequestTimeout(event.value));
      break;
    case EventType::kAppResult:
      for (const bft::BodyReady& body : event.app_result->bodies) {
        if (!node->up) break;  // Died executing an earlier answer.
        Process(event.node,
                node->replica->OnBodyCreated(body.view, body.body, body.post_state_hash));
      }
      for (const bft::BlockVerdict& verdict : event.app_result->verdicts) {
        if (!node->up) break;  // Died executing an earlier answer.
        Process(event.node, node->replica->OnBlockValidated(verdict.block_hash, verdict.valid));
      }
      break;
    default:
      break;
  }
}

void Simulation::HandleEvent(const Event& event) {
  Node* node = event.type == EventType::kPartition || event.type == EventType::kHeal ||
                       event.type == EventType::kCandidate ||
                       event.type == EventType::kLivenessCheck ||
                       event.type == EventType::kAdversary
                   ? nullptr
                   : &nodes_[event.node];
  const bool live_target = node != nullptr && node->up &&
                           (event.type == EventType::kDeliver || node->epoch == event.epoch);
  switch (event.type) {
    case EventType::kDeliver:
      if (options_.lock_attack && event.node == 0) AdversaryObserves(event.from, *event.message);
      if (adversary_ && adversary_->Controls(node->member)) adversary_->Observe(*event.message);
      if (live_target) Process(event.node, node->replica->OnMessage(event.from, *event.message));
      if (live_target && adversary_ && adversary_->Controls(event.from) && node->honest) {
        CheckStashShare(event.node, event.from);
      }
      break;
    case EventType::kAdversary:
      Inject(adversary_->Act());
      if (now_ + options_.adversary_interval_ms < options_.heal_ms) {
        Schedule(At(now_ + options_.adversary_interval_ms, EventType::kAdversary));
      }
      break;
    case EventType::kTimer:
      if (live_target) Process(event.node, node->replica->OnTimer(event.timer, event.view));
      break;
    case EventType::kAppCreate:
    case EventType::kAppValidate:
    case EventType::kAppAck:
    case EventType::kAppTick:
    case EventType::kAppTimer:
    case EventType::kAppResult:
      if (live_target) HandleApplicationEvent(event, node);
      break;
    case EventType::kCrash:
      if (node->up && node->effects_left < 0) {
        if (random_.Chance(0.5)) {
          node->effects_left = static_cast<int>(random_.Range(1, 2));  // Dies mid-output.
        } else {
          Crash(event.node);
          Schedule(At(
              std::min(options_.heal_ms, now_ + random_.Range(100, options_.crash_downtime_ms_max)),
              EventType::kRestart, event.node));
        }
      }
      break;
    case EventType::kRestart:
      if (!node->up) StartReplica(event.node);
      break;
    case EventType::kPartition:
      ++result_.totals.partitions;
      for (Node& each : nodes_) each.group = static_cast<uint32_t>(random_.Range(0, 1));
      Schedule(At(std::min(options_.heal_ms, now_ + random_.Range(200, options_.partition_ms_max)),
                  EventType::kHeal));
      break;
    case EventType::kHeal:
      for (Node& each : nodes_) each.group = 0;
      break;
    case EventType::kCandidate:
      for (uint32_t index = 0; index < nodes_.size(); ++index) {
        nodes_[index].interpreter.SetVisibleHeight(event.value);
        if (!nodes_[index].up) continue;
        current_ = index;
        RunApplication(index, nodes_[index].app->OnCandidatePending());
        Process(index, nodes_[index].replica->OnCandidatePending());
      }
      break;
    case EventType::kLivenessCheck:
      // Twins: only the healed suffix, once the network healed (every honest node left
      // the scenario's views, or the scenario's time ran out).
      if (options_.twins &&
          event.appeared_ms < std::min(options_.heal_ms, twins_healed_ms_.value_or(UINT64_MAX))) {
        break;
      }
      for (uint32_t index = 0; index < nodes_.size(); ++index) {
        const Node& each = nodes_[index];
        if (each.honest && each.committed_candidate < event.value) {
          Fail(&result_.live, "node " + std::to_string(index) + " had not committed candidate " +
                                  std::to_string(event.value) + " " +
                                  std::to_string(10 * options_.timeout_ms_max) +
                                  " ms after it appeared (committed up to " +
                                  std::to_string(each.committed_candidate) + ")");
        }
      }
      break;
  }
}

SimResult Simulation::Run() {
  for (uint32_t index = 0; index < nodes_.size(); ++index) StartReplica(index);
  ScheduleFaults();
  ScheduleCandidates();
  if (adversary_) Schedule(At(options_.adversary_interval_ms, EventType::kAdversary));
  while (!events_.empty() && events_.top().time <= options_.duration_ms &&
         (options_.stop_after_decisions == 0 ||
          result_.totals.decisions < options_.stop_after_decisions)) {
    const Event event = events_.top();
    events_.pop();
    now_ = event.time;
    HandleEvent(event);
    if (trace_) {
      const Node& node = nodes_[event.node];
      fprintf(stderr, "t=%lu ev=%d node=%u %s view=%lu committed=%lu\n", now_,
              static_cast<int>(event.type), event.node,
              event.message ? bft::MessageName(*event.message) : "-",
              node.replica ? node.replica->view() : 0,
              node.replica ? node.replica->committed_height() : 0);
    }
    if (!result_.ok() && !options_.twins) break;  // The first violation is the story.
  }
  result_.totals.verifications = cache_.verifications();
  result_.totals.certificates = audit_.checked();
  result_.totals.certificate_headers_max = audit_.headers_max_seen();
  if (adversary_) {
    const AdversaryTotals& totals = adversary_->totals();
    result_.totals.adversary_messages = totals.mutated + totals.equivocated + totals.injected;
  }
  for (const Node& node : nodes_) {
    if (!options_.share_verification_cache && node.replica) {
      result_.totals.verifications += node.replica->verifications();
    }
  }

  if (getenv("METRONOME_SIM_DEBUG") != nullptr) {
    for (const Node& node : nodes_) {
      fprintf(stderr, "node member=%u up=%d view=%lu committed=%lu candidate=%lu now=%lu\n",
              node.member, node.up, node.replica ? node.replica->view() : 0,
              node.replica ? node.replica->committed_height() : 0, node.committed_candidate, now_);
    }
  }
  if (options_.record_streams) {
    for (Node& node : nodes_) {
      if (node.honest) result_.streams.push_back(std::move(node.stream));
    }
  }
  return result_;
}

}  // namespace

SimResult RunSimulation(const SimOptions& options) { return Simulation(options).Run(); }

std::string ReplayCommand(const SimOptions& options) {
  std::ostringstream command;
  command << "bazel run //tests/sim:sim_runner -- --seed=" << options.seed
          << " --members=" << options.members << " --faults=" << (options.faults ? 1 : 0)
          << " --duration_ms=" << options.duration_ms << " --heal_ms=" << options.heal_ms
          << " --lock_attack=" << (options.lock_attack ? 1 : 0)
          << " --byzantine=" << options.byzantine
          << " --committed_history=" << options.committed_history
          << " --crash_downtime_ms_max=" << options.crash_downtime_ms_max;
  return command.str();
}

}  // namespace metronome::sim
