// The devchain shell in one process: persistence across restarts, rejection counting,
// certificates made durable, and two nodes syncing over real gRPC on loopback.
#include "services/pow_adapter/shell/devchain_node.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/server.h"
#include "common/test_support.h"
#include "services/pow_adapter/core/test_chain.h"
#include "tests/support/wait_for.h"

namespace metronome::devchain {
namespace {

using metronome::testing::WaitFor;

using Clock = std::chrono::steady_clock;

class DevchainNodeTest : public ::testing::Test {
 protected:
  DevchainNodeTest() : federation_(metronome::testing::MakeTestFederation(4)) {}

  NodeOptions Options(const std::string& name) {
    NodeOptions options;
    options.params = testing::ParamsFor(federation_.federation);
    options.data_dir = std::string(std::getenv("TEST_TMPDIR")) + "/" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" + name;
    options.miner_id = name;
    options.sync_interval_ms = 50;
    return options;
  }

  std::unique_ptr<DevchainNode> Make(const NodeOptions& options) {
    absl::StatusOr<std::unique_ptr<DevchainNode>> node = DevchainNode::Create(options, &registry_);
    EXPECT_TRUE(node.ok()) << node.status();
    return node.ok() ? std::move(*node) : nullptr;
  }

  // A certificate naming the tip `status` reports.
  Bytes CertifyTip(const v1::DevchainStatusResponse& status) {
    BlockEntry entry;
    entry.height = status.height();
    std::copy(status.tip_hash().begin(), status.tip_hash().end(), entry.hash.begin());
    return testing::CertifyBlock(federation_, entry);
  }

  metronome::testing::TestFederation federation_;
  prometheus::Registry registry_;
};

TEST_F(DevchainNodeTest, ARestartResumesTheChainAndTheCheckpointFromDisk) {
  const NodeOptions options = Options("a");
  std::string tip;
  {
    std::unique_ptr<DevchainNode> node = Make(options);
    ASSERT_TRUE(node);
    for (int i = 0; i < 6; ++i) {
      const BlockOutcome outcome = node->MineOne(static_cast<uint64_t>(i) << 32);
      ASSERT_TRUE(outcome.accepted()) << outcome.reason;
    }
    const v1::DevchainStatusResponse status = node->Status();
    ASSERT_EQ(status.height(), 6u);
    tip = status.tip_hash();
  }
  std::unique_ptr<DevchainNode> node = Make(options);
  ASSERT_TRUE(node);
  EXPECT_EQ(node->Status().height(), 6u);
  EXPECT_EQ(node->Status().tip_hash(), tip);
}

TEST_F(DevchainNodeTest, TheTipMetricShowsExactlyTheCurrentTip) {
  std::unique_ptr<DevchainNode> node = Make(Options("tip"));
  ASSERT_TRUE(node);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(node->MineOne(static_cast<uint64_t>(i) << 32).accepted());
  const v1::DevchainStatusResponse status = node->Status();
  std::vector<prometheus::ClientMetric> series;
  for (const prometheus::MetricFamily& family : registry_.Collect()) {
    if (family.name == "metronome_pow_adapter_tip_info") series = family.metric;
  }
  ASSERT_EQ(series.size(), 1u);
  std::map<std::string, std::string> labels;
  for (const prometheus::ClientMetric::Label& label : series[0].label) {
    labels[label.name] = label.value;
  }
  EXPECT_EQ(labels["height"], "3");
  EXPECT_EQ(labels["hash"], ToHex(BytesOf(status.tip_hash())));
  EXPECT_EQ(series[0].gauge.value, 1);
}

TEST_F(DevchainNodeTest, MalformedBlocksAreRejectedCountedAndSurvived) {
  std::unique_ptr<DevchainNode> node = Make(Options("a"));
  ASSERT_TRUE(node);
  EXPECT_EQ(node->HandleBlock(Bytes{1, 2, 3}).verdict, BlockVerdict::kMalformed);
  Devchain replica(testing::ParamsFor(federation_.federation));
  DevchainBlock block = testing::MakeChild(replica, replica.genesis(), "evil", 1);
  block.header.time_ms = 1;
  block.transactions.push_back(Bytes{7});  // tx_root no longer matches.
  EXPECT_EQ(node->HandleBlock(EncodeBlock(block)).verdict, BlockVerdict::kBadMerkleRoot);
  const v1::DevchainStatusResponse status = node->Status();
  EXPECT_EQ(status.blocks_rejected().at("malformed"), 1u);
  EXPECT_EQ(status.blocks_rejected().at("bad_merkle_root"), 1u);
  EXPECT_EQ(status.height(), 0u);
}

TEST_F(DevchainNodeTest, AnAppliedCertificateIsDurableAndRestored) {
  const NodeOptions options = Options("a");
  {
    std::unique_ptr<DevchainNode> node = Make(options);
    ASSERT_TRUE(node);
    for (int i = 0; i < 5; ++i)
      ASSERT_TRUE(node->MineOne(static_cast<uint64_t>(i) << 32).accepted());
    const Bytes certificate = CertifyTip(node->Status());
    v1::Certificate request;
    request.set_encoded(std::string(certificate.begin(), certificate.end()));
    const v1::DevchainApplyCertificateResponse response = node->ApplyCertificate(request);
    EXPECT_EQ(response.outcome(), v1::CERTIFICATE_OUTCOME_APPLIED) << response.reason();
    EXPECT_TRUE(response.durable());
    EXPECT_EQ(node->ApplyCertificate(request).outcome(), v1::CERTIFICATE_OUTCOME_DUPLICATE);
  }
  std::unique_ptr<DevchainNode> node = Make(options);
  ASSERT_TRUE(node);
  const v1::DevchainStatusResponse status = node->Status();
  EXPECT_TRUE(status.has_checkpoint());
  EXPECT_EQ(status.checkpoint_height(), 5u);
}

TEST_F(DevchainNodeTest, AMismatchedIdentityFieldMakesTheCertificateInvalid) {
  std::unique_ptr<DevchainNode> node = Make(Options("a"));
  ASSERT_TRUE(node);
  ASSERT_TRUE(node->MineOne(0).accepted());
  const v1::DevchainStatusResponse status = node->Status();
  const Bytes certificate = CertifyTip(status);
  v1::Certificate request;
  request.set_encoded(std::string(certificate.begin(), certificate.end()));
  request.mutable_identity()->set_chain_id("devchain");
  request.mutable_identity()->set_pow_height(2);
  request.mutable_identity()->set_pow_block_hash(status.tip_hash());
  EXPECT_EQ(node->ApplyCertificate(request).outcome(), v1::CERTIFICATE_OUTCOME_INVALID);
  EXPECT_FALSE(node->Status().has_checkpoint());
}

TEST_F(DevchainNodeTest, ChainFactsComeFromTheLiveChain) {
  std::unique_ptr<DevchainNode> node = Make(Options("a"));
  ASSERT_TRUE(node);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(node->MineOne(static_cast<uint64_t>(i) << 32).accepted());
  const BlockAtDepthAnswer at_two = node->AtDepth(2);
  ASSERT_TRUE(at_two.found);
  EXPECT_EQ(at_two.height, 2u);
  const BlockFactsAnswer facts =
      node->Facts(Bytes(at_two.hash.begin(), at_two.hash.end()), 2, std::nullopt);
  EXPECT_TRUE(facts.known);
  EXPECT_TRUE(facts.on_best_chain);
  EXPECT_EQ(facts.depth, 2u);
  EXPECT_GT(facts.first_seen_ms, 0u);
}

TEST_F(DevchainNodeTest, TwoNodesConvergeOverGrpc) {
  std::unique_ptr<DevchainNode> a = Make(Options("a"));
  ASSERT_TRUE(a);
  ServerSpec spec;
  spec.service_name = "test";
  spec.listeners = {{"devchain_p2p", "127.0.0.1:0"}};
  spec.services = {a->p2p_service()};
  absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServer(spec);
  ASSERT_TRUE(server.ok()) << server.status();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(a->MineOne(static_cast<uint64_t>(i) << 32).accepted());

  NodeOptions b_options = Options("b");
  b_options.peers = {"127.0.0.1:" + std::to_string((*server)->ports().at("devchain_p2p"))};
  std::unique_ptr<DevchainNode> b = Make(b_options);
  ASSERT_TRUE(b);
  b->Start();
  EXPECT_TRUE(WaitFor([&] { return b->Status().tip_hash() == a->Status().tip_hash(); }));
  // New blocks keep flowing: b polls a.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(a->MineOne(static_cast<uint64_t>(i) << 40).accepted());
  EXPECT_TRUE(WaitFor([&] { return b->Status().height() == 25; }));
  b->Stop();
}

}  // namespace
}  // namespace metronome::devchain
