// The Chain API client in one process: a DevchainNode (no mining; the test adds the
// blocks) and a ChainClient attached to the in-process test server. Complements the
// real-process chain_api_test in the default tier (`./dev test`).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "common/test_support.h"
#include "services/pow_adapter/core/test_chain.h"
#include "services/pow_adapter/shell/chain_client.h"
#include "services/pow_adapter/shell/devchain_node.h"
#include "tests/integration/pow_adapter/test_chain_server.h"
#include "tests/support/wait_for.h"

namespace metronome::pow_adapter {
namespace {

using metronome::testing::WaitFor;

using devchain::BlockEntry;

std::string HashString(const BlockEntry& entry) {
  return std::string(entry.hash.begin(), entry.hash.end());
}

class ChainClientTest : public ::testing::Test {
 protected:
  ChainClientTest()
      : federation_(metronome::testing::MakeTestFederation(4)),
        chain_(devchain::testing::ParamsFor(federation_.federation)),
        adapter_key_(SigningKey::Generate()),
        interpreter_key_(SigningKey::Generate()),
        server_(federation_.federation, interpreter_key_) {}

  void SetUp() override {
    devchain::NodeOptions options;
    options.params = devchain::testing::ParamsFor(federation_.federation);
    options.data_dir = std::string(std::getenv("TEST_TMPDIR")) + "/" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name();
    options.miner_id = "test";
    absl::StatusOr<std::unique_ptr<devchain::DevchainNode>> node =
        devchain::DevchainNode::Create(options, &registry_);
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = std::move(*node);
    node_->Start();
    server_.ExpectClientKey(adapter_key_.public_key());
    ASSERT_TRUE(server_.Start());
    blocks_.push_back(&chain_.genesis());
  }

  void TearDown() override {
    if (client_) client_->Stop();
    server_.Stop();
    if (node_) node_->Stop();
  }

  void StartClient(uint64_t handshake_timeout_ms = 5000) {
    ChainClientOptions options;
    options.interpreter_address = server_.address();
    options.interpreter_key = interpreter_key_.public_key();
    options.reconnect_min_ms = 10;
    options.reconnect_max_ms = 100;
    options.handshake_timeout_ms = handshake_timeout_ms;
    client_ = std::make_unique<ChainClient>(options, adapter_key_, federation_.federation,
                                            node_.get(), &registry_);
    client_->Start();
  }

  void Extend(int count) {
    for (int i = 0; i < count; ++i) {
      const devchain::BlockOutcome outcome =
          chain_.AddBlock(devchain::testing::MakeChild(chain_, *blocks_.back(), "test", 1),
                          devchain::testing::kFarFutureMs);
      ASSERT_TRUE(outcome.accepted()) << outcome.reason;
      blocks_.push_back(chain_.Find(outcome.hash));
      ASSERT_TRUE(node_->HandleBlock(devchain::EncodeBlock(blocks_.back()->block)).accepted());
    }
  }

  // The value of a counter or gauge sample, -1 if absent.
  double Metric(const std::string& name, const std::string& reason = "") {
    for (const prometheus::MetricFamily& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        const bool labelled = !metric.label.empty();
        if (reason.empty() ? labelled : !labelled || metric.label[0].value != reason) continue;
        return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                              : metric.gauge.value;
      }
    }
    return -1;
  }

  metronome::testing::TestFederation federation_;
  devchain::Devchain chain_;
  SigningKey adapter_key_;
  SigningKey interpreter_key_;
  prometheus::Registry registry_;
  testing::TestChainServer server_;
  std::unique_ptr<devchain::DevchainNode> node_;
  std::unique_ptr<ChainClient> client_;
  std::vector<const BlockEntry*> blocks_;
};

TEST_F(ChainClientTest, AttachesReportsTipsAnswersAndAppliesDurably) {
  StartClient();
  ASSERT_TRUE(server_.WaitForHandshakes(1, 10000));
  EXPECT_EQ(server_.last_client_key(), adapter_key_.public_key());
  ASSERT_TRUE(server_.WaitForTip(0, HashString(*blocks_[0]), 10000));
  Extend(5);
  ASSERT_TRUE(server_.WaitForTip(5, HashString(*blocks_[5]), 10000));
  const std::vector<v1::TipEvent> tips = server_.tips();
  for (size_t i = 1; i < tips.size(); ++i) EXPECT_GT(tips[i].height(), tips[i - 1].height());

  std::optional<v1::BlockFacts> facts = server_.Query(HashString(*blocks_[5]), 5);
  ASSERT_TRUE(facts.has_value());
  EXPECT_TRUE(facts->known() && facts->on_best_chain());
  EXPECT_EQ(facts->depth(), 0u);
  facts = server_.Query(std::string(32, '\x01'), 5);
  ASSERT_TRUE(facts.has_value());
  EXPECT_FALSE(facts->known());
  facts = server_.Query(std::string(65, '\x01'), 5);
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->error().code(), "malformed_query");

  // A query that waits (wait_ms) is answered once the block arrives during the wait.
  const devchain::BlockOutcome next =
      chain_.AddBlock(devchain::testing::MakeChild(chain_, *blocks_.back(), "test", 1),
                      devchain::testing::kFarFutureMs);
  ASSERT_TRUE(next.accepted());
  const BlockEntry* sixth = chain_.Find(next.hash);
  const uint64_t sent_before = server_.requests_sent();
  std::thread deliver([&] {
    WaitFor([&] { return server_.requests_sent() > sent_before; });
    node_->HandleBlock(devchain::EncodeBlock(sixth->block));
  });
  facts = server_.Query(HashString(*sixth), 6, "", 5000);
  deliver.join();
  ASSERT_TRUE(facts.has_value());
  EXPECT_TRUE(facts->known());
  blocks_.push_back(sixth);

  std::optional<v1::CheckpointApplied> applied =
      server_.ApplyCheckpoint(devchain::testing::CertifyBlock(federation_, *blocks_[4]));
  ASSERT_TRUE(applied.has_value());
  EXPECT_EQ(applied->outcome(), v1::CERTIFICATE_OUTCOME_APPLIED);
  EXPECT_TRUE(applied->durable());
  EXPECT_EQ(node_->Status().checkpoint_height(), 4u);
  applied = server_.ApplyCheckpoint(devchain::testing::CertifyBlock(federation_, *blocks_[2]));
  ASSERT_TRUE(applied.has_value());
  EXPECT_EQ(applied->outcome(), v1::CERTIFICATE_OUTCOME_IGNORED);
  // Not a certificate at all.
  applied = server_.ApplyCheckpoint(Bytes{5, 1, 0});
  ASSERT_TRUE(applied.has_value());
  EXPECT_EQ(applied->outcome(), v1::CERTIFICATE_OUTCOME_INVALID);
  EXPECT_FALSE(applied->durable());
  EXPECT_EQ(Metric("metronome_pow_adapter_chain_connected"), 1.0);
}

TEST_F(ChainClientTest, ReconnectsAfterTheServerRestarts) {
  StartClient();
  ASSERT_TRUE(server_.WaitForHandshakes(1, 10000));
  const int port = server_.port();
  server_.Stop();
  ASSERT_TRUE(WaitFor([&] { return Metric("metronome_pow_adapter_chain_connected") == 0.0; }));
  ASSERT_TRUE(WaitFor([&] {
    return Metric("metronome_pow_adapter_chain_connect_failures_total", "unavailable") >= 1.0;
  }));
  ASSERT_TRUE(server_.Start(port));
  ASSERT_TRUE(server_.WaitForHandshakes(2, 10000));
  ASSERT_TRUE(server_.WaitForTip(0, HashString(*blocks_[0]), 10000));
  EXPECT_EQ(Metric("metronome_pow_adapter_chain_connects_total"), 2.0);
}

TEST_F(ChainClientTest, RefusesABadChallengeAndTimesOutASilentServer) {
  server_.CorruptChallengeSignature(true);
  StartClient(/*handshake_timeout_ms=*/200);
  ASSERT_TRUE(WaitFor([&] {
    return Metric("metronome_pow_adapter_chain_connect_failures_total", "bad_signature") >= 2.0;
  }));
  EXPECT_EQ(server_.challenge_responses(), 0);
  EXPECT_EQ(server_.handshakes(), 0);
  server_.CorruptChallengeSignature(false);
  server_.StaySilent(true);
  ASSERT_TRUE(WaitFor([&] {
    return Metric("metronome_pow_adapter_chain_connect_failures_total", "handshake_timeout") >= 1.0;
  }));
  EXPECT_EQ(server_.handshakes(), 0);
  server_.StaySilent(false);
  ASSERT_TRUE(server_.WaitForHandshakes(1, 10000));
}

}  // namespace
}  // namespace metronome::pow_adapter
