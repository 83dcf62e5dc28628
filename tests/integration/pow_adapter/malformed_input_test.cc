// A real metronome-pow-adapter given bad blocks and headers by peers: each is rejected
// with a reason, counted by reason, and the instance keeps running and serving.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/federation_file.h"
#include "common/server.h"
#include "common/test_support.h"
#include "services/pow_adapter/core/test_chain.h"
#include "tests/integration/pow_adapter/adapter_harness.h"
#include "tests/support/subprocess.h"

namespace metronome::pow_adapter::testing {
namespace {

using devchain::DevchainBlock;
using devchain::EncodeBlock;

// A peer that answers every header request with a header whose proof of work is bad,
// then with bytes that are not a header.
class LyingPeer final : public v1::Devchain::Service {
 public:
  explicit LyingPeer(DevchainBlock bad) : bad_(std::move(bad)) {}

  grpc::Status GetHeaders(grpc::ServerContext*, const v1::DevchainGetHeadersRequest*,
                          v1::DevchainGetHeadersResponse* response) override {
    const int call = calls_++;
    if (call % 2 == 0) {
      const Bytes header = devchain::EncodeHeader(bad_.header);
      response->add_headers(std::string(header.begin(), header.end()));
    } else {
      response->add_headers("not a header");
    }
    response->set_tip_height(1);
    return grpc::Status::OK;
  }

  std::atomic<int> calls_{0};

 private:
  DevchainBlock bad_;
};

class MalformedInputTest : public ::testing::Test {
 protected:
  MalformedInputTest()
      : federation_(metronome::testing::MakeTestFederation(4)),
        chain_(devchain::testing::ParamsFor(federation_.federation)) {}

  // Re-seals a block after a change, so only the intended defect remains.
  static void Reseal(DevchainBlock* block) {
    ASSERT_TRUE(devchain::SearchNonce(&block->header, 0, 1 << 24).has_value());
  }

  metronome::testing::TestFederation federation_;
  devchain::Devchain chain_;
};

TEST_F(MalformedInputTest, BadBlocksAndHeadersAreRejectedCountedAndSurvived) {
  const std::string root = std::string(std::getenv("TEST_TMPDIR")) + "/malformed";
  std::filesystem::create_directories(root);
  std::ofstream(root + "/federation.toml") << FederationToToml(federation_.federation);

  // The lying peer's header: height 1 on genesis, proof of work broken.
  DevchainBlock lie = devchain::testing::MakeChild(chain_, chain_.genesis(), "liar", 1);
  while (devchain::MeetsTarget(devchain::BlockHash(lie.header), lie.header.target)) {
    ++lie.header.nonce;
  }
  LyingPeer liar(lie);
  ServerSpec spec;
  spec.service_name = "liar";
  spec.listeners = {{"devchain_p2p", "127.0.0.1:0"}};
  spec.services = {&liar};
  absl::StatusOr<std::unique_ptr<RunningServer>> liar_server = StartServer(spec);
  ASSERT_TRUE(liar_server.ok()) << liar_server.status();

  AdapterProcess node("node", root + "/node", root + "/federation.toml", FreePort());
  node.WriteConfig({(*liar_server)->ports().at("devchain_p2p")},
                   "hash_rate_share = 0\nsync_interval_ms = 50\n");
  ASSERT_TRUE(node.Start({"max_message_bytes=131072"}));

  const devchain::BlockEntry& parent = chain_.genesis();
  DevchainBlock good = devchain::testing::MakeChild(chain_, parent, "good", 1);

  DevchainBlock bad_pow = good;
  while (devchain::MeetsTarget(devchain::BlockHash(bad_pow.header), bad_pow.header.target)) {
    ++bad_pow.header.nonce;
  }
  DevchainBlock bad_parent = good;
  bad_parent.header.parent.fill(0x5a);
  Reseal(&bad_parent);
  DevchainBlock bad_root = good;
  bad_root.transactions.push_back(Bytes{1, 2, 3});
  DevchainBlock oversized = good;
  oversized.transactions.push_back(Bytes(70000, 0x42));
  oversized.header.tx_root = devchain::TransactionRoot(oversized.transactions);
  Reseal(&oversized);
  DevchainBlock bad_height = good;
  bad_height.header.height = 2;
  bad_height.transactions = {devchain::EncodeCoinbase(devchain::Coinbase{2, "good"})};
  bad_height.header.tx_root = devchain::TransactionRoot(bad_height.transactions);
  Reseal(&bad_height);

  EXPECT_EQ(node.Submit(EncodeBlock(bad_pow)), "bad_pow");
  EXPECT_EQ(node.Submit(EncodeBlock(bad_parent)), "unknown_parent");
  EXPECT_EQ(node.Submit(EncodeBlock(bad_root)), "bad_merkle_root");
  EXPECT_EQ(node.Submit(EncodeBlock(oversized)), "oversized");
  EXPECT_EQ(node.Submit(EncodeBlock(bad_height)), "bad_height");
  EXPECT_EQ(node.Submit(Bytes{101, 1, 0xff}), "malformed");
  EXPECT_EQ(node.Submit(Bytes{}), "malformed");
  // Above max_message_bytes: refused by the transport limits, not parsed.
  EXPECT_EQ(node.Submit(Bytes(300000, 0)).rfind("rpc:", 0), 0u);

  // The lying peer's headers are judged before any block is fetched.
  ASSERT_TRUE(WaitFor([&] {
    const auto rejected = node.Status().blocks_rejected();
    return rejected.count("malformed_header") && rejected.at("bad_pow") >= 2;
  })) << node.log();

  // Still running, still serving, and the good block still goes in.
  EXPECT_TRUE(node.Running());
  EXPECT_EQ(node.Submit(EncodeBlock(good)), "accepted");
  const v1::DevchainStatusResponse status = node.Status();
  EXPECT_EQ(status.height(), 1u);
  for (const char* reason : {"bad_pow", "unknown_parent", "bad_merkle_root", "oversized",
                             "bad_height", "malformed", "malformed_header"}) {
    EXPECT_GE(status.blocks_rejected().count(reason), 1u) << reason;
  }
  const std::string metrics = node.MetricsText();
  EXPECT_NE(metrics.find("metronome_pow_adapter_blocks_rejected_total{reason=\"bad_merkle_root\"}"),
            std::string::npos);
  EXPECT_EQ(metronome::testing::Run({kCliBinary, "health", node.admin_address()}).exit_code, 0);
  EXPECT_EQ(node.Stop(), 0);
}

TEST_F(MalformedInputTest, StartUpErrorsNameTheProblem) {
  const std::string root = std::string(std::getenv("TEST_TMPDIR")) + "/startup";
  std::filesystem::create_directories(root);
  std::ofstream(root + "/federation.toml") << FederationToToml(federation_.federation);
  AdapterProcess node("node", root + "/node", root + "/federation.toml", FreePort());
  node.WriteConfig({}, "hash_rate_share = 2\n");
  const metronome::testing::RunResult bad_share = metronome::testing::Run(
      {kAdapterBinary, "--config", node.directory() + "/pow-adapter.toml"}, 20000);
  EXPECT_EQ(bad_share.exit_code, 2);
  EXPECT_NE(bad_share.err.find("'devchain.hash_rate_share'"), std::string::npos) << bad_share.err;

  const metronome::testing::RunResult missing =
      metronome::testing::Run({kAdapterBinary, "--config", root + "/absent.toml"}, 20000);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("absent.toml"), std::string::npos) << missing.err;

  // Two instances on one data_dir: the second is refused, naming the database.
  node.WriteConfig({}, "hash_rate_share = 0\n");
  ASSERT_TRUE(node.Start());
  const metronome::testing::RunResult second =
      metronome::testing::Run({kAdapterBinary, "--config", node.directory() + "/pow-adapter.toml",
                               "--set", "listen.devchain_p2p=127.0.0.1:0"},
                              20000);
  EXPECT_EQ(second.exit_code, 2);
  EXPECT_NE(second.err.find("devchain.db"), std::string::npos) << second.err;
  EXPECT_EQ(node.Stop(), 0);
}

}  // namespace
}  // namespace metronome::pow_adapter::testing
