// Runs the real `metronome` binary: testnet generation, federation files, certificate
// verification against real keys and signatures, and its behaviour on bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/checkpoint_certificate.h"
#include "common/federation_file.h"
#include "common/file_util.h"
#include "common/key_file.h"
#include "common/server.h"
#include "common/test_support.h"
#include "tests/support/subprocess.h"

namespace metronome {
namespace {

using testing::Run;
using testing::RunResult;

const std::string kCli = "tools/metronome/metronome";

std::string TempDir() { return getenv("TEST_TMPDIR"); }

RunResult Cli(std::vector<std::string> args) {
  args.insert(args.begin(), kCli);
  return Run(args);
}

void WriteBytes(const std::string& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

// A one-line reason: a rejection is reported on exactly one line, and the process
// exited normally (no crash).
void ExpectRejectedWithOneLine(const RunResult& result, const std::string& what) {
  ASSERT_TRUE(result.exited) << what << ": killed by signal " << result.signal;
  EXPECT_EQ(result.exit_code, 1) << what;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1)
      << what << ": " << result.err;
  EXPECT_EQ(result.err.rfind("rejected: ", 0), 0u) << what << ": " << result.err;
}

class CliTest : public ::testing::Test {
 protected:
  // A 4-member testnet made by the CLI, and a certificate signed by q of its members'
  // real bft keys.
  void SetUp() override {
    net_ = TempDir() + "/net-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    const RunResult result = Cli({"testnet", "--members", "4", "--out", net_});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    federation_path_ = net_ + "/federation.toml";
    absl::StatusOr<Federation> federation = ReadFederationFile(federation_path_);
    ASSERT_TRUE(federation.ok()) << federation.status();
    federation_ = *federation;
    std::vector<std::pair<uint32_t, SigningKey>> signers;
    for (uint32_t i = 0; i < federation_->q(); ++i) {
      absl::StatusOr<SigningKey> key =
          ReadKeyFile(net_ + "/member-" + std::to_string(i) + "/bft.key");
      ASSERT_TRUE(key.ok()) << key.status();
      ASSERT_EQ(federation_->IndexOf(key->public_key()), i);
      signers.emplace_back(i, *key);
    }
    certificate_ = EncodeCheckpointCertificate(testing::MakeSignedCertificate(
        *federation_, signers, testing::MakeTestCandidate("devchain", 1440)));
    certificate_path_ = net_ + "/certificate.bin";
    WriteBytes(certificate_path_, certificate_);
  }

  std::string net_;
  std::string federation_path_;
  std::optional<Federation> federation_;
  Bytes certificate_;
  std::string certificate_path_;
};

TEST_F(CliTest, TestnetWritesKeysConfigsAndFederation) {
  EXPECT_EQ(federation_->n(), 4u);
  EXPECT_EQ(federation_->q(), 3u);
  for (const char* file : {"bft.key", "interpreter.key", "adapter.key", "bft.toml",
                           "interpreter.toml", "pow-adapter.toml"}) {
    EXPECT_TRUE(ReadSmallFile(net_ + "/member-3/" + file, 1 << 20).ok()) << file;
  }
  // A second run into the same directory must not touch the keys.
  const RunResult again = Cli({"testnet", "--members", "4", "--out", net_});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(ReadFederationFile(federation_path_)->id(), federation_->id());
}

TEST_F(CliTest, VerifyCertificateAcceptsRealCertificate) {
  const RunResult result =
      Cli({"verify-certificate", certificate_path_, "--federation", federation_path_});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("valid: chain=devchain pow_height=1440"), std::string::npos)
      << result.out;
}

TEST_F(CliTest, VerifyCertificateRejectsEverySingleByteMutation) {
  const std::string mutated_path = net_ + "/mutated.bin";
  for (size_t i = 0; i < certificate_.size(); ++i) {
    Bytes mutated = certificate_;
    mutated[i] ^= 0x01;
    WriteBytes(mutated_path, mutated);
    const RunResult result =
        Cli({"verify-certificate", mutated_path, "--federation", federation_path_});
    ExpectRejectedWithOneLine(result, "byte " + std::to_string(i));
    if (HasFatalFailure() || result.exit_code != 1) return;
  }
}

TEST_F(CliTest, VerifyCertificateRejectsGarbageEmptyAndForeignFederation) {
  WriteBytes(net_ + "/garbage.bin", BytesOf("this is not a certificate at all"));
  WriteBytes(net_ + "/empty.bin", Bytes{});
  ExpectRejectedWithOneLine(
      Cli({"verify-certificate", net_ + "/garbage.bin", "--federation", federation_path_}),
      "garbage");
  ExpectRejectedWithOneLine(
      Cli({"verify-certificate", net_ + "/empty.bin", "--federation", federation_path_}), "empty");
  ExpectRejectedWithOneLine(
      Cli({"verify-certificate", certificate_path_, "--federation", net_ + "/garbage.bin"}),
      "garbage federation");
  ExpectRejectedWithOneLine(
      Cli({"verify-certificate", certificate_path_, "--federation", net_ + "/absent.toml"}),
      "missing federation");
  const std::string other = TempDir() + "/other-net";
  ASSERT_EQ(Cli({"testnet", "--members", "4", "--out", other}).exit_code, 0);
  ExpectRejectedWithOneLine(
      Cli({"verify-certificate", certificate_path_, "--federation", other + "/federation.toml"}),
      "another federation");
}

std::vector<std::string> MemberArgs(const std::vector<PublicKey>& members) {
  std::vector<std::string> args;
  for (const PublicKey& key : members) {
    args.push_back("--member");
    args.push_back(ToHex(key));
  }
  return args;
}

nlohmann::json CreateFederation(const std::string& path, const std::vector<PublicKey>& members,
                                const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"federation", "create", "--chain-id", "devchain", "--out", path};
  const std::vector<std::string> member_args = MemberArgs(members);
  args.insert(args.end(), member_args.begin(), member_args.end());
  args.insert(args.end(), extra.begin(), extra.end());
  const RunResult result = Cli(args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return nlohmann::json::parse(result.out);
}

TEST_F(CliTest, FederationCreateFingerprintIgnoresKeyOrder) {
  std::vector<PublicKey> members = federation_->members();
  const nlohmann::json first = CreateFederation(net_ + "/a.toml", members, {});
  std::reverse(members.begin(), members.end());
  const nlohmann::json second = CreateFederation(net_ + "/b.toml", members, {});
  std::rotate(members.begin(), members.begin() + 1, members.end());
  const nlohmann::json third = CreateFederation(net_ + "/c.toml", members, {});
  EXPECT_EQ(first["fingerprint"], second["fingerprint"]);
  EXPECT_EQ(first["fingerprint"], third["fingerprint"]);
}

TEST_F(CliTest, FederationsDifferingOnlyInFOrOrderHaveDistinctIdsAndRejectEachOthersCertificates) {
  // The testnet's own federation keeps member order and f = 1.
  std::vector<PublicKey> reordered = federation_->members();
  std::swap(reordered[0], reordered[1]);
  const nlohmann::json other_order =
      CreateFederation(net_ + "/order.toml", reordered, {"--keep-order", "--f", "1"});
  const nlohmann::json other_f =
      CreateFederation(net_ + "/f0.toml", federation_->members(), {"--keep-order", "--f", "0"});
  const nlohmann::json same =
      CreateFederation(net_ + "/same.toml", federation_->members(), {"--keep-order", "--f", "1"});
  EXPECT_EQ(same["federation_id"], ToHex(federation_->id()));
  EXPECT_NE(other_order["federation_id"], ToHex(federation_->id()));
  EXPECT_NE(other_f["federation_id"], ToHex(federation_->id()));
  EXPECT_NE(other_order["federation_id"], other_f["federation_id"]);
  for (const char* name : {"/order.toml", "/f0.toml"}) {
    ExpectRejectedWithOneLine(
        Cli({"verify-certificate", certificate_path_, "--federation", net_ + name}), name);
  }
  EXPECT_EQ(
      Cli({"verify-certificate", certificate_path_, "--federation", net_ + "/same.toml"}).exit_code,
      0);
}

TEST_F(CliTest, KeygenRefusesToOverwrite) {
  const std::string path = net_ + "/new.key";
  const RunResult first = Cli({"keygen", "--out", path});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const nlohmann::json json = nlohmann::json::parse(first.out);
  EXPECT_EQ(json["public_key"], ToHex(ReadKeyFile(path)->public_key()));
  const RunResult second = Cli({"keygen", "--out", path});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_EQ(json["public_key"], ToHex(ReadKeyFile(path)->public_key()));
}

TEST_F(CliTest, InspectDescribesCertificateAndFederation) {
  const RunResult result = Cli({"inspect", certificate_path_});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["kind"], "checkpoint_certificate");
  EXPECT_EQ(json["certificate"]["candidate"]["pow_height"], 1440);
  EXPECT_EQ(json["certificate"]["commit_qc"]["signers"], nlohmann::json::array({0, 1, 2}));
  WriteBytes(net_ + "/federation.bin", federation_->encoded());
  const nlohmann::json federation =
      nlohmann::json::parse(Cli({"inspect", net_ + "/federation.bin"}).out);
  EXPECT_EQ(federation["federation"]["federation_id"], ToHex(federation_->id()));
  WriteBytes(net_ + "/garbage.bin", BytesOf("\x05garbage"));
  ExpectRejectedWithOneLine(Cli({"inspect", net_ + "/garbage.bin"}), "inspect garbage");
}

TEST_F(CliTest, VersionAndHealthOfNothing) {
  const RunResult version = Cli({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("metronome ", 0), 0u) << version.out;
  const RunResult health = Cli({"health", "127.0.0.1:1", "--timeout-ms", "500"});
  EXPECT_EQ(health.exit_code, 2);
  EXPECT_NE(health.err.find("unreachable"), std::string::npos);
}

TEST(CliHealthTest, ReportsServingAndNotServing) {
  ServerSpec spec;
  spec.service_name = "probe-target";
  spec.listeners = {{"public", "127.0.0.1:0"}};
  absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServer(spec);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = "127.0.0.1:" + std::to_string((*server)->ports().at("public"));
  RunResult result = Cli({"health", address});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "SERVING\n");
  (*server)->SetServing(false);
  result = Cli({"health", address});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(result.out, "NOT_SERVING\n");
}

}  // namespace
}  // namespace metronome
