// BftClient against an in-process stand-in for the bft's Interpreter service (the
// server half of the handshake from common/handshake_frames.h), so the client's
// contract is checked without a bft: handshake, frames both ways, refusal of the wrong
// server, reconnects, handshake timeout, Send while detached, Stop.
#include "services/interpreter/shell/bft_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "common/handshake_frames.h"
#include "common/test_support.h"
#include "tests/support/wait_for.h"

namespace metronome::interpreter {
namespace {

using metronome::testing::WaitFor;

// The bft's side of Interpreter.Attach, scriptable. One stream at a time.
class FakeBft final : public v1::Interpreter::Service {
 public:
  FakeBft(const Federation& federation, const SigningKey& member_key,
          const PublicKey& interpreter_key)
      : federation_(federation), member_key_(member_key), interpreter_key_(interpreter_key) {}

  bool Start() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
    return server_ != nullptr && port_ > 0;
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    cv_.notify_all();
    if (server_) server_->Shutdown();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Never answers hello (for the client's handshake timeout).
  void set_silent(bool silent) { silent_ = silent; }

  // Writes a frame on the authenticated stream; false when there is none.
  bool Send(const v1::BftToInterpreter& frame) {
    std::lock_guard<std::mutex> lock(mutex_);
    return stream_ != nullptr && stream_->Write(frame);
  }
  // Ends the authenticated stream (as a bft restart would).
  void Drop() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (context_ != nullptr) context_->TryCancel();
  }
  std::vector<v1::InterpreterToBft> received() {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }
  int hellos() const { return hellos_; }
  int challenge_responses() const { return challenge_responses_; }

  grpc::Status Attach(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::BftToInterpreter, v1::InterpreterToBft>* stream) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stopping");
      context_ = context;
    }
    const grpc::Status status = Serve(stream);
    std::lock_guard<std::mutex> lock(mutex_);
    stream_ = nullptr;
    context_ = nullptr;
    return status;
  }

 private:
  grpc::Status Serve(grpc::ServerReaderWriter<v1::BftToInterpreter, v1::InterpreterToBft>* stream) {
    v1::InterpreterToBft in;
    if (!stream->Read(&in) || !in.has_hello()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "expected hello");
    }
    ++hellos_;
    if (silent_) {
      // Holds the stream open without answering until the client gives up.
      while (stream->Read(&in)) {
      }
      return grpc::Status(grpc::StatusCode::CANCELLED, "client gave up");
    }
    HandshakeTranscript transcript;
    v1::BftToInterpreter out;
    grpc::Status status = AnswerHello(
        in.hello(), kInterpreterServiceName, federation_.id(), member_key_,
        [this](const PublicKey& key) { return key == interpreter_key_; }, "the interpreter key",
        &transcript, out.mutable_challenge());
    if (!status.ok()) return status;
    if (!stream->Write(out) || !stream->Read(&in) || !in.has_challenge_response()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no challenge_response");
    }
    ++challenge_responses_;
    status = CheckChallengeResponse(transcript, in.challenge_response());
    if (!status.ok()) return status;
    out.Clear();
    out.mutable_accepted();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!stream->Write(out)) return grpc::Status(grpc::StatusCode::CANCELLED, "closed");
      stream_ = stream;
    }
    while (stream->Read(&in)) {
      std::lock_guard<std::mutex> lock(mutex_);
      received_.push_back(in);
    }
    return grpc::Status::OK;
  }

  const Federation& federation_;
  const SigningKey member_key_;
  const PublicKey interpreter_key_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<bool> silent_{false};
  std::atomic<int> hellos_{0};
  std::atomic<int> challenge_responses_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  grpc::ServerContext* context_ = nullptr;
  grpc::ServerReaderWriter<v1::BftToInterpreter, v1::InterpreterToBft>* stream_ = nullptr;
  std::vector<v1::InterpreterToBft> received_;
};

// Records what the client reports. Thread-safe.
class RecordingHandler : public BftClient::Handler {
 public:
  void OnAttached() override { ++attaches_; }
  void OnDetached() override { ++detaches_; }
  void OnFrame(const v1::BftToInterpreter& frame) override {
    std::lock_guard<std::mutex> lock(mutex_);
    frames_.push_back(frame);
  }
  int attaches() const { return attaches_; }
  int detaches() const { return detaches_; }
  std::vector<v1::BftToInterpreter> frames() {
    std::lock_guard<std::mutex> lock(mutex_);
    return frames_;
  }

 private:
  std::atomic<int> attaches_{0};
  std::atomic<int> detaches_{0};
  std::mutex mutex_;
  std::vector<v1::BftToInterpreter> frames_;
};

// The value of a counter or gauge sample with `label_value` (any label) or none.
double Sample(prometheus::Registry& registry, const std::string& name,
              const std::string& label_value = "") {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      const bool labelled = !metric.label.empty();
      if (!label_value.empty() && (!labelled || metric.label[0].value != label_value)) continue;
      return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                            : metric.gauge.value;
    }
  }
  return 0;
}

v1::InterpreterToBft CandidateFrame(uint64_t request_id) {
  v1::InterpreterToBft frame;
  frame.mutable_new_checkpoint_candidate()->set_request_id(request_id);
  return frame;
}

class BftClientTest : public ::testing::Test {
 protected:
  BftClientTest()
      : federation_(metronome::testing::MakeTestFederation(4)),
        interpreter_key_(SigningKey::Generate()),
        bft_(federation_.federation, federation_.keys[0], interpreter_key_.public_key()) {}

  void SetUp() override { ASSERT_TRUE(bft_.Start()); }
  void TearDown() override {
    if (client_) client_->Stop();
    bft_.Stop();
  }

  void StartClient(std::optional<PublicKey> bft_key, uint64_t handshake_timeout_ms = 5000) {
    BftClientOptions options;
    options.bft_address = bft_.address();
    options.bft_key = bft_key;
    options.reconnect_min_ms = 20;
    options.reconnect_max_ms = 100;
    options.handshake_timeout_ms = handshake_timeout_ms;
    client_ = std::make_unique<BftClient>(options, interpreter_key_, federation_.federation,
                                          &handler_, &registry_);
    client_->Start();
  }

  metronome::testing::TestFederation federation_;
  SigningKey interpreter_key_;
  FakeBft bft_;
  RecordingHandler handler_;
  prometheus::Registry registry_;
  std::unique_ptr<BftClient> client_;
};

TEST_F(BftClientTest, AttachesAfterTheHandshakeAndCarriesFramesBothWays) {
  StartClient(federation_.keys[0].public_key());
  ASSERT_TRUE(WaitFor([&] { return client_->attached() && handler_.attaches() == 1; }));
  EXPECT_EQ(Sample(registry_, "metronome_interpreter_bft_connects_total"), 1);
  EXPECT_EQ(Sample(registry_, "metronome_interpreter_bft_attached"), 1);

  v1::BftToInterpreter status;
  status.mutable_status()->set_view(7);
  ASSERT_TRUE(WaitFor([&] { return bft_.Send(status); }));
  ASSERT_TRUE(WaitFor([&] { return handler_.frames().size() == 1; }));
  EXPECT_EQ(handler_.frames()[0].status().view(), 7u);

  ASSERT_TRUE(client_->Send(CandidateFrame(1)));
  ASSERT_TRUE(WaitFor([&] { return bft_.received().size() == 1; }));
  EXPECT_EQ(bft_.received()[0].new_checkpoint_candidate().request_id(), 1u);
}

TEST_F(BftClientTest, NeverAnswersTheChallengeOfAnUnexpectedBftKey) {
  StartClient(federation_.keys[1].public_key());
  ASSERT_TRUE(WaitFor([&] {
    return Sample(registry_, "metronome_interpreter_bft_failures_total", "unexpected_server_key") >=
           2;
  }));
  EXPECT_GE(bft_.hellos(), 2);
  EXPECT_EQ(bft_.challenge_responses(), 0);
  EXPECT_EQ(handler_.attaches(), 0);
  EXPECT_FALSE(client_->attached());
}

TEST_F(BftClientTest, ReattachesAfterTheBftDropsTheStream) {
  StartClient(std::nullopt);
  ASSERT_TRUE(WaitFor([&] { return handler_.attaches() == 1; }));
  bft_.Drop();
  ASSERT_TRUE(WaitFor([&] { return handler_.detaches() == 1 && handler_.attaches() == 2; }));
  EXPECT_EQ(Sample(registry_, "metronome_interpreter_bft_failures_total", "disconnected"), 1);
  EXPECT_EQ(Sample(registry_, "metronome_interpreter_bft_connects_total"), 2);
  ASSERT_TRUE(WaitFor([&] { return client_->Send(CandidateFrame(2)); }));
  ASSERT_TRUE(WaitFor([&] { return bft_.received().size() == 1; }));
}

TEST_F(BftClientTest, GivesUpOnAHandshakeThatTakesTooLong) {
  bft_.set_silent(true);
  StartClient(std::nullopt, /*handshake_timeout_ms=*/100);
  ASSERT_TRUE(WaitFor([&] {
    return Sample(registry_, "metronome_interpreter_bft_failures_total", "handshake_timeout") >= 2;
  }));
  EXPECT_EQ(handler_.attaches(), 0);
}

TEST_F(BftClientTest, SendFailsWhileNotAttached) {
  bft_.Stop();  // Nothing listens: every attempt fails.
  StartClient(std::nullopt);
  ASSERT_TRUE(WaitFor([&] {
    return Sample(registry_, "metronome_interpreter_bft_failures_total", "unavailable") >= 1;
  }));
  EXPECT_FALSE(client_->Send(CandidateFrame(1)));
  EXPECT_FALSE(client_->attached());
}

TEST_F(BftClientTest, StopWhileAttachedReportsDetachOnceAndIsIdempotent) {
  StartClient(std::nullopt);
  ASSERT_TRUE(WaitFor([&] { return handler_.attaches() == 1; }));
  client_->Stop();
  EXPECT_EQ(handler_.detaches(), 1);
  EXPECT_FALSE(client_->attached());
  EXPECT_EQ(Sample(registry_, "metronome_interpreter_bft_attached"), 0);
  client_->Stop();
  EXPECT_FALSE(client_->Send(CandidateFrame(1)));
}

}  // namespace
}  // namespace metronome::interpreter
