// The pow-adapter's Chain API client against a test Chain-API server (standing in for
// the interpreter), with one real metronome-pow-adapter process: the handshake, tip
// events, block and depth queries answered with the devchain's facts, certificates
// applied and acknowledged durably, replays, reconnecting after the server restarts, and
// a challenge with a bad signature refused.
//
// The adapter does not mine: the test writes the chain itself (real proof of work, made
// with the devchain core) and delivers it over the P2P service, so heights are exact.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/federation_file.h"
#include "common/key_file.h"
#include "common/test_support.h"
#include "services/pow_adapter/core/test_chain.h"
#include "tests/integration/pow_adapter/adapter_harness.h"
#include "tests/integration/pow_adapter/test_chain_server.h"

namespace metronome::pow_adapter::testing {
namespace {

using devchain::BlockEntry;
using devchain::EncodeBlock;
using devchain::testing::CertifyBlock;
using devchain::testing::MakeChild;

constexpr char kFailures[] = "metronome_pow_adapter_chain_connect_failures_total";

std::string HashString(const BlockEntry& entry) {
  return std::string(entry.hash.begin(), entry.hash.end());
}

class ChainApiTest : public ::testing::Test {
 protected:
  ChainApiTest()
      : federation_(metronome::testing::MakeTestFederation(4)),
        chain_(devchain::testing::ParamsFor(federation_.federation)),
        interpreter_key_(SigningKey::Generate()),
        server_(federation_.federation, interpreter_key_) {}

  void SetUp() override {
    root_ = std::string(std::getenv("TEST_TMPDIR")) + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(root_);
    const std::string federation_file = root_ + "/federation.toml";
    std::ofstream(federation_file) << FederationToToml(federation_.federation);
    adapter_ = std::make_unique<AdapterProcess>("adapter", root_ + "/adapter", federation_file,
                                                FreePort());
    adapter_->WriteConfig({}, "hash_rate_share = 0\n");
    absl::StatusOr<SigningKey> key = ReadKeyFile(adapter_->directory() + "/adapter.key");
    ASSERT_TRUE(key.ok());
    adapter_key_ = key->public_key();
    server_.ExpectClientKey(adapter_key_);
    ASSERT_TRUE(server_.Start());
    chain_blocks_.push_back(&chain_.genesis());
  }

  bool StartAdapter() {
    return adapter_->Start({"interpreter_address=" + server_.address(),
                            "interpreter_key=" + ToHex(interpreter_key_.public_key())});
  }

  // Mines (in the test) and delivers `count` blocks on the adapter's tip.
  void Extend(int count) {
    for (int i = 0; i < count; ++i) {
      const devchain::BlockOutcome outcome = chain_.AddBlock(
          MakeChild(chain_, *chain_blocks_.back(), "test", 1), devchain::testing::kFarFutureMs);
      ASSERT_TRUE(outcome.accepted()) << outcome.reason;
      chain_blocks_.push_back(chain_.Find(outcome.hash));
      ASSERT_EQ(adapter_->Submit(EncodeBlock(chain_blocks_.back()->block)), "accepted");
    }
  }

  // The latest tip on the current stream is chain_blocks_[height].
  bool TipReported(size_t height) {
    return server_.WaitForTip(height, HashString(*chain_blocks_[height]), 20000);
  }

  metronome::testing::TestFederation federation_;
  devchain::Devchain chain_;
  SigningKey interpreter_key_;
  TestChainServer server_;
  std::string root_;
  std::unique_ptr<AdapterProcess> adapter_;
  PublicKey adapter_key_{};
  std::vector<const BlockEntry*> chain_blocks_;  // chain_blocks_[h] is at height h.
};

TEST_F(ChainApiTest, HandshakeTipsQueriesCheckpointsAndReconnect) {
  ASSERT_TRUE(StartAdapter());
  ASSERT_TRUE(server_.WaitForHandshakes(1, 20000)) << adapter_->log();
  ASSERT_EQ(server_.last_client_key(), adapter_key_);
  // After the handshake: a status and the current tip (genesis).
  ASSERT_TRUE(TipReported(0)) << adapter_->log();
  ASSERT_FALSE(server_.statuses().empty());
  EXPECT_EQ(server_.statuses().front().chain_id(), federation_.federation.chain_id());
  EXPECT_TRUE(server_.statuses().front().enforcing());

  // Tip events follow the chain with increasing heights.
  for (int round = 0; round < 8; ++round) {
    Extend(1);
    ASSERT_TRUE(TipReported(chain_blocks_.size() - 1)) << adapter_->log();
  }
  std::vector<v1::TipEvent> tips = server_.tips();
  ASSERT_GE(tips.size(), 9u);
  for (size_t i = 1; i < tips.size(); ++i) {
    EXPECT_GT(tips[i].height(), tips[i - 1].height()) << i;
    EXPECT_EQ(tips[i].chain_id(), federation_.federation.chain_id());
    EXPECT_EQ(tips[i].block_hash(), HashString(*chain_blocks_[tips[i].height()]));
  }

  // Facts: the tip, a block below it, an unknown hash, a known hash at a wrong height.
  std::optional<v1::BlockFacts> facts = server_.Query(HashString(*chain_blocks_[8]), 8);
  ASSERT_TRUE(facts.has_value());
  EXPECT_TRUE(facts->known());
  EXPECT_TRUE(facts->on_best_chain());
  EXPECT_EQ(facts->depth(), 0u);
  EXPECT_TRUE(facts->descends_from_checkpoint());
  EXPECT_FALSE(facts->has_error());
  facts = server_.Query(HashString(*chain_blocks_[5]), 5, HashString(*chain_blocks_[3]));
  ASSERT_TRUE(facts.has_value());
  EXPECT_TRUE(facts->known());
  EXPECT_TRUE(facts->on_best_chain());
  EXPECT_EQ(facts->depth(), 3u);
  EXPECT_TRUE(facts->descends_from_checkpoint());
  facts = server_.Query(std::string(32, '\x5a'), 4);
  ASSERT_TRUE(facts.has_value());
  EXPECT_FALSE(facts->known());
  EXPECT_FALSE(facts->on_best_chain());
  facts = server_.Query(HashString(*chain_blocks_[5]), 6);
  ASSERT_TRUE(facts.has_value());
  EXPECT_FALSE(facts->known());
  // An unknown block asked with wait_ms is answered (known = false) after the wait.
  const auto asked = std::chrono::steady_clock::now();
  facts = server_.Query(std::string(32, '\x5b'), 4, "", 300);
  ASSERT_TRUE(facts.has_value());
  EXPECT_FALSE(facts->known());
  EXPECT_GE(std::chrono::steady_clock::now() - asked, std::chrono::milliseconds(250));

  std::optional<v1::BlockAtDepthResponse> at_depth = server_.AtDepth(2);
  ASSERT_TRUE(at_depth.has_value());
  EXPECT_TRUE(at_depth->found());
  EXPECT_EQ(at_depth->height(), 6u);
  EXPECT_EQ(at_depth->block_hash(), HashString(*chain_blocks_[6]));
  EXPECT_EQ(at_depth->tip_height(), 8u);
  EXPECT_EQ(at_depth->tip_hash(), HashString(*chain_blocks_[8]));
  at_depth = server_.AtDepth(9);
  ASSERT_TRUE(at_depth.has_value());
  EXPECT_FALSE(at_depth->found());
  EXPECT_EQ(at_depth->tip_height(), 8u);

  // A valid certificate for height 6: applied, durable; the status names it.
  std::optional<v1::CheckpointApplied> applied =
      server_.ApplyCheckpoint(CertifyBlock(federation_, *chain_blocks_[6]));
  ASSERT_TRUE(applied.has_value());
  EXPECT_EQ(applied->outcome(), v1::CERTIFICATE_OUTCOME_APPLIED);
  EXPECT_TRUE(applied->durable());
  EXPECT_EQ(applied->identity().pow_height(), 6u);
  EXPECT_EQ(applied->identity().pow_block_hash(), HashString(*chain_blocks_[6]));
  EXPECT_EQ(adapter_->Status().checkpoint_height(), 6u);
  EXPECT_TRUE(server_.WaitForStatus(
      [](const v1::AdapterStatus& status) {
        return status.has_applied_checkpoint() && status.applied_checkpoint().pow_height() == 6;
      },
      10000));
  // Replays: an older certificate is ignored, the same one is a duplicate; nothing moves.
  applied = server_.ApplyCheckpoint(CertifyBlock(federation_, *chain_blocks_[4]));
  ASSERT_TRUE(applied.has_value());
  EXPECT_TRUE(applied->outcome() == v1::CERTIFICATE_OUTCOME_IGNORED ||
              applied->outcome() == v1::CERTIFICATE_OUTCOME_DUPLICATE)
      << applied->outcome();
  EXPECT_TRUE(applied->durable());
  applied = server_.ApplyCheckpoint(CertifyBlock(federation_, *chain_blocks_[6]));
  ASSERT_TRUE(applied.has_value());
  EXPECT_EQ(applied->outcome(), v1::CERTIFICATE_OUTCOME_DUPLICATE);
  EXPECT_TRUE(applied->durable());
  EXPECT_EQ(adapter_->Status().checkpoint_height(), 6u);
  // A certificate for a block the adapter does not have: pending, not durable.
  const devchain::BlockOutcome unknown = chain_.AddBlock(
      MakeChild(chain_, *chain_blocks_[8], "elsewhere", 1), devchain::testing::kFarFutureMs);
  ASSERT_TRUE(unknown.accepted());
  applied = server_.ApplyCheckpoint(CertifyBlock(federation_, *chain_.Find(unknown.hash)));
  ASSERT_TRUE(applied.has_value());
  EXPECT_EQ(applied->outcome(), v1::CERTIFICATE_OUTCOME_PENDING);
  EXPECT_FALSE(applied->durable());
  // Facts relative to the checkpoint.
  facts = server_.Query(HashString(*chain_blocks_[8]), 8, HashString(*chain_blocks_[6]));
  ASSERT_TRUE(facts.has_value());
  EXPECT_TRUE(facts->descends_from_checkpoint());
  facts = server_.Query(HashString(*chain_blocks_[5]), 5, HashString(*chain_blocks_[6]));
  ASSERT_TRUE(facts.has_value());
  EXPECT_FALSE(facts->descends_from_checkpoint());

  // The server restarts on the same port: the adapter reconnects with a new handshake
  // and reports its tip again.
  const int port = server_.port();
  server_.Stop();
  ASSERT_TRUE(WaitFor([&] {
    return MetricValue(adapter_->MetricsText(), "metronome_pow_adapter_chain_connected") == 0.0;
  }));
  ASSERT_TRUE(server_.Start(port));
  ASSERT_TRUE(server_.WaitForHandshakes(2, 30000)) << adapter_->log();
  ASSERT_TRUE(TipReported(8)) << adapter_->log();
  Extend(1);
  ASSERT_TRUE(TipReported(9)) << adapter_->log();
  at_depth = server_.AtDepth(0);
  ASSERT_TRUE(at_depth.has_value());
  EXPECT_EQ(at_depth->height(), 9u);
  const std::string metrics = adapter_->MetricsText();
  EXPECT_EQ(MetricValue(metrics, "metronome_pow_adapter_chain_connects_total"), 2.0);
  EXPECT_GE(MetricValue(metrics, std::string(kFailures) + "{reason=\"disconnected\"}"), 1.0);
  EXPECT_EQ(MetricValue(metrics, "metronome_pow_adapter_chain_connected"), 1.0);
  EXPECT_EQ(adapter_->Stop(), 0);
}

TEST_F(ChainApiTest, AChallengeWithABadSignatureIsRefused) {
  server_.CorruptChallengeSignature(true);
  ASSERT_TRUE(StartAdapter());
  // The adapter keeps trying (with backoff) and never answers a bad challenge.
  ASSERT_TRUE(WaitFor(
      [&] {
        return MetricValue(adapter_->MetricsText(),
                           std::string(kFailures) + "{reason=\"bad_signature\"}") >= 2.0;
      },
      30000))
      << adapter_->log();
  EXPECT_GE(server_.hellos(), 2);
  EXPECT_EQ(server_.challenge_responses(), 0);
  EXPECT_EQ(server_.handshakes(), 0);
  EXPECT_TRUE(server_.tips().empty());
  // Once the server signs properly, the adapter attaches.
  server_.CorruptChallengeSignature(false);
  ASSERT_TRUE(server_.WaitForHandshakes(1, 30000)) << adapter_->log();
  EXPECT_EQ(adapter_->Stop(), 0);
}

TEST_F(ChainApiTest, AnUnexpectedInterpreterKeyIsRefused) {
  ASSERT_TRUE(adapter_->Start({"interpreter_address=" + server_.address(),
                               "interpreter_key=" + ToHex(SigningKey::Generate().public_key())}));
  ASSERT_TRUE(WaitFor(
      [&] {
        return MetricValue(adapter_->MetricsText(),
                           std::string(kFailures) + "{reason=\"unexpected_server_key\"}") >= 1.0;
      },
      30000))
      << adapter_->log();
  EXPECT_EQ(server_.challenge_responses(), 0);
  EXPECT_EQ(server_.handshakes(), 0);
  EXPECT_EQ(adapter_->Stop(), 0);
}

}  // namespace
}  // namespace metronome::pow_adapter::testing
