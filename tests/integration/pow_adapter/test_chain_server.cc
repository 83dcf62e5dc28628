#include "tests/integration/pow_adapter/test_chain_server.h"

#include <chrono>

#include "common/handshake.h"

namespace metronome::pow_adapter::testing {
namespace {

constexpr char kService[] = "metronome.v1.Chain";

std::string StringOf(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

template <size_t N>
bool CopyFixed(const std::string& from, std::array<uint8_t, N>* to) {
  if (from.size() != N) return false;
  std::copy(from.begin(), from.end(), to->begin());
  return true;
}

std::chrono::steady_clock::time_point Deadline(int timeout_ms) {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
}

}  // namespace

class TestChainServer::Service : public v1::Chain::Service {
 public:
  explicit Service(TestChainServer* server) : server_(server) {}
  grpc::Status Attach(grpc::ServerContext* context, Stream* stream) override {
    return server_->Attach(context, stream);
  }

 private:
  TestChainServer* server_;
};

TestChainServer::TestChainServer(const Federation& federation, const SigningKey& key)
    : federation_id_(federation.id()), key_(key) {}

TestChainServer::~TestChainServer() { Stop(); }

bool TestChainServer::Start(int port) {
  service_ = std::make_unique<Service>(this);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                           &bound);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || bound == 0) {
    server_.reset();
    return false;
  }
  port_ = bound;
  return true;
}

void TestChainServer::Stop() {
  if (!server_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (live_context_ != nullptr) live_context_->TryCancel();
  }
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  server_->Wait();
  server_.reset();
  service_.reset();
}

void TestChainServer::ExpectClientKey(const PublicKey& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  expected_client_key_ = key;
}

void TestChainServer::CorruptChallengeSignature(bool corrupt) {
  std::lock_guard<std::mutex> lock(mutex_);
  corrupt_signature_ = corrupt;
}

void TestChainServer::StaySilent(bool silent) {
  std::lock_guard<std::mutex> lock(mutex_);
  silent_ = silent;
}

int TestChainServer::hellos() {
  std::lock_guard<std::mutex> lock(mutex_);
  return hellos_;
}

int TestChainServer::challenge_responses() {
  std::lock_guard<std::mutex> lock(mutex_);
  return challenge_responses_;
}

int TestChainServer::handshakes() {
  std::lock_guard<std::mutex> lock(mutex_);
  return handshakes_;
}

uint64_t TestChainServer::requests_sent() {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_request_id_ - 1;
}

std::optional<PublicKey> TestChainServer::last_client_key() {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_client_key_;
}

std::vector<v1::TipEvent> TestChainServer::tips() {
  std::lock_guard<std::mutex> lock(mutex_);
  return tips_;
}

std::vector<v1::TipEvent> TestChainServer::tips_this_stream() {
  std::lock_guard<std::mutex> lock(mutex_);
  return tips_this_stream_;
}

std::vector<v1::AdapterStatus> TestChainServer::statuses() {
  std::lock_guard<std::mutex> lock(mutex_);
  return statuses_;
}

bool TestChainServer::WaitUntil(const std::function<bool()>& condition, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_until(lock, Deadline(timeout_ms), condition);
}

bool TestChainServer::WaitForHandshakes(int count, int timeout_ms) {
  return WaitUntil([&] { return handshakes_ >= count; }, timeout_ms);
}

bool TestChainServer::WaitForTip(uint64_t height, const std::string& hash, int timeout_ms) {
  return WaitUntil(
      [&] {
        return !tips_this_stream_.empty() && tips_this_stream_.back().height() == height &&
               tips_this_stream_.back().block_hash() == hash;
      },
      timeout_ms);
}

bool TestChainServer::WaitForStatus(const std::function<bool(const v1::AdapterStatus&)>& condition,
                                    int timeout_ms) {
  return WaitUntil([&] { return !statuses_.empty() && condition(statuses_.back()); }, timeout_ms);
}

grpc::Status TestChainServer::Attach(grpc::ServerContext* context, Stream* stream) {
  // The server side of the handshake (types.proto).
  v1::AdapterToInterpreter frame;
  if (!stream->Read(&frame)) return grpc::Status(grpc::StatusCode::CANCELLED, "no hello");
  if (!frame.has_hello()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "expected hello");
  }
  HandshakeTranscript transcript;
  transcript.service = kService;
  Hash256 federation_id;
  bool corrupt;
  bool silent;
  std::optional<PublicKey> expected;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++hellos_;
    cv_.notify_all();
    corrupt = corrupt_signature_;
    silent = silent_;
    expected = expected_client_key_;
  }
  if (silent) {
    while (stream->Read(&frame)) {
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "silent");
  }
  const v1::HandshakeHello& hello = frame.hello();
  if (!CopyFixed(hello.federation_id(), &federation_id) ||
      !CopyFixed(hello.public_key(), &transcript.client_key) ||
      !CopyFixed(hello.nonce(), &transcript.client_nonce)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "malformed hello");
  }
  if (hello.protocol_version() != kHandshakeProtocolVersion) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "unsupported protocol version");
  }
  if (federation_id != federation_id_) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "other federation");
  }
  if (expected && *expected != transcript.client_key) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "not the configured adapter key");
  }
  transcript.federation_id = federation_id;
  transcript.server_key = key_.public_key();
  transcript.server_nonce = NewNonce();
  Signature signature = SignHandshake(key_, transcript, HandshakeRole::kServer);
  if (corrupt) signature[0] ^= 0x01;
  v1::InterpreterToAdapter challenge;
  challenge.mutable_challenge()->set_protocol_version(kHandshakeProtocolVersion);
  challenge.mutable_challenge()->set_public_key(StringOf(key_.public_key().data(), 32));
  challenge.mutable_challenge()->set_nonce(StringOf(transcript.server_nonce.data(), 32));
  challenge.mutable_challenge()->set_signature(StringOf(signature.data(), 64));
  if (!stream->Write(challenge)) return grpc::Status(grpc::StatusCode::CANCELLED, "closed");
  if (!stream->Read(&frame)) return grpc::Status(grpc::StatusCode::CANCELLED, "closed");
  if (!frame.has_challenge_response()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "expected challenge_response");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++challenge_responses_;
    cv_.notify_all();
  }
  Signature client_signature;
  if (!CopyFixed(frame.challenge_response().signature(), &client_signature) ||
      !VerifyHandshake(transcript, HandshakeRole::kClient, client_signature)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad client signature");
  }
  v1::InterpreterToAdapter accepted;
  accepted.mutable_accepted();
  if (!stream->Write(accepted)) return grpc::Status(grpc::StatusCode::CANCELLED, "closed");
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // One adapter at a time: the newer stream replaces the older.
    if (live_context_ != nullptr) live_context_->TryCancel();
    live_context_ = context;
    live_stream_ = stream;
    ++handshakes_;
    last_client_key_ = transcript.client_key;
    tips_this_stream_.clear();
    cv_.notify_all();
  }

  while (stream->Read(&frame)) {
    std::lock_guard<std::mutex> lock(mutex_);
    switch (frame.kind_case()) {
      case v1::AdapterToInterpreter::kTip:
        tips_.push_back(frame.tip());
        tips_this_stream_.push_back(frame.tip());
        break;
      case v1::AdapterToInterpreter::kStatus:
        statuses_.push_back(frame.status());
        break;
      case v1::AdapterToInterpreter::kBlockFacts:
        facts_[frame.block_facts().request_id()] = frame.block_facts();
        break;
      case v1::AdapterToInterpreter::kBlockAtDepth:
        depths_[frame.block_at_depth().request_id()] = frame.block_at_depth();
        break;
      case v1::AdapterToInterpreter::kCheckpointApplied:
        applied_[frame.checkpoint_applied().request_id()] = frame.checkpoint_applied();
        break;
      default:
        break;
    }
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (live_context_ == context) {
    live_context_ = nullptr;
    live_stream_ = nullptr;
  }
  cv_.notify_all();
  return grpc::Status::OK;
}

uint64_t TestChainServer::Send(
    v1::InterpreterToAdapter frame,
    const std::function<void(v1::InterpreterToAdapter*, uint64_t)>& set_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (live_stream_ == nullptr) return 0;
  const uint64_t id = next_request_id_++;
  set_id(&frame, id);
  // Under the lock, so the handler cannot return (and free the stream) meanwhile.
  if (!live_stream_->Write(frame)) return 0;
  return id;
}

template <typename Answer>
std::optional<Answer> TestChainServer::Await(std::map<uint64_t, Answer>* answers, uint64_t id,
                                             int timeout_ms) {
  if (id == 0) return std::nullopt;
  std::unique_lock<std::mutex> lock(mutex_);
  if (!cv_.wait_until(lock, Deadline(timeout_ms), [&] { return answers->count(id) > 0; })) {
    return std::nullopt;
  }
  Answer answer = answers->at(id);
  answers->erase(id);
  return answer;
}

std::optional<v1::BlockFacts> TestChainServer::Query(const std::string& block_hash, uint64_t height,
                                                     const std::string& checkpoint_hash,
                                                     uint32_t wait_ms, int timeout_ms) {
  v1::InterpreterToAdapter frame;
  v1::BlockQuery* query = frame.mutable_block_query();
  query->set_block_hash(block_hash);
  query->set_height(height);
  query->set_checkpoint_hash(checkpoint_hash);
  query->set_wait_ms(wait_ms);
  const uint64_t id = Send(frame, [](v1::InterpreterToAdapter* f, uint64_t request_id) {
    f->mutable_block_query()->set_request_id(request_id);
  });
  return Await(&facts_, id, timeout_ms);
}

std::optional<v1::BlockAtDepthResponse> TestChainServer::AtDepth(uint64_t depth, int timeout_ms) {
  v1::InterpreterToAdapter frame;
  frame.mutable_block_at_depth()->set_depth(depth);
  const uint64_t id = Send(frame, [](v1::InterpreterToAdapter* f, uint64_t request_id) {
    f->mutable_block_at_depth()->set_request_id(request_id);
  });
  return Await(&depths_, id, timeout_ms);
}

std::optional<v1::CheckpointApplied> TestChainServer::ApplyCheckpoint(const Bytes& certificate,
                                                                      int timeout_ms) {
  v1::InterpreterToAdapter frame;
  frame.mutable_apply_checkpoint()->mutable_certificate()->set_encoded(
      StringOf(certificate.data(), certificate.size()));
  const uint64_t id = Send(frame, [](v1::InterpreterToAdapter* f, uint64_t request_id) {
    f->mutable_apply_checkpoint()->set_request_id(request_id);
  });
  return Await(&applied_, id, timeout_ms);
}

}  // namespace metronome::pow_adapter::testing
