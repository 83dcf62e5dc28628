// Four real metronome-bft members, each with a test interpreter that keeps a candidate
// pending, decide blocks and issue certificates: every member commits the same chain,
// serves the same certificates, and every certificate its interpreter stored verifies
// offline with `metronome verify-certificate`.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "common/canonical.h"
#include "common/checkpoint_certificate.h"
#include "common/file_util.h"
#include "tests/integration/bft/bft_harness.h"
#include "tests/support/subprocess.h"

namespace metronome::bft::testing {
namespace {

constexpr int kMembers = 4;
constexpr double kCommitsMin = 50;
constexpr size_t kCertificatesMin = 3;

std::string CommitsByMember(BftTestnet* net) {
  std::string text;
  for (int i = 0; i < net->n(); ++i) {
    text += " member " + std::to_string(i) + ": " +
            std::to_string(net->Metric(i, "metronome_bft_commits_total"));
  }
  return text;
}

TEST(BftCommitTest, FourMembersCommitOneChainAndIssueCertificatesThatVerify) {
  std::unique_ptr<BftTestnet> net = BftTestnet::Create(TestDirectory("commit"), kMembers);
  ASSERT_NE(net, nullptr);
  ASSERT_TRUE(net->StartAllBfts());
  for (int i = 0; i < kMembers; ++i) ASSERT_TRUE(net->StartInterpreter(i, {"--saturate"}));

  ASSERT_TRUE(PollUntil(
      [&] {
        for (int i = 0; i < kMembers; ++i) {
          if (net->Metric(i, "metronome_bft_commits_total") < kCommitsMin) return false;
        }
        return true;
      },
      240000, 500))
      << "commits:" << CommitsByMember(net.get());

  // No more candidates: once every member reports the same latest certificate, the
  // certificate sets are final and can be compared whole.
  for (int i = 0; i < kMembers; ++i) EXPECT_EQ(net->TerminateInterpreter(i), 0);
  uint64_t latest_height = 0;
  ASSERT_TRUE(PollUntil(
      [&] {
        std::set<uint64_t> heights;
        for (int i = 0; i < kMembers; ++i) {
          std::optional<v1::CheckpointReply> latest = net->LatestCheckpoint(i);
          if (!latest) return false;
          heights.insert(latest->certificate().identity().pow_height());
        }
        latest_height = *heights.begin();
        return heights.size() == 1;
      },
      30000, 500));
  EXPECT_GE(latest_height, kCertificatesMin);

  // The same certificates (identity, bytes, BFT block) at every PoW height on every
  // member.
  std::vector<std::map<uint64_t, v1::CheckpointReply>> served(kMembers);
  for (int i = 0; i < kMembers; ++i) served[i] = net->Certificates(i);
  const std::map<uint64_t, v1::CheckpointReply>& reference = served[0];
  EXPECT_GE(reference.size(), kCertificatesMin);
  EXPECT_EQ(reference.rbegin()->first, latest_height);
  for (int i = 1; i < kMembers; ++i) {
    ASSERT_EQ(served[i].size(), reference.size()) << "member " << i;
    for (const auto& [height, reply] : reference) {
      auto other = served[i].find(height);
      ASSERT_NE(other, served[i].end()) << "member " << i << " lacks pow height " << height;
      const v1::Certificate& mine = other->second.certificate();
      EXPECT_EQ(mine.identity().SerializeAsString(),
                reply.certificate().identity().SerializeAsString())
          << "member " << i << " pow height " << height;
      EXPECT_EQ(mine.encoded(), reply.certificate().encoded())
          << "member " << i << " pow height " << height;
      EXPECT_EQ(other->second.bft_block_hash(), reply.bft_block_hash())
          << "member " << i << " pow height " << height;
    }
  }

  // The same block hash at every height two members both logged as committed.
  std::vector<std::map<uint64_t, std::string>> committed(kMembers);
  for (int i = 0; i < kMembers; ++i) {
    for (const CommittedLine& line : net->CommittedLines(i)) committed[i][line.height] = line.hash;
    EXPECT_GE(committed[i].size(), 10u) << "member " << i;
  }
  size_t compared = 0;
  for (int i = 1; i < kMembers; ++i) {
    for (const auto& [height, hash] : committed[0]) {
      auto other = committed[i].find(height);
      if (other == committed[i].end()) continue;
      ++compared;
      EXPECT_EQ(other->second, hash) << "member " << i << " height " << height;
    }
  }
  EXPECT_GE(compared, 30u);

  // Every certificate an interpreter stored verifies against the testnet's federation
  // and is the one its bft serves for that height.
  for (int i = 0; i < kMembers; ++i) {
    size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(net->certificates_dir(i))) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("cert-", 0) != 0) continue;
      ++files;
      const metronome::testing::RunResult verified =
          metronome::testing::Run({kCliBinary, "verify-certificate", entry.path().string(),
                                   "--federation", net->federation_file()});
      EXPECT_EQ(verified.exit_code, 0) << entry.path() << ": " << verified.out << verified.err;
      absl::StatusOr<std::string> text = ReadSmallFile(entry.path().string(), 1 << 20);
      ASSERT_TRUE(text.ok()) << text.status();
      const Bytes bytes(text->begin(), text->end());
      Reader reader(bytes);
      const CheckpointCertificate certificate = DecodeCheckpointCertificate(&reader);
      ASSERT_TRUE(reader.ok()) << entry.path() << ": " << reader.error();
      const CheckpointIdentity identity = IdentityOf(certificate);
      EXPECT_EQ(name, "cert-" + std::to_string(identity.pow_height) + ".bin");
      auto bft = served[i].find(identity.pow_height);
      ASSERT_NE(bft, served[i].end()) << entry.path();
      EXPECT_EQ(bft->second.certificate().identity().pow_block_hash(),
                std::string(identity.pow_block_hash.begin(), identity.pow_block_hash.end()))
          << entry.path();
      EXPECT_EQ(*text, bft->second.certificate().encoded()) << entry.path();
    }
    EXPECT_GE(files, kCertificatesMin) << "member " << i;
    EXPECT_EQ(net->InterpreterEvents(i).find("certificate_invalid"), std::string::npos)
        << "member " << i;
  }

  // The ConsensusStream replays this member's own signatures (its whole log first, so
  // from a recent view) and the headers it saw.
  const double view = net->Metric(0, "metronome_bft_view");
  ASSERT_GT(view, 20);
  const uint64_t from_view = static_cast<uint64_t>(view) - 20;
  auto is_own_artefact = [](const v1::StreamRecord& record) {
    return record.source() == v1::StreamRecord::SOURCE_OWN && record.has_artefact();
  };
  auto is_header = [](const v1::StreamRecord& record) {
    return record.item_case() == v1::StreamRecord::kHeader;
  };
  const std::vector<v1::StreamRecord> records = net->Subscribe(
      0, from_view, true, 10000, 20000, [&](const std::vector<v1::StreamRecord>& so_far) {
        return std::any_of(so_far.begin(), so_far.end(), is_own_artefact) &&
               std::any_of(so_far.begin(), so_far.end(), is_header);
      });
  ASSERT_FALSE(records.empty());
  EXPECT_TRUE(std::any_of(records.begin(), records.end(), is_own_artefact));
  EXPECT_TRUE(std::any_of(records.begin(), records.end(), is_header));
  for (const v1::StreamRecord& record : records) {
    EXPECT_EQ(record.observer_public_key(), records.front().observer_public_key());
    EXPECT_GE(record.view(), from_view);
  }

  for (int i = 0; i < kMembers; ++i) EXPECT_TRUE(net->BftRunning(i)) << "member " << i;
}

}  // namespace
}  // namespace metronome::bft::testing
