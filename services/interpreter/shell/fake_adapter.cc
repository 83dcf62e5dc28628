#include "services/interpreter/shell/fake_adapter.h"

#include "common/handshake.h"
#include "common/handshake_frames.h"
#include "common/proto_bytes.h"
#include "services/interpreter/shell/chain_server.h"

namespace metronome::interpreter::testing {
namespace {

Bytes MadeUpHash(uint8_t branch, uint64_t height) {
  Bytes hash(32, 0);
  hash[0] = branch;
  for (int i = 0; i < 8; ++i) hash[31 - i] = static_cast<uint8_t>(height >> (8 * i));
  return hash;
}

}  // namespace

FakeAdapter::FakeAdapter(const Federation& federation, const SigningKey& key)
    : federation_id_(federation.id()), key_(key), chain_id_(federation.chain_id()) {
  blocks_[BestHash(0)] = Block{0, {}, 0};
}

FakeAdapter::~FakeAdapter() { Disconnect(); }

Bytes FakeAdapter::BestHash(uint64_t height) { return MadeUpHash(0xa0, height); }
Bytes FakeAdapter::SideHash(uint64_t height) { return MadeUpHash(0xb0, height); }

void FakeAdapter::SetBestTip(uint64_t tip_height) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (uint64_t height = 1; height <= tip_height; ++height) {
    Block& block = blocks_[BestHash(height)];
    block.height = height;
    block.parent = BestHash(height - 1);
  }
  tip_height_ = tip_height;
}

void FakeAdapter::AddSideBranch(uint64_t fork_height, uint64_t tip_height) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (uint64_t height = fork_height + 1; height <= tip_height; ++height) {
    Block& block = blocks_[SideHash(height)];
    block.height = height;
    block.parent = height == fork_height + 1 ? BestHash(fork_height) : SideHash(height - 1);
  }
}

void FakeAdapter::SetFirstSeen(const Bytes& hash, uint64_t unix_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  blocks_[hash].first_seen_unix_ms = unix_ms;
}

void FakeAdapter::SetAnswering(bool answering) {
  std::lock_guard<std::mutex> lock(mutex_);
  answering_ = answering;
}

void FakeAdapter::SetAcknowledgeDurably(bool durable) {
  std::lock_guard<std::mutex> lock(mutex_);
  durable_ = durable;
}

bool FakeAdapter::Connect(const std::string& address, std::string* failure) {
  Disconnect();
  std::string ignored;
  if (failure == nullptr) failure = &ignored;
  stub_ = v1::Chain::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  context_ = std::make_unique<grpc::ClientContext>();
  context_->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  stream_ = stub_->Attach(context_.get());
  // After a failed read the server has ended the call: its status says why.
  auto fail = [&](const std::string& reason, bool cancel = true) {
    if (cancel) context_->TryCancel();
    const grpc::Status status = stream_->Finish();
    *failure = status.ok() ? reason : status.error_message();
    stream_.reset();
    return false;
  };
  ClientHello hello = StartClientHandshake(kChainServiceName, federation_id_, key_.public_key());
  v1::AdapterToInterpreter out;
  *out.mutable_hello() = hello.hello;
  if (!stream_->Write(out)) return fail("write_failed");
  v1::InterpreterToAdapter in;
  if (!stream_->Read(&in)) return fail("closed", false);
  if (!in.has_challenge()) return fail("no_challenge");
  std::string reason;
  std::optional<HandshakeTranscript> transcript =
      CheckChallenge(hello.started, in.challenge(), std::nullopt, &reason);
  if (!transcript) return fail(reason);
  out.Clear();
  out.mutable_challenge_response()->set_signature(
      StringOf(SignHandshake(key_, *transcript, HandshakeRole::kClient)));
  if (!stream_->Write(out)) return fail("write_failed");
  if (!stream_->Read(&in)) return fail("closed", false);
  if (!in.has_accepted()) return fail("not_accepted");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
  }
  reader_ = std::thread([this] { Read(); });
  return SendStatus(false) && SendTip();
}

void FakeAdapter::Disconnect() {
  if (context_) context_->TryCancel();
  if (reader_.joinable()) reader_.join();
  if (stream_) stream_->Finish();
  stream_.reset();
  context_.reset();
  std::lock_guard<std::mutex> lock(mutex_);
  open_ = false;
}

bool FakeAdapter::connected() {
  std::lock_guard<std::mutex> lock(mutex_);
  return open_;
}

bool FakeAdapter::Write(const v1::AdapterToInterpreter& frame) {
  std::lock_guard<std::mutex> lock(write_mutex_);
  return stream_ && stream_->Write(frame);
}

bool FakeAdapter::SendTip() {
  v1::AdapterToInterpreter frame;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    frame.mutable_tip()->set_chain_id(chain_id_);
    frame.mutable_tip()->set_height(tip_height_);
    frame.mutable_tip()->set_block_hash(StringOf(BestHash(tip_height_)));
  }
  return Write(frame);
}

bool FakeAdapter::SendStatus(bool frozen) {
  v1::AdapterToInterpreter frame;
  frame.mutable_status()->set_chain_id(chain_id_);
  frame.mutable_status()->set_node_connected(true);
  frame.mutable_status()->set_enforcing(true);
  frame.mutable_status()->set_frozen(frozen);
  return Write(frame);
}

std::vector<v1::ApplyCheckpoint> FakeAdapter::apply_checkpoints() {
  std::lock_guard<std::mutex> lock(mutex_);
  return apply_checkpoints_;
}

std::vector<v1::BlockQuery> FakeAdapter::block_queries() {
  std::lock_guard<std::mutex> lock(mutex_);
  return block_queries_;
}

int FakeAdapter::depth_requests() {
  std::lock_guard<std::mutex> lock(mutex_);
  return depth_requests_;
}

void FakeAdapter::Read() {
  v1::InterpreterToAdapter frame;
  while (stream_->Read(&frame)) {
    std::optional<v1::AdapterToInterpreter> answer;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (frame.has_apply_checkpoint()) apply_checkpoints_.push_back(frame.apply_checkpoint());
      if (frame.has_block_query()) block_queries_.push_back(frame.block_query());
      if (frame.has_block_at_depth()) ++depth_requests_;
      if (answering_ || frame.has_apply_checkpoint()) answer = Answer(frame);
    }
    if (answer && answer->kind_case() != v1::AdapterToInterpreter::KIND_NOT_SET) Write(*answer);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  open_ = false;
}

bool FakeAdapter::DescendsFrom(const Bytes& block, const Bytes& ancestor) const {
  auto it = blocks_.find(block);
  while (it != blocks_.end()) {
    if (it->first == ancestor) return true;
    if (it->second.parent.empty()) return false;
    it = blocks_.find(it->second.parent);
  }
  return false;
}

bool FakeAdapter::OnBestChain(const Bytes& hash) const {
  auto it = blocks_.find(hash);
  return it != blocks_.end() && it->second.height <= tip_height_ &&
         BestHash(it->second.height) == hash;
}

v1::AdapterToInterpreter FakeAdapter::Answer(const v1::InterpreterToAdapter& frame) {
  v1::AdapterToInterpreter out;
  if (frame.has_block_query()) {
    const v1::BlockQuery& query = frame.block_query();
    v1::BlockFacts* facts = out.mutable_block_facts();
    facts->set_request_id(query.request_id());
    const Bytes hash = BytesOf(query.block_hash());
    auto it = blocks_.find(hash);
    if (it == blocks_.end() || it->second.height != query.height()) return out;
    facts->set_known(true);
    const bool best = OnBestChain(hash);
    facts->set_on_best_chain(best);
    if (best) facts->set_depth(tip_height_ - it->second.height);
    facts->set_descends_from_checkpoint(query.checkpoint_hash().empty() ||
                                        DescendsFrom(hash, BytesOf(query.checkpoint_hash())));
    facts->set_first_seen_unix_ms(it->second.first_seen_unix_ms);
  } else if (frame.has_block_at_depth()) {
    const v1::BlockAtDepthRequest& request = frame.block_at_depth();
    v1::BlockAtDepthResponse* response = out.mutable_block_at_depth();
    response->set_request_id(request.request_id());
    response->set_tip_height(tip_height_);
    response->set_tip_hash(StringOf(BestHash(tip_height_)));
    if (request.depth() <= tip_height_) {
      const uint64_t height = tip_height_ - request.depth();
      response->set_found(true);
      response->set_height(height);
      response->set_block_hash(StringOf(BestHash(height)));
      response->set_first_seen_unix_ms(blocks_[BestHash(height)].first_seen_unix_ms);
    }
  } else if (frame.has_apply_checkpoint()) {
    v1::CheckpointApplied* applied = out.mutable_checkpoint_applied();
    applied->set_request_id(frame.apply_checkpoint().request_id());
    *applied->mutable_identity() = frame.apply_checkpoint().certificate().identity();
    applied->set_outcome(v1::CERTIFICATE_OUTCOME_APPLIED);
    applied->set_durable(durable_);
  }
  return out;
}

}  // namespace metronome::interpreter::testing
