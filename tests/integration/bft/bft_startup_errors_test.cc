// metronome-bft refuses to start on a bad key file, a key outside the federation, a
// taken port, another member's database or a database in use: exit code 2 and exactly
// one line on stderr naming the cause (main.cc's contract), nothing else.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/file_util.h"
#include "tests/integration/bft/bft_harness.h"
#include "tests/support/subprocess.h"

namespace metronome::bft::testing {
namespace {

using metronome::testing::RunResult;

constexpr int kMembers = 4;

class BftStartupErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net_ = BftTestnet::Create(TestDirectory("startup"), kMembers);
    ASSERT_NE(net_, nullptr);
  }

  // Runs member i's bft to its end (it should not get far).
  RunResult RunBft(int i, const std::vector<std::string>& overrides) {
    std::vector<std::string> argv = {kBftBinary, "--config", net_->bft_config(i)};
    for (const std::string& set : overrides) {
      argv.push_back("--set");
      argv.push_back(set);
    }
    return metronome::testing::Run(argv, 30000);
  }

  // Exit code 2 and one stderr line, "error: ..." containing every `needles` entry.
  static void ExpectOneLineNaming(const RunResult& result,
                                  const std::vector<std::string>& needles) {
    EXPECT_TRUE(result.exited) << "signal " << result.signal << "; stderr:\n" << result.err;
    EXPECT_EQ(result.exit_code, 2) << result.err;
    std::string text = result.err;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    EXPECT_EQ(text.find('\n'), std::string::npos) << "more than one line:\n" << result.err;
    EXPECT_EQ(text.rfind("error: ", 0), 0u) << text;
    for (const std::string& needle : needles) {
      EXPECT_NE(text.find(needle), std::string::npos) << "'" << needle << "' not in: " << text;
    }
  }

  std::unique_ptr<BftTestnet> net_;
};

TEST_F(BftStartupErrorsTest, UnreadableKeyFileIsNamed) {
  const std::string path = net_->directory() + "/garbage.key";
  ASSERT_TRUE(WriteNewFile(path, "this is not a key file\n", 0600).ok());
  ExpectOneLineNaming(RunBft(0, {"key_file=" + path}), {"key_file", path});
}

TEST_F(BftStartupErrorsTest, KeyOfAnotherFederationIsNamed) {
  std::unique_ptr<BftTestnet> other = BftTestnet::Create(TestDirectory("startup-other"), 1);
  ASSERT_NE(other, nullptr);
  const std::string key = other->member_dir(0) + "/bft.key";
  ExpectOneLineNaming(RunBft(0, {"key_file=" + key}), {"key_file", "not a member"});
}

TEST_F(BftStartupErrorsTest, FederationPortInUseIsNamed) {
  const int port = net_->port(0, "federation");
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  ExpectOneLineNaming(RunBft(0, {}), {"federation", std::to_string(port)});
  close(fd);
}

TEST_F(BftStartupErrorsTest, AnotherMembersDatabaseIsRefused) {
  // Member 0 makes its database and stops cleanly, so only foreignness is left.
  ASSERT_TRUE(net_->StartBft(0));
  ASSERT_EQ(net_->TerminateBft(0), 0);
  ExpectOneLineNaming(RunBft(1, {"data_dir=" + net_->data_dir(0)}),
                      {"foreign database", net_->data_dir(0)});
}

TEST_F(BftStartupErrorsTest, DatabaseInUseIsRefused) {
  ASSERT_TRUE(net_->StartBft(0));
  // Ports of its own, so that only the database is shared with the running member.
  ExpectOneLineNaming(RunBft(0, {"listen.federation=127.0.0.1:0", "listen.interpreter=127.0.0.1:0",
                                 "listen.public=127.0.0.1:0", "listen.metrics=127.0.0.1:0"}),
                      {net_->data_dir(0), "lock"});
  EXPECT_TRUE(net_->BftRunning(0));
  EXPECT_EQ(net_->TerminateBft(0), 0);
}

}  // namespace
}  // namespace metronome::bft::testing
