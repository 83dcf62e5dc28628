#include "services/pow_adapter/shell/devchain_node.h"

#include <chrono>
#include <filesystem>
#include <unordered_set>

#include "absl/status/status.h"
#include "common/assert.h"
#include "common/checkpoint_certificate.h"
#include "common/file_util.h"
#include "common/log.h"
#include "services/pow_adapter/core/mining.h"

namespace metronome::devchain {
namespace {

using Clock = std::chrono::steady_clock;

Bytes BytesOfString(const std::string& text) { return Bytes(text.begin(), text.end()); }
std::string StringOfBytes(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }

v1::CertificateOutcome ToProto(CertificateOutcome outcome) {
  switch (outcome) {
    case CertificateOutcome::kApplied:
      return v1::CERTIFICATE_OUTCOME_APPLIED;
    case CertificateOutcome::kDuplicate:
      return v1::CERTIFICATE_OUTCOME_DUPLICATE;
    case CertificateOutcome::kIgnoredOlder:
    case CertificateOutcome::kIgnoredFrozen:
      return v1::CERTIFICATE_OUTCOME_IGNORED;
    case CertificateOutcome::kInvalid:
      return v1::CERTIFICATE_OUTCOME_INVALID;
    case CertificateOutcome::kConflict:
      return v1::CERTIFICATE_OUTCOME_CONFLICT;
    case CertificateOutcome::kUnknownBlock:
      return v1::CERTIFICATE_OUTCOME_PENDING;  // Not durable: delivered again later.
  }
  return v1::CERTIFICATE_OUTCOME_UNSPECIFIED;
}

// True when `identity` is the one `encoded` names, or `encoded` does not decode (the
// verifier then rejects it with its own reason).
bool IdentityMatches(const Bytes& encoded, const v1::CheckpointIdentity& identity) {
  Reader reader(encoded);
  const CheckpointCertificate decoded = DecodeCheckpointCertificate(&reader);
  if (!reader.ok() || !decoded.candidate.is_candidate()) return true;
  const CheckpointIdentity actual = IdentityOf(decoded);
  return actual.chain_id == identity.chain_id() && actual.pow_height == identity.pow_height() &&
         actual.pow_block_hash == BytesOfString(identity.pow_block_hash());
}

grpc::Status TooLarge(size_t size, size_t max) {
  return grpc::Status(
      grpc::StatusCode::RESOURCE_EXHAUSTED,
      "request is " + std::to_string(size) + " bytes, limit " + std::to_string(max));
}

}  // namespace

// ---- gRPC services ---------------------------------------------------------------------

class DevchainNode::P2pService final : public v1::Devchain::Service {
 public:
  explicit P2pService(DevchainNode* node) : node_(node) {}

  grpc::Status SubmitBlock(grpc::ServerContext*, const v1::DevchainSubmitBlockRequest* request,
                           v1::DevchainSubmitBlockResponse* response) override {
    if (request->ByteSizeLong() > node_->options_.max_message_bytes) {
      return TooLarge(request->ByteSizeLong(), node_->options_.max_message_bytes);
    }
    const BlockOutcome outcome = node_->HandleBlock(BytesOfString(request->block()));
    response->set_verdict(BlockVerdictName(outcome.verdict));
    response->set_reason(outcome.reason);
    return grpc::Status::OK;
  }

  grpc::Status GetHeaders(grpc::ServerContext*, const v1::DevchainGetHeadersRequest* request,
                          v1::DevchainGetHeadersResponse* response) override {
    if (request->locator_size() > static_cast<int>(kLocatorMax)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "at most " + std::to_string(kLocatorMax) + " locator hashes");
    }
    std::vector<Hash256> locator;
    for (const std::string& hash : request->locator()) {
      if (hash.size() != 32) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "locator hash not 32 bytes");
      }
      Hash256 parsed;
      std::copy(hash.begin(), hash.end(), parsed.begin());
      locator.push_back(parsed);
    }
    const size_t count = std::min<uint32_t>(
        request->count_max() == 0 ? kHeadersPerSync : request->count_max(), kHeadersPerRequestMax);
    std::lock_guard<std::mutex> lock(node_->chain_mutex_);
    for (const BlockEntry* entry : node_->chain_.BestChainAfter(locator, count)) {
      response->add_headers(StringOfBytes(devchain::EncodeHeader(entry->block.header)));
    }
    response->set_tip_height(node_->chain_.tip().height);
    return grpc::Status::OK;
  }

  grpc::Status GetBlocks(grpc::ServerContext*, const v1::DevchainGetBlocksRequest* request,
                         v1::DevchainGetBlocksResponse* response) override {
    if (request->hashes_size() > static_cast<int>(kBlocksPerRequestMax)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "at most " + std::to_string(kBlocksPerRequestMax) + " hashes");
    }
    size_t total = 0;
    std::lock_guard<std::mutex> lock(node_->chain_mutex_);
    for (const std::string& hash : request->hashes()) {
      if (hash.size() != 32) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "block hash not 32 bytes");
      }
      Hash256 parsed;
      std::copy(hash.begin(), hash.end(), parsed.begin());
      const BlockEntry* entry = node_->chain_.Find(parsed);
      if (entry == nullptr) continue;
      Bytes encoded = EncodeBlock(entry->block);
      total += encoded.size() + 8;
      if (total > node_->options_.max_message_bytes) break;
      response->add_blocks(StringOfBytes(encoded));
    }
    return grpc::Status::OK;
  }

 private:
  DevchainNode* node_;
};

class DevchainNode::AdminService final : public v1::DevchainAdmin::Service {
 public:
  explicit AdminService(DevchainNode* node) : node_(node) {}

  grpc::Status Status(grpc::ServerContext*, const v1::DevchainStatusRequest*,
                      v1::DevchainStatusResponse* response) override {
    *response = node_->Status();
    return grpc::Status::OK;
  }

  grpc::Status ApplyCertificate(grpc::ServerContext*,
                                const v1::DevchainApplyCertificateRequest* request,
                                v1::DevchainApplyCertificateResponse* response) override {
    if (request->ByteSizeLong() > node_->options_.max_message_bytes) {
      return TooLarge(request->ByteSizeLong(), node_->options_.max_message_bytes);
    }
    *response = node_->ApplyCertificate(request->certificate());
    return grpc::Status::OK;
  }

  grpc::Status ClearFreeze(grpc::ServerContext*, const v1::DevchainClearFreezeRequest* request,
                           v1::DevchainClearFreezeResponse*) override {
    absl::Status status = node_->ClearFreeze(BytesOfString(request->evidence()));
    if (!status.ok()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, std::string(status.message()));
    }
    return grpc::Status::OK;
  }

 private:
  DevchainNode* node_;
};

struct DevchainNode::Peer {
  std::string address;
  std::unique_ptr<v1::Devchain::Stub> stub;
  // Guarded by work_mutex_.
  std::deque<Bytes> pushes;
  bool sync_requested = true;
  std::thread thread;
};

// ---- Construction and restore ----------------------------------------------------------

DevchainNode::DevchainNode(NodeOptions options, prometheus::Registry* registry)
    : options_(std::move(options)),
      p2p_(std::make_unique<P2pService>(this)),
      admin_(std::make_unique<AdminService>(this)),
      chain_(options_.params) {
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry).Add({});
  };
  auto counter = [&](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
  };
  height_ = gauge("metronome_pow_adapter_height", "Height of the best devchain tip.");
  tip_ = &prometheus::BuildGauge()
              .Name("metronome_pow_adapter_tip_info")
              .Help("The best tip: 1 for the series labelled with its hash and height.")
              .Register(*registry);
  block_count_ = gauge("metronome_pow_adapter_blocks", "Blocks in the devchain tree.");
  reorgs_ = counter("metronome_pow_adapter_reorgs_total", "Reorganisations of the best chain.");
  reorg_depth_ =
      &prometheus::BuildHistogram()
           .Name("metronome_pow_adapter_reorg_depth_blocks")
           .Help("Blocks taken off the best chain per reorganisation.")
           .Register(*registry)
           .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 3, 5, 8, 13, 21, 34, 55, 100});
  reorgs_refused_ = counter("metronome_pow_adapter_reorgs_refused_total",
                            "Blocks whose chain had more work but lacked the checkpoint.");
  checkpoint_height_ =
      gauge("metronome_pow_adapter_checkpoint_height", "Height of the latest checkpoint.");
  certificates_applied_ = counter("metronome_pow_adapter_certificates_applied_total",
                                  "Certificates applied as the latest checkpoint.");
  certificates_ignored_ = &prometheus::BuildCounter()
                               .Name("metronome_pow_adapter_certificates_ignored_total")
                               .Help("Valid certificates not applied, by reason.")
                               .Register(*registry);
  certificates_rejected_ = &prometheus::BuildCounter()
                                .Name("metronome_pow_adapter_certificates_rejected_total")
                                .Help("Certificates that did not verify, or conflicted.")
                                .Register(*registry);
  frozen_ = gauge("metronome_pow_adapter_finality_frozen",
                  "1 while conflicting certificates freeze finality.");
  blocks_rejected_ = &prometheus::BuildCounter()
                          .Name("metronome_pow_adapter_blocks_rejected_total")
                          .Help("Blocks and headers rejected, by reason.")
                          .Register(*registry);
  blocks_mined_ = counter("metronome_pow_adapter_blocks_mined_total", "Blocks mined here.");
  blocks_accepted_ =
      counter("metronome_pow_adapter_blocks_accepted_total", "Blocks added to the tree.");
  pushes_dropped_ = counter("metronome_pow_adapter_pushes_dropped_total",
                            "Block pushes dropped because a peer's queue was full.");
  peer_errors_ =
      counter("metronome_pow_adapter_peer_errors_total", "Failed calls to devchain peers.");
  for (const std::string& address : options_.peers) {
    auto peer = std::make_unique<Peer>();
    peer->address = address;
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(static_cast<int>(options_.max_message_bytes + (64 << 10)));
    arguments.SetMaxSendMessageSize(static_cast<int>(options_.max_message_bytes));
    peer->stub = v1::Devchain::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments));
    peers_.push_back(std::move(peer));
  }
}

absl::StatusOr<std::unique_ptr<DevchainNode>> DevchainNode::Create(NodeOptions options,
                                                                   prometheus::Registry* registry) {
  if (options.peers.size() > kPeersMax) {
    return absl::InvalidArgumentError("at most " + std::to_string(kPeersMax) + " peers");
  }
  if (options.hash_rate_share < 0 || options.hash_rate_share > 1) {
    return absl::InvalidArgumentError("hash rate share must be in [0, 1]");
  }
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error) {
    return absl::FailedPreconditionError("cannot create data_dir " + options.data_dir + ": " +
                                         error.message());
  }
  std::unique_ptr<DevchainNode> node(new DevchainNode(std::move(options), registry));
  absl::StatusOr<std::unique_ptr<BlockStore>> store =
      BlockStore::Open(node->options_.data_dir + "/devchain.db");
  if (!store.ok()) return store.status();
  node->store_ = std::move(*store);
  absl::Status status = node->Restore();
  if (!status.ok()) return status;
  return node;
}

absl::Status DevchainNode::Restore() {
  std::lock_guard<std::mutex> lock(chain_mutex_);
  uint64_t index = 0;
  uint64_t skipped = 0;
  absl::Status status = store_->LoadBlocks([&](uint64_t first_seen_ms, const Bytes& block) {
    ++index;
    const BlockOutcome outcome = chain_.AddEncodedBlock(block, first_seen_ms);
    if (outcome.verdict == BlockVerdict::kUnknownParent) {
      // Its parent's write was lost (unsynced block writes may be): peers resend both.
      ++skipped;
      return absl::OkStatus();
    }
    if (!outcome.accepted() && outcome.verdict != BlockVerdict::kDuplicate) {
      return absl::DataLossError(
          "stored block " + std::to_string(index) + " is rejected (" +
          BlockVerdictName(outcome.verdict) + ": " + outcome.reason +
          "); were the devchain parameters (target, genesis) changed for this data_dir?");
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  absl::StatusOr<std::optional<Bytes>> encoded = store_->ReadCheckpointState();
  if (!encoded.ok()) return encoded.status();
  if (encoded->has_value()) {
    std::string error;
    std::optional<CheckpointState> state = DecodeCheckpointState(**encoded, &error);
    if (!state) return absl::DataLossError("stored checkpoint state: " + error);
    if (!chain_.RestoreCheckpointState(*state, &error)) {
      return absl::DataLossError("stored checkpoint state: " + error);
    }
  }
  UpdateTipMetrics();
  block_count_->Set(static_cast<double>(chain_.block_count()));
  checkpoint_height_->Set(static_cast<double>(chain_.checkpoint_state().height));
  frozen_->Set(chain_.checkpoint_state().frozen ? 1 : 0);
  LogInfo("devchain restored", {{"blocks", chain_.block_count()},
                                {"skipped_orphans", skipped},
                                {"height", chain_.tip().height},
                                {"tip", ToHex(chain_.tip().hash)},
                                {"checkpoint_height", chain_.checkpoint_state().height},
                                {"frozen", chain_.checkpoint_state().frozen}});
  return absl::OkStatus();
}

DevchainNode::~DevchainNode() { Stop(); }

grpc::Service* DevchainNode::p2p_service() { return p2p_.get(); }
grpc::Service* DevchainNode::admin_service() { return admin_.get(); }

void DevchainNode::SetFrozenListener(std::function<void(bool)> listener) {
  std::lock_guard<std::mutex> lock(listener_mutex_);
  frozen_listener_ = std::move(listener);
}

void DevchainNode::SetTipListener(std::function<void()> listener) {
  std::lock_guard<std::mutex> lock(tip_listener_mutex_);
  tip_listener_ = std::move(listener);
}

void DevchainNode::NotifyFrozen(bool frozen) {
  std::lock_guard<std::mutex> lock(listener_mutex_);
  if (frozen_listener_) frozen_listener_(frozen);
}

void DevchainNode::Start() {
  METRONOME_ASSERT(!started_);
  started_ = true;
  bool frozen;
  {
    std::lock_guard<std::mutex> lock(chain_mutex_);
    frozen = chain_.checkpoint_state().frozen;
  }
  NotifyFrozen(frozen);
  for (auto& peer : peers_) {
    Peer* raw = peer.get();
    raw->thread = std::thread([this, raw] { PeerLoop(raw); });
  }
  if (options_.hash_rate_share > 0) miner_ = std::thread([this] { MinerLoop(); });
}

void DevchainNode::Stop() {
  {
    std::lock_guard<std::mutex> lock(work_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (miner_.joinable()) miner_.join();
  for (auto& peer : peers_) {
    if (peer->thread.joinable()) peer->thread.join();
  }
}

uint64_t DevchainNode::NowMs() const {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// ---- Blocks -----------------------------------------------------------------------------

void DevchainNode::CountRejection(const std::string& reason, const std::string& detail) {
  ++counters_.blocks_rejected[reason];
  blocks_rejected_->Add({{"reason", reason}}).Increment();
  // Unknown parents are normal while syncing; the rest are a peer's fault.
  if (reason == "unknown_parent") return;
  LogWarn("devchain block rejected", {{"reason", reason}, {"detail", detail}});
}

bool DevchainNode::RecordTipChange(const TipChange& change, const char* cause) {
  if (!change.changed) return false;
  UpdateTipMetrics();
  {
    std::lock_guard<std::mutex> lock(tip_listener_mutex_);
    if (tip_listener_) tip_listener_();
  }
  if (change.reorg_depth > 0) {
    ++counters_.reorgs;
    counters_.max_reorg_depth = std::max(counters_.max_reorg_depth, change.reorg_depth);
    reorgs_->Increment();
    reorg_depth_->Observe(static_cast<double>(change.reorg_depth));
    LogInfo("devchain reorganisation", {{"depth", change.reorg_depth},
                                        {"cause", cause},
                                        {"old_tip", ToHex(change.old_tip)},
                                        {"new_tip", ToHex(change.new_tip)},
                                        {"height", chain_.tip().height}});
  }
  return true;
}

BlockOutcome DevchainNode::HandleBlock(const Bytes& encoded) {
  Bytes push;
  BlockOutcome outcome;
  {
    std::lock_guard<std::mutex> lock(chain_mutex_);
    const uint64_t now = NowMs();
    outcome = chain_.AddEncodedBlock(encoded, now);
    if (outcome.verdict == BlockVerdict::kDuplicate) return outcome;
    if (!outcome.accepted()) {
      CountRejection(BlockVerdictName(outcome.verdict), outcome.reason);
      if (outcome.verdict == BlockVerdict::kUnknownParent) RequestSync();
      return outcome;
    }
    absl::Status status = store_->AppendBlock(now, encoded);
    if (!status.ok()) LogError("devchain block not persisted", {{"error", status.message()}});
    blocks_accepted_->Increment();
    block_count_->Set(static_cast<double>(chain_.block_count()));
    if (outcome.reorg_refused) {
      ++counters_.reorgs_refused;
      reorgs_refused_->Increment();
      LogWarn("devchain reorganisation refused: the heavier chain lacks the checkpoint",
              {{"block", ToHex(outcome.hash)},
               {"height", outcome.height},
               {"checkpoint_height", chain_.checkpoint_state().height}});
    }
    if (RecordTipChange(outcome.tip, "block")) push = encoded;
  }
  if (!push.empty()) QueuePush(push);
  return outcome;
}

BlockOutcome DevchainNode::MineOne(uint64_t nonce_start) {
  DevchainBlock block;
  {
    std::lock_guard<std::mutex> lock(chain_mutex_);
    block = chain_.BlockTemplate(NowMs(), options_.miner_id);
  }
  // About 256 hashes at the default target; the bound only guards a misconfiguration.
  if (!SearchNonce(&block.header, nonce_start, 1ULL << 32)) {
    LogError("devchain nonce search exhausted", {});
    return BlockOutcome{};
  }
  const BlockOutcome outcome = HandleBlock(EncodeBlock(block));
  if (outcome.accepted()) {
    std::lock_guard<std::mutex> lock(chain_mutex_);
    ++counters_.blocks_mined;
    blocks_mined_->Increment();
  }
  return outcome;
}

void DevchainNode::MinerLoop() {
  SplitMix64 rng(options_.seed);
  std::unique_lock<std::mutex> lock(work_mutex_);
  while (!stopping_) {
    const uint64_t delay_ms =
        NextBlockDelayMs(&rng, options_.hash_rate_share, options_.block_interval_ms);
    // Finding blocks is memoryless, so the draw need not restart when the tip changes:
    // whatever the tip is when the timer fires is what the block builds on.
    if (work_cv_.wait_until(lock, Clock::now() + std::chrono::milliseconds(delay_ms),
                            [this] { return stopping_; })) {
      break;
    }
    lock.unlock();
    MineOne(rng.Next());
    lock.lock();
  }
}

// ---- Peers ------------------------------------------------------------------------------

void DevchainNode::QueuePush(const Bytes& block) {
  {
    std::lock_guard<std::mutex> lock(work_mutex_);
    for (auto& peer : peers_) {
      if (peer->pushes.size() >= options_.push_queue_max) {
        peer->pushes.pop_front();
        pushes_dropped_->Increment();
      }
      peer->pushes.push_back(block);
    }
  }
  work_cv_.notify_all();
}

void DevchainNode::RequestSync() {
  {
    std::lock_guard<std::mutex> lock(work_mutex_);
    for (auto& peer : peers_) peer->sync_requested = true;
  }
  work_cv_.notify_all();
}

void DevchainNode::PeerLoop(Peer* peer) {
  std::unique_lock<std::mutex> lock(work_mutex_);
  auto next_sync = Clock::now();
  while (!stopping_) {
    work_cv_.wait_until(lock, next_sync,
                        [&] { return stopping_ || !peer->pushes.empty() || peer->sync_requested; });
    if (stopping_) break;
    if (!peer->pushes.empty()) {
      Bytes block = std::move(peer->pushes.front());
      peer->pushes.pop_front();
      lock.unlock();
      PushTo(peer, block);
      lock.lock();
      continue;
    }
    if (peer->sync_requested || Clock::now() >= next_sync) {
      peer->sync_requested = false;
      lock.unlock();
      SyncWith(peer);
      lock.lock();
      next_sync = Clock::now() + std::chrono::milliseconds(options_.sync_interval_ms);
    }
  }
}

void DevchainNode::PushTo(Peer* peer, const Bytes& block) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::DevchainSubmitBlockRequest request;
  request.set_block(StringOfBytes(block));
  v1::DevchainSubmitBlockResponse response;
  const grpc::Status status = peer->stub->SubmitBlock(&context, request, &response);
  if (!status.ok()) peer_errors_->Increment();
}

void DevchainNode::SyncWith(Peer* peer) {
  // Bounded: a peer that keeps sending headers cannot hold this worker forever.
  for (int round = 0; round < 1000; ++round) {
    v1::DevchainGetHeadersRequest request;
    {
      std::lock_guard<std::mutex> lock(chain_mutex_);
      for (const Hash256& hash : chain_.Locator()) {
        if (request.locator_size() >= static_cast<int>(kLocatorMax)) break;
        request.add_locator(std::string(hash.begin(), hash.end()));
      }
    }
    request.set_count_max(kHeadersPerSync);
    v1::DevchainGetHeadersResponse headers;
    {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      if (!peer->stub->GetHeaders(&context, request, &headers).ok()) {
        peer_errors_->Increment();
        return;
      }
    }
    if (headers.headers_size() > static_cast<int>(kHeadersPerSync)) {
      std::lock_guard<std::mutex> lock(chain_mutex_);
      CountRejection("too_many_headers", peer->address);
      return;
    }
    // Judge the headers before fetching any block: they must decode, chain together and
    // carry valid proof of work.
    std::vector<Hash256> wanted;
    {
      std::lock_guard<std::mutex> lock(chain_mutex_);
      std::optional<Hash256> previous;
      for (const std::string& raw : headers.headers()) {
        const Bytes bytes = BytesOfString(raw);
        Reader reader(bytes);
        const DevchainHeader header = devchain::DecodeHeader(&reader);
        reader.ExpectEnd();
        if (!reader.ok()) {
          CountRejection("malformed_header", peer->address + ": " + reader.error());
          return;
        }
        std::string reason;
        const BlockVerdict verdict = chain_.CheckHeader(header, &reason);
        if (verdict != BlockVerdict::kAccepted) {
          CountRejection(BlockVerdictName(verdict), peer->address + ": header " + reason);
          return;
        }
        if (previous && header.parent != *previous) {
          CountRejection("headers_not_chained", peer->address);
          return;
        }
        previous = BlockHash(header);
        if (chain_.Find(*previous) == nullptr) wanted.push_back(*previous);
      }
    }
    if (wanted.empty()) return;
    for (size_t start = 0; start < wanted.size(); start += kBlocksPerFetch) {
      v1::DevchainGetBlocksRequest fetch;
      std::unordered_set<std::string> requested;
      for (size_t i = start; i < std::min(wanted.size(), start + kBlocksPerFetch); ++i) {
        fetch.add_hashes(std::string(wanted[i].begin(), wanted[i].end()));
        requested.insert(fetch.hashes(fetch.hashes_size() - 1));
      }
      v1::DevchainGetBlocksResponse blocks;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      if (!peer->stub->GetBlocks(&context, fetch, &blocks).ok()) {
        peer_errors_->Increment();
        return;
      }
      if (blocks.blocks_size() == 0) return;
      for (const std::string& raw : blocks.blocks()) {
        const Bytes bytes = BytesOfString(raw);
        // Only blocks we asked for: the header's hash must be one requested.
        Reader reader(bytes);
        reader.U8();  // The block's kind and version; DecodeHeader checks the header's.
        reader.U8();
        const DevchainHeader header = devchain::DecodeHeader(&reader);
        if (!reader.ok()) {
          HandleBlock(bytes);  // Rejected and counted as malformed.
          return;
        }
        const Hash256 hash = BlockHash(header);
        if (requested.count(std::string(hash.begin(), hash.end())) == 0) {
          std::lock_guard<std::mutex> lock(chain_mutex_);
          CountRejection("unrequested_block", peer->address);
          return;
        }
        const BlockOutcome outcome = HandleBlock(bytes);
        if (!outcome.accepted() && outcome.verdict != BlockVerdict::kDuplicate) return;
      }
    }
    if (headers.headers_size() < static_cast<int>(kHeadersPerSync)) return;
  }
}

// ---- Chain API facts --------------------------------------------------------------------

BlockFactsAnswer DevchainNode::Facts(const Bytes& hash, uint64_t height,
                                     const std::optional<Bytes>& checkpoint_hash) {
  std::lock_guard<std::mutex> lock(chain_mutex_);
  return FactsAbout(chain_, hash, height, checkpoint_hash);
}

BlockAtDepthAnswer DevchainNode::AtDepth(uint64_t depth) {
  std::lock_guard<std::mutex> lock(chain_mutex_);
  return BlockAtDepth(chain_, depth);
}

// ---- Admin ------------------------------------------------------------------------------

void DevchainNode::UpdateTipMetrics() {
  height_->Set(static_cast<double>(chain_.tip().height));
  // One series, for the current tip: the old one is removed so a scrape never shows two.
  if (tip_series_ != nullptr) tip_->Remove(tip_series_);
  tip_series_ = &tip_->Add(
      {{"hash", ToHex(chain_.tip().hash)}, {"height", std::to_string(chain_.tip().height)}});
  tip_series_->Set(1);
}

pow_adapter::ChainSnapshot DevchainNode::Snapshot() {
  std::lock_guard<std::mutex> lock(chain_mutex_);
  pow_adapter::ChainSnapshot snapshot;
  v1::AdapterStatus& status = snapshot.status;
  status.set_chain_id(chain_.params().chain_id);
  status.set_node_connected(true);  // The chain is embedded.
  const CheckpointState& state = chain_.checkpoint_state();
  status.set_frozen(state.frozen);
  status.set_enforcing(chain_.params().checkpointing);
  if (state.has_checkpoint) {
    status.mutable_applied_checkpoint()->set_chain_id(chain_.params().chain_id);
    status.mutable_applied_checkpoint()->set_pow_height(state.height);
    status.mutable_applied_checkpoint()->set_pow_block_hash(
        std::string(state.hash.begin(), state.hash.end()));
  }
  snapshot.tip_height = chain_.tip().height;
  snapshot.tip_hash = Bytes(chain_.tip().hash.begin(), chain_.tip().hash.end());
  return snapshot;
}

v1::CheckpointApplied DevchainNode::ApplyCheckpoint(const v1::Certificate& certificate) {
  // The admin ApplyCertificate's path: verified, applied, and the checkpoint state
  // written with sync = true before it returns; durable says whether that happened.
  const v1::DevchainApplyCertificateResponse result = ApplyCertificate(certificate);
  v1::CheckpointApplied applied;
  if (result.has_identity()) *applied.mutable_identity() = result.identity();
  applied.set_outcome(result.outcome());
  applied.set_durable(result.durable());
  LogInfo("chain api: checkpoint handled",
          {{"outcome", result.detail()}, {"durable", result.durable()}});
  return applied;
}

v1::DevchainStatusResponse DevchainNode::Status() {
  std::lock_guard<std::mutex> lock(chain_mutex_);
  v1::DevchainStatusResponse status;
  status.set_chain_id(chain_.params().chain_id);
  status.set_height(chain_.tip().height);
  status.set_tip_hash(std::string(chain_.tip().hash.begin(), chain_.tip().hash.end()));
  status.set_block_count(chain_.block_count());
  status.set_checkpointing(chain_.params().checkpointing);
  const CheckpointState& state = chain_.checkpoint_state();
  status.set_has_checkpoint(state.has_checkpoint);
  status.set_checkpoint_height(state.height);
  if (state.has_checkpoint)
    status.set_checkpoint_hash(std::string(state.hash.begin(), state.hash.end()));
  status.set_frozen(state.frozen);
  if (state.frozen) {
    status.set_freeze_evidence(StringOfBytes(state.evidence));
    status.set_freeze_evidence_path(evidence_path());
  }
  status.set_reorgs(counters_.reorgs);
  status.set_reorgs_refused(counters_.reorgs_refused);
  status.set_max_reorg_depth(counters_.max_reorg_depth);
  status.set_certificates_applied(counters_.certificates_applied);
  status.set_certificates_ignored(counters_.certificates_ignored);
  status.set_blocks_mined(counters_.blocks_mined);
  for (const auto& [reason, count] : counters_.blocks_rejected) {
    (*status.mutable_blocks_rejected())[reason] = count;
  }
  return status;
}

v1::DevchainApplyCertificateResponse DevchainNode::ApplyCertificate(
    const v1::Certificate& certificate) {
  v1::DevchainApplyCertificateResponse response;
  std::optional<bool> frozen_now;
  {
    std::lock_guard<std::mutex> lock(chain_mutex_);
    const bool was_frozen = chain_.checkpoint_state().frozen;
    const Bytes encoded = BytesOfString(certificate.encoded());
    CertificateResult result;
    if (certificate.has_identity() && !IdentityMatches(encoded, certificate.identity())) {
      // The convenience identity must match the canonical bytes (types.proto).
      result.outcome = CertificateOutcome::kInvalid;
      result.reason = "identity field does not match the certificate bytes";
    } else {
      result = chain_.ApplyCertificate(encoded);
    }
    const CertificateOutcome outcome = result.outcome;
    const std::string& reason = result.reason;
    bool durable = false;
    if (result.state_changed) {
      absl::Status status =
          store_->WriteCheckpointState(EncodeCheckpointState(chain_.checkpoint_state()));
      durable = status.ok();
      if (!durable) LogError("checkpoint state not persisted", {{"error", status.message()}});
    } else {
      // Nothing changed: what is on disk already reflects this certificate.
      durable =
          outcome != CertificateOutcome::kUnknownBlock && outcome != CertificateOutcome::kInvalid;
    }
    RecordTipChange(result.tip, "checkpoint");
    checkpoint_height_->Set(static_cast<double>(chain_.checkpoint_state().height));
    switch (outcome) {
      case CertificateOutcome::kApplied:
        ++counters_.certificates_applied;
        certificates_applied_->Increment();
        LogInfo("checkpoint applied", {{"height", result.pow_height},
                                       {"hash", ToHex(result.pow_block_hash)},
                                       {"durable", durable}});
        break;
      case CertificateOutcome::kDuplicate:
      case CertificateOutcome::kIgnoredOlder:
      case CertificateOutcome::kIgnoredFrozen:
      case CertificateOutcome::kUnknownBlock:
        ++counters_.certificates_ignored;
        certificates_ignored_->Add({{"reason", CertificateOutcomeName(outcome)}}).Increment();
        LogInfo("certificate ignored",
                {{"reason", CertificateOutcomeName(outcome)}, {"detail", reason}});
        break;
      case CertificateOutcome::kInvalid:
      case CertificateOutcome::kConflict:
        certificates_rejected_->Add({{"reason", CertificateOutcomeName(outcome)}}).Increment();
        LogWarn("certificate not applied",
                {{"reason", CertificateOutcomeName(outcome)}, {"detail", reason}});
        break;
    }
    if (outcome == CertificateOutcome::kConflict) {
      absl::Status status =
          WriteFileAtomically(evidence_path(), StringOfBytes(chain_.checkpoint_state().evidence));
      LogError("finality frozen: conflicting certificates",
               {{"evidence", evidence_path()},
                {"exported", status.ok()},
                {"checkpoint_height", chain_.checkpoint_state().height},
                {"detail", reason}});
    }
    const bool frozen = chain_.checkpoint_state().frozen;
    frozen_->Set(frozen ? 1 : 0);
    if (frozen != was_frozen) frozen_now = frozen;
    response.set_outcome(ToProto(outcome));
    response.set_detail(CertificateOutcomeName(outcome));
    response.set_reason(reason);
    response.set_durable(durable);
    if (!result.pow_block_hash.empty()) {
      response.mutable_identity()->set_chain_id(chain_.params().chain_id);
      response.mutable_identity()->set_pow_height(result.pow_height);
      response.mutable_identity()->set_pow_block_hash(StringOfBytes(result.pow_block_hash));
    }
  }
  if (frozen_now) NotifyFrozen(*frozen_now);
  return response;
}

absl::Status DevchainNode::ClearFreeze(const Bytes& evidence) {
  {
    std::lock_guard<std::mutex> lock(chain_mutex_);
    std::string reason;
    if (!chain_.ClearFreeze(evidence, &reason)) return absl::FailedPreconditionError(reason);
    absl::Status status =
        store_->WriteCheckpointState(EncodeCheckpointState(chain_.checkpoint_state()));
    if (!status.ok()) return status;
    frozen_->Set(0);
    LogWarn("finality freeze cleared by the operator",
            {{"checkpoint_height", chain_.checkpoint_state().height}});
  }
  NotifyFrozen(false);
  return absl::OkStatus();
}

}  // namespace metronome::devchain
