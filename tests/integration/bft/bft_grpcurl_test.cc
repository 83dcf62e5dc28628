// grpcurl, a gRPC client we did not write (installed from the Go module proxy by
// `./dev deps`, passed in as METRONOME_GRPCURL), sees every service of a running
// metronome-bft through server reflection, gets SERVING from grpc.health.v1 on every
// listener, and reads a certificate from the public Checkpoints service.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "tests/integration/bft/bft_harness.h"
#include "tests/support/subprocess.h"

namespace metronome::bft::testing {
namespace {

std::string Grpcurl() {
  const char* path = std::getenv("METRONOME_GRPCURL");
  return path == nullptr ? "" : path;
}

metronome::testing::RunResult RunGrpcurl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {Grpcurl(), "-plaintext"};
  argv.insert(argv.end(), args.begin(), args.end());
  return metronome::testing::Run(argv, 30000);
}

TEST(BftGrpcurlTest, ReflectionListsEveryServiceAndHealthSaysServing) {
  ASSERT_FALSE(Grpcurl().empty()) << "METRONOME_GRPCURL is not set (./dev test --all sets it)";
  ASSERT_TRUE(std::filesystem::exists(Grpcurl())) << Grpcurl() << " missing: run ./dev deps";
  std::unique_ptr<BftTestnet> net = BftTestnet::Create(TestDirectory("grpcurl"), 4);
  ASSERT_NE(net, nullptr);
  ASSERT_TRUE(net->StartAllBfts());
  ASSERT_TRUE(net->StartInterpreter(0, {"--saturate"}));
  for (int i = 1; i < 4; ++i) ASSERT_TRUE(net->StartInterpreter(i, {"--saturate"}));

  const std::map<std::string, std::vector<std::string>> services = {
      {"federation", {"metronome.v1.Federation"}},
      {"interpreter", {"metronome.v1.Interpreter"}},
      {"public", {"metronome.v1.ConsensusStream", "metronome.v1.Checkpoints"}},
  };
  for (const auto& [listener, expected] : services) {
    const std::string address = net->address(0, listener);
    metronome::testing::RunResult list = RunGrpcurl({address, "list"});
    ASSERT_TRUE(list.exited && list.exit_code == 0) << listener << ": " << list.err;
    for (const std::string& service : expected) {
      EXPECT_NE(list.out.find(service), std::string::npos) << listener << " lacks " << service;
    }
    EXPECT_NE(list.out.find("grpc.health.v1.Health"), std::string::npos) << listener;
    EXPECT_NE(list.out.find("grpc.reflection.v1alpha.ServerReflection"), std::string::npos)
        << listener;
    // Every method of our services is described, so a user can call it without .proto files.
    for (const std::string& service : expected) {
      metronome::testing::RunResult describe = RunGrpcurl({address, "describe", service});
      EXPECT_EQ(describe.exit_code, 0) << service << ": " << describe.err;
      EXPECT_NE(describe.out.find("rpc "), std::string::npos) << describe.out;
    }
    metronome::testing::RunResult health = RunGrpcurl({address, "grpc.health.v1.Health/Check"});
    EXPECT_EQ(health.exit_code, 0) << health.err;
    EXPECT_NE(health.out.find("\"SERVING\""), std::string::npos) << listener << ": " << health.out;
  }

  // Once a certificate exists, grpcurl fetches it (JSON, canonical bytes in base64;
  // grpcurl names fields as the .proto does, not in lowerCamelCase).
  ASSERT_TRUE(PollUntil([&] { return net->LatestCheckpoint(0).has_value(); }, 120000, 500));
  metronome::testing::RunResult latest =
      RunGrpcurl({"-d", "{}", net->address(0, "public"), "metronome.v1.Checkpoints/Latest"});
  EXPECT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_NE(latest.out.find("\"encoded\""), std::string::npos) << latest.out;
  EXPECT_NE(latest.out.find("\"pow_height\""), std::string::npos) << latest.out;
}

}  // namespace
}  // namespace metronome::bft::testing
