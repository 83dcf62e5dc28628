// The devnet binary end to end (issue: checkpointing end to end): a 4-member federation
// on the embedded devchain, run the way `./dev up` runs it.
// - It issues at least 5 successive certificates; each verifies offline; every
//   devchain's best chain contains every certified block.
// - SIGINT stops every process it started and it exits 0.
// - An interpreter killed for 20 s: its member votes for no block it cannot validate,
//   the others go on, and once it is back the certificates issued meanwhile reach its
//   chain.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/block.h"
#include "common/canonical.h"
#include "common/child_process.h"
#include "common/proto_bytes.h"
#include "common/quorum_certificate.h"
#include "metronome/v1/checkpoints.grpc.pb.h"
#include "metronome/v1/consensus_stream.grpc.pb.h"
#include "metronome/v1/devchain.grpc.pb.h"
#include "services/pow_adapter/core/devchain_block.h"
#include "tests/integration/bft/bft_harness.h"
#include "tests/support/subprocess.h"

namespace metronome::devnet {
namespace {

using bft::testing::FreePortBlock;
using bft::testing::PollUntil;
using bft::testing::TestDirectory;

constexpr char kDevnet[] = "tools/devnet/devnet";
constexpr char kCli[] = "tools/metronome/metronome";
constexpr char kInterpreter[] = "services/interpreter/metronome-interpreter";
constexpr int kMembers = 4;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

uint64_t UnixMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::shared_ptr<grpc::Channel> Channel(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureChannelCredentials());
}

// Every process whose command line names `needle` (our children name their run dir).
std::vector<pid_t> ProcessesNaming(const std::string& needle) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(needle) != std::string::npos) found.push_back(std::stoi(name));
  }
  return found;
}

class DevnetTest : public ::testing::Test {
 protected:
  void StartDevnet(const std::string& name) {
    run_dir_ = TestDirectory(name);
    std::filesystem::create_directories(run_dir_);
    base_port_ = FreePortBlock(10 * kMembers);
    ASSERT_TRUE(devnet_.Spawn(
        {kDevnet, "--members", std::to_string(kMembers), "--run-dir", run_dir_ + "/run",
         "--base-port", std::to_string(base_port_), "--block-interval-ms", "500"},
        run_dir_ + "/devnet.out", run_dir_ + "/devnet.err"));
  }
  std::string Output() const { return ReadFile(run_dir_ + "/devnet.out"); }
  int Port(int member, int offset) const { return base_port_ + 10 * member + offset; }
  std::string MemberDir(int member) const {
    return run_dir_ + "/run/net/member-" + std::to_string(member);
  }

  // Certificates from member `member`'s Checkpoints service, by PoW height.
  std::map<uint64_t, v1::CheckpointReply> Certificates(int member) {
    auto stub = v1::Checkpoints::NewStub(Channel(Port(member, 2)));
    std::map<uint64_t, v1::CheckpointReply> out;
    v1::CheckpointReply latest;
    {
      grpc::ClientContext context;
      if (!stub->Latest(&context, v1::LatestRequest(), &latest).ok()) return out;
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto reader = stub->Watch(&context, v1::WatchRequest());
    v1::CheckpointReply reply;
    while (reader->Read(&reply)) {
      const uint64_t height = reply.certificate().identity().pow_height();
      out[height] = reply;
      if (height >= latest.certificate().identity().pow_height()) break;
    }
    context.TryCancel();
    return out;
  }

  v1::DevchainStatusResponse AdapterStatus(int member) {
    const int port = AdminPort(member);
    v1::DevchainStatusResponse status;
    if (port == 0) return status;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::DevchainAdmin::NewStub(Channel(port))
        ->Status(&context, v1::DevchainStatusRequest(), &status);
    return status;
  }

  int AdminPort(int member) {
    const std::string text = ReadFile(MemberDir(member) + "/data/pow-adapter/ports.json");
    const size_t at = text.find("\"admin\"");
    if (at == std::string::npos) return 0;
    return std::atoi(text.c_str() + text.find(':', at) + 1);
  }

  // Member `member`'s best chain, height -> block hash (from genesis, via P2P).
  std::map<uint64_t, Bytes> BestChain(int member) {
    auto stub = v1::Devchain::NewStub(Channel(Port(member, 6)));
    std::map<uint64_t, Bytes> chain;
    v1::DevchainGetHeadersRequest request;
    request.set_count_max(2000);
    grpc::ClientContext context;
    v1::DevchainGetHeadersResponse response;
    if (!stub->GetHeaders(&context, request, &response).ok()) return chain;
    for (const std::string& encoded : response.headers()) {
      const Bytes bytes(encoded.begin(), encoded.end());
      Reader reader(bytes);
      const devchain::DevchainHeader header = devchain::DecodeHeader(&reader);
      if (!reader.ok()) continue;
      const Hash256 hash = devchain::BlockHash(header);
      chain[header.height] = Bytes(hash.begin(), hash.end());
    }
    return chain;
  }

  void ExpectStopsCleanlyOnSigint() {
    ASSERT_TRUE(devnet_.Running());
    EXPECT_EQ(devnet_.Stop(SIGINT, 60000), 0) << Output();
    EXPECT_TRUE(ProcessesNaming(run_dir_ + "/run").empty()) << "processes left behind after SIGINT";
  }

  std::string run_dir_;
  int base_port_ = 0;
  ChildProcess devnet_;
};

TEST_F(DevnetTest, CertifiesFiveCheckpointsThatVerifyAndEveryChainKeepsAndStopsOnSigint) {
  ASSERT_NO_FATAL_FAILURE(StartDevnet("certify"));
  auto certificate_lines = [&] {
    const std::string out = Output();
    size_t count = 0;
    for (size_t at = out.find("certificate height="); at != std::string::npos;
         at = out.find("certificate height=", at + 1)) {
      ++count;
    }
    return count;
  };
  ASSERT_TRUE(PollUntil([&] { return certificate_lines() >= 5; }, 180000, 500)) << Output();

  const std::map<uint64_t, v1::CheckpointReply> certificates = Certificates(0);
  ASSERT_GE(certificates.size(), 5u);
  const std::string federation = run_dir_ + "/run/net/federation.toml";
  for (const auto& [height, reply] : certificates) {
    const std::string path = run_dir_ + "/cert-" + std::to_string(height) + ".bin";
    std::ofstream(path, std::ios::binary) << reply.certificate().encoded();
    const metronome::testing::RunResult verified =
        metronome::testing::Run({kCli, "verify-certificate", path, "--federation", federation});
    EXPECT_EQ(verified.exit_code, 0)
        << "pow height " << height << ": " << verified.out << verified.err;
  }
  // Successive: every certificate extends the one before (heights strictly increase by
  // the interval, all on one chain, checked below against every devchain).
  for (int member = 0; member < kMembers; ++member) {
    const std::map<uint64_t, Bytes> chain = BestChain(member);
    for (const auto& [height, reply] : certificates) {
      auto block = chain.find(height);
      ASSERT_NE(block, chain.end()) << "member " << member << " chain lacks height " << height;
      EXPECT_EQ(StringOf(block->second), reply.certificate().identity().pow_block_hash())
          << "member " << member << "'s best chain lacks the certified block at " << height;
    }
  }
  ExpectStopsCleanlyOnSigint();
}

TEST_F(DevnetTest, AnInterpreterDownForTwentySecondsValidatesNothingAndLosesNoCertificate) {
  ASSERT_NO_FATAL_FAILURE(StartDevnet("interpreter-down"));
  ASSERT_TRUE(PollUntil([&] { return Certificates(0).size() >= 2; }, 180000, 500)) << Output();
  const int victim = 1;
  const std::vector<pid_t> interpreter = ProcessesNaming(MemberDir(victim) + "/interpreter.toml");
  ASSERT_EQ(interpreter.size(), 1u);
  const uint64_t killed_unix_ms = UnixMs();
  ASSERT_EQ(kill(interpreter[0], SIGKILL), 0);
  const auto killed_at = std::chrono::steady_clock::now();
  const uint64_t height_at_kill = Certificates(0).rbegin()->first;

  // Twenty seconds down, by design; meanwhile the others keep certifying.
  ASSERT_TRUE(PollUntil(
      [&] {
        return std::chrono::steady_clock::now() - killed_at >= std::chrono::seconds(20) &&
               Certificates(0).rbegin()->first > height_at_kill;
      },
      120000, 500))
      << "no certificate while one interpreter was down";
  const uint64_t issued_meanwhile = Certificates(0).rbegin()->first;

  // Back: the certificates issued meanwhile reach its chain.
  metronome::ChildProcess restarted;
  ASSERT_TRUE(restarted.Spawn({kInterpreter, "--config", MemberDir(victim) + "/interpreter.toml"},
                              MemberDir(victim) + "/interpreter.log",
                              MemberDir(victim) + "/interpreter.log"));
  const uint64_t restarted_unix_ms = UnixMs();
  EXPECT_TRUE(PollUntil(
      [&] { return AdapterStatus(victim).checkpoint_height() >= issued_meanwhile; }, 120000, 500))
      << "member " << victim << "'s chain is at checkpoint "
      << AdapterStatus(victim).checkpoint_height() << ", certified meanwhile: " << issued_meanwhile;
  // While its interpreter was down, its bft voted for no block carrying a candidate:
  // the headers it saw in that window (with the time it saw them) against the votes in
  // its own-signature log.
  {
    auto stub = v1::ConsensusStream::NewStub(Channel(Port(victim, 2)));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::SubscribeRequest request;
    request.set_include_history(true);
    auto reader = stub->Subscribe(&context, request);
    const Hash256 empty_root = ContentRoot(Body{});
    std::set<Hash256> candidates_while_down;
    std::set<Hash256> prepare_votes;
    v1::StreamRecord record;
    while (reader->Read(&record)) {
      if (record.has_header()) {
        const Bytes bytes = BytesOf(record.header());
        Reader header_reader(bytes);
        const Header header = DecodeHeader(&header_reader);
        if (header_reader.ok() && header.content_root != empty_root &&
            record.observed_unix_ms() > killed_unix_ms + 1000 &&
            record.observed_unix_ms() < restarted_unix_ms) {
          candidates_while_down.insert(HeaderHash(header));
        }
      } else if (record.source() == v1::StreamRecord::SOURCE_OWN && record.has_artefact()) {
        const Bytes bytes = BytesOf(record.artefact().payload());
        if (!bytes.empty() && bytes[0] == static_cast<uint8_t>(ArtefactKind::kVote)) {
          Reader vote_reader(bytes);
          const VoteStatement vote = DecodeVoteStatement(&vote_reader);
          if (vote_reader.ok() && vote.phase == Phase::kPrepare) {
            prepare_votes.insert(vote.block_hash);
          }
        }
      }
    }
    EXPECT_FALSE(candidates_while_down.empty()) << "no candidate was proposed in the window";
    for (const Hash256& block : candidates_while_down) {
      EXPECT_EQ(prepare_votes.count(block), 0u)
          << "voted for candidate block " << ToHex(block) << " it could not validate";
    }
  }

  EXPECT_EQ(restarted.Stop(SIGTERM), 0);
  ExpectStopsCleanlyOnSigint();
}

}  // namespace
}  // namespace metronome::devnet
