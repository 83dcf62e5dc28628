// Certificates enforced by real metronome-pow-adapter processes (DESIGN §5): a longer fork
// branching below the checkpoint is refused by every instance while one branching above
// it is adopted; replays change nothing; conflicting certificates freeze finality, export
// evidence and survive a restart until `metronome clear-freeze`.
//
// The instances do not mine: the test writes the chains itself (real proof of work, made
// with the devchain core) and delivers them over the P2P service, so every height and
// fork is exact.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/federation_file.h"
#include "common/test_support.h"
#include "services/pow_adapter/core/test_chain.h"
#include "tests/integration/pow_adapter/adapter_harness.h"
#include "tests/support/subprocess.h"

namespace metronome::pow_adapter::testing {
namespace {

using devchain::BlockEntry;
using devchain::Devchain;
using devchain::EncodeBlock;
using devchain::testing::CertifyBlock;
using devchain::testing::MakeChild;

constexpr int kInstances = 4;
constexpr char kFinality[] = "metronome.pow_adapter.finality";

class CheckpointEnforcementTest : public ::testing::Test {
 protected:
  CheckpointEnforcementTest()
      : federation_(metronome::testing::MakeTestFederation(4)),
        chain_(devchain::testing::ParamsFor(federation_.federation)) {}

  void SetUp() override {
    root_ = std::string(std::getenv("TEST_TMPDIR")) + "/" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(root_);
    const std::string federation_file = root_ + "/federation.toml";
    std::ofstream(federation_file) << FederationToToml(federation_.federation);
    for (int i = 0; i < kInstances; ++i) {
      instances_.push_back(std::make_unique<AdapterProcess>("node-" + std::to_string(i),
                                                            root_ + "/node-" + std::to_string(i),
                                                            federation_file, FreePort()));
    }
    for (int i = 0; i < kInstances; ++i) {
      std::vector<int> peers;
      for (int j = 0; j < kInstances; ++j) {
        if (j != i) peers.push_back(instances_[j]->p2p_port());
      }
      instances_[i]->WriteConfig(peers, "hash_rate_share = 0\nsync_interval_ms = 100\n");
      ASSERT_TRUE(instances_[i]->Start());
    }
    // The honest chain: 12 blocks, delivered to node-0 only; the network spreads them.
    honest_.push_back(&chain_.genesis());
    for (int i = 0; i < 12; ++i) honest_.push_back(&Add(*honest_.back(), "honest"));
    for (size_t h = 1; h < honest_.size(); ++h) {
      ASSERT_EQ(instances_[0]->Submit(EncodeBlock(honest_[h]->block)), "accepted");
    }
    ASSERT_TRUE(AllAtTip(*honest_.back()));
  }

  // A child of `parent` in the test's own tree.
  const BlockEntry& Add(const BlockEntry& parent, const std::string& miner) {
    const devchain::BlockOutcome outcome =
        chain_.AddBlock(MakeChild(chain_, parent, miner, 1), devchain::testing::kFarFutureMs);
    EXPECT_TRUE(outcome.accepted()) << outcome.reason;
    return *chain_.Find(outcome.hash);
  }

  std::vector<const BlockEntry*> Branch(const BlockEntry& from, int count,
                                        const std::string& miner) {
    std::vector<const BlockEntry*> branch;
    const BlockEntry* tip = &from;
    for (int i = 0; i < count; ++i) {
      tip = &Add(*tip, miner);
      branch.push_back(tip);
    }
    return branch;
  }

  bool AllAtTip(const BlockEntry& tip) {
    const std::string hash(tip.hash.begin(), tip.hash.end());
    return WaitFor(
        [&] {
          for (auto& instance : instances_) {
            if (instance->Status().tip_hash() != hash) return false;
          }
          return true;
        },
        30000);
  }

  void ApplyEverywhere(const Bytes& certificate, v1::CertificateOutcome expected,
                       const std::string& detail) {
    for (auto& instance : instances_) {
      const v1::DevchainApplyCertificateResponse response = instance->Apply(certificate);
      EXPECT_EQ(response.outcome(), expected) << instance->name() << ": " << response.reason();
      EXPECT_EQ(response.detail(), detail) << instance->name() << ": " << response.reason();
      if (expected != v1::CERTIFICATE_OUTCOME_INVALID) {
        EXPECT_TRUE(response.durable()) << instance->name();
      }
    }
  }

  int Health(AdapterProcess* instance) {
    return metronome::testing::Run(
               {kCliBinary, "health", instance->admin_address(), "--service", kFinality})
        .exit_code;
  }

  metronome::testing::TestFederation federation_;
  Devchain chain_;
  std::string root_;
  std::vector<std::unique_ptr<AdapterProcess>> instances_;
  std::vector<const BlockEntry*> honest_;  // honest_[h] is at height h.
};

TEST_F(CheckpointEnforcementTest, ALongerForkBelowTheCheckpointIsRefusedOneAboveIsAdopted) {
  ApplyEverywhere(CertifyBlock(federation_, *honest_[8]), v1::CERTIFICATE_OUTCOME_APPLIED,
                  "applied");
  for (auto& instance : instances_) EXPECT_EQ(instance->Status().checkpoint_height(), 8u);

  // An attacker with far more work branches at height 5, below the checkpoint.
  const std::vector<const BlockEntry*> below = Branch(*honest_[5], 15, "attacker");
  for (auto& instance : instances_) {
    for (const BlockEntry* block : below) {
      ASSERT_EQ(instance->Submit(EncodeBlock(block->block)), "accepted") << instance->name();
    }
  }
  for (auto& instance : instances_) {
    const v1::DevchainStatusResponse status = instance->Status();
    EXPECT_EQ(status.tip_hash(), std::string(honest_[12]->hash.begin(), honest_[12]->hash.end()))
        << instance->name();
    EXPECT_GE(status.reorgs_refused(), 1u) << instance->name();
    EXPECT_GE(MetricValue(instance->MetricsText(), "metronome_pow_adapter_reorgs_refused_total"),
              1.0)
        << instance->name();
    EXPECT_EQ(MetricValue(instance->MetricsText(), "metronome_pow_adapter_checkpoint_height"), 8.0);
  }

  // A longer fork branching at height 9, above the checkpoint, is an ordinary reorg; one
  // instance hears of it and the network follows.
  const std::vector<const BlockEntry*> above = Branch(*honest_[9], 10, "rival");
  for (const BlockEntry* block : above) {
    ASSERT_EQ(instances_[0]->Submit(EncodeBlock(block->block)), "accepted");
  }
  ASSERT_TRUE(AllAtTip(*above.back()));
  for (auto& instance : instances_) {
    const v1::DevchainStatusResponse status = instance->Status();
    EXPECT_GE(status.reorgs(), 1u) << instance->name();
    EXPECT_EQ(status.max_reorg_depth(), 3u) << instance->name();
    EXPECT_EQ(status.checkpoint_height(), 8u);
  }
}

TEST_F(CheckpointEnforcementTest, ReplaysChangeNothingAndConflictsFreezeUntilCleared) {
  // A side branch from height 6 that every instance knows.
  const std::vector<const BlockEntry*> side = Branch(*honest_[6], 3, "side");
  for (auto& instance : instances_) {
    for (const BlockEntry* block : side) {
      ASSERT_EQ(instance->Submit(EncodeBlock(block->block)), "accepted");
    }
  }
  const Bytes at8 = CertifyBlock(federation_, *honest_[8]);
  const Bytes at10 = CertifyBlock(federation_, *honest_[10]);
  ApplyEverywhere(at8, v1::CERTIFICATE_OUTCOME_APPLIED, "applied");
  ApplyEverywhere(at10, v1::CERTIFICATE_OUTCOME_APPLIED, "applied");
  // Replaying the older one, or the same one again, changes nothing.
  ApplyEverywhere(at8, v1::CERTIFICATE_OUTCOME_IGNORED, "older");
  ApplyEverywhere(at10, v1::CERTIFICATE_OUTCOME_DUPLICATE, "duplicate");
  for (auto& instance : instances_) {
    const v1::DevchainStatusResponse status = instance->Status();
    EXPECT_EQ(status.checkpoint_height(), 10u);
    EXPECT_EQ(status.certificates_applied(), 2u);
    EXPECT_EQ(status.certificates_ignored(), 2u);
    EXPECT_FALSE(status.frozen());
    EXPECT_EQ(Health(instance.get()), 0);
  }

  // A valid certificate for the side branch conflicts: frozen at the common ancestor.
  ApplyEverywhere(CertifyBlock(federation_, *side.back()), v1::CERTIFICATE_OUTCOME_CONFLICT,
                  "conflict");
  for (auto& instance : instances_) {
    const v1::DevchainStatusResponse status = instance->Status();
    EXPECT_TRUE(status.frozen());
    EXPECT_EQ(status.checkpoint_height(), 6u);
    ASSERT_EQ(status.freeze_evidence_path(), instance->data_dir() + "/freeze-evidence.bin");
    std::ifstream file(status.freeze_evidence_path(), std::ios::binary);
    const std::string exported((std::istreambuf_iterator<char>(file)),
                               std::istreambuf_iterator<char>());
    EXPECT_EQ(exported, status.freeze_evidence());
    EXPECT_EQ(MetricValue(instance->MetricsText(), "metronome_pow_adapter_finality_frozen"), 1.0);
    EXPECT_EQ(Health(instance.get()), 1);  // NOT_SERVING
  }
  // While frozen, even a certificate extending the chain is counted, not applied.
  ApplyEverywhere(CertifyBlock(federation_, *honest_[11]), v1::CERTIFICATE_OUTCOME_IGNORED,
                  "frozen");

  // The freeze is durable: a restart keeps it.
  AdapterProcess* restarted = instances_[1].get();
  EXPECT_EQ(restarted->Stop(), 0);
  ASSERT_TRUE(restarted->Start());
  EXPECT_TRUE(restarted->Status().frozen());
  EXPECT_EQ(Health(restarted), 1);

  // clear-freeze wants this freeze's evidence, not any file.
  const std::string wrong = root_ + "/wrong-evidence.bin";
  std::ofstream(wrong, std::ios::binary) << std::string("\x66\x01\0\0\0\0\0\0\0\0", 10);
  for (auto& instance : instances_) {
    const metronome::testing::RunResult rejected = metronome::testing::Run(
        {kCliBinary, "clear-freeze", "--evidence", wrong, "--address", instance->admin_address()});
    EXPECT_EQ(rejected.exit_code, 1) << rejected.err;
    const std::string evidence = instance->data_dir() + "/freeze-evidence.bin";
    const metronome::testing::RunResult cleared =
        metronome::testing::Run({kCliBinary, "clear-freeze", "--evidence", evidence, "--address",
                                 instance->admin_address()});
    EXPECT_EQ(cleared.exit_code, 0) << cleared.err;
    EXPECT_FALSE(instance->Status().frozen());
    EXPECT_EQ(Health(instance.get()), 0);
  }
  // Certificates that extend the remaining checkpoint apply again.
  ApplyEverywhere(CertifyBlock(federation_, *honest_[11]), v1::CERTIFICATE_OUTCOME_APPLIED,
                  "applied");
}

}  // namespace
}  // namespace metronome::pow_adapter::testing
