#include "tests/integration/bft/bft_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "common/file_util.h"
#include "common/toml_util.h"
#include "tests/support/subprocess.h"
#include "tests/support/wait_for.h"

namespace metronome::bft::testing {
namespace {

constexpr char kStartedLine[] = "\"msg\":\"metronome-bft started\"";
constexpr int kStartTimeoutMs = 30000;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The bytes of `path` from `offset` on ("" when shorter).
std::string ReadFrom(const std::string& path, size_t offset) {
  const std::string text = ReadFile(path);
  return text.size() > offset ? text.substr(offset) : "";
}

size_t FileSize(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<size_t>(size);
}

bool PortFree(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool free = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return free;
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  // A stuck server must not hang the test: reads and writes give up after 5 s.
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request =
        "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[8192];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
    }
  }
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// Whether `line` is a sample of exactly `name`.
bool IsSampleOf(const std::string& line, const std::string& name) {
  if (line.rfind(name, 0) != 0 || line.size() <= name.size()) return false;
  const char next = line[name.size()];
  return next == ' ' || next == '{';
}

std::unique_ptr<grpc::ClientContext> ContextWithDeadline(int timeout_ms) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  return context;
}

}  // namespace

bool PollUntil(const std::function<bool()>& condition, int timeout_ms, int poll_ms) {
  return metronome::testing::WaitFor(condition, timeout_ms, poll_ms);
}

int FreePortBlock(int count) {
  std::mt19937 random(
      static_cast<uint32_t>(getpid()) ^
      static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  // Below the kernel's ephemeral range (32768+), so outgoing connections never take them.
  std::uniform_int_distribution<int> start(20000, 32000 - count);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = start(random);
    bool free = true;
    for (int port = base; port < base + count && free; ++port) free = PortFree(port);
    if (free) return base;
  }
  std::cerr << "no block of " << count << " free ports\n";
  std::abort();
}

std::string TestDirectory(const std::string& name) {
  const char* root = std::getenv("TEST_TMPDIR");
  const std::string directory = std::string(root != nullptr ? root : "/tmp") + "/" + name;
  std::filesystem::remove_all(directory);
  return directory;
}

// ---- Metrics text ------------------------------------------------------------------

std::optional<double> MetricValue(const std::string& metrics_text, const std::string& name) {
  std::istringstream lines(metrics_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!IsSampleOf(line, name)) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nullopt;
}

bool MetricHasSample(const std::string& metrics_text, const std::string& name,
                     const std::string& labels) {
  std::istringstream lines(metrics_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (IsSampleOf(line, name) && line.find(labels) != std::string::npos) return true;
  }
  return false;
}

// ---- BftTestnet ----------------------------------------------------------------------

BftTestnet::BftTestnet(std::string directory, int members, int base_port)
    : directory_(std::move(directory)), members_(members), base_port_(base_port) {
  for (int i = 0; i < members_; ++i) {
    bfts_.push_back(std::make_unique<ChildProcess>());
    interpreters_.push_back(std::make_unique<ChildProcess>());
  }
}

BftTestnet::~BftTestnet() {
  // Interpreters first, so they do not log a flood of reconnects.
  for (auto& interpreter : interpreters_) interpreter->Stop(SIGKILL, 5000);
  for (auto& bft : bfts_) bft->Stop(SIGKILL, 5000);
}

std::unique_ptr<BftTestnet> BftTestnet::Create(const std::string& directory, int members) {
  const int base_port = FreePortBlock(10 * members);
  const metronome::testing::RunResult result =
      metronome::testing::Run({kCliBinary, "testnet", "--members", std::to_string(members), "--out",
                               directory, "--base-port", std::to_string(base_port)});
  if (!result.exited || result.exit_code != 0) {
    std::cerr << "metronome testnet failed: " << result.out << result.err << "\n";
    return nullptr;
  }
  return std::unique_ptr<BftTestnet>(new BftTestnet(directory, members, base_port));
}

std::string BftTestnet::member_dir(int i) const {
  return directory_ + "/member-" + std::to_string(i);
}

int BftTestnet::port(int i, const std::string& listener) const {
  absl::StatusOr<std::string> text = ReadSmallFile(bft_config(i), 1 << 20);
  if (!text.ok()) return 0;
  absl::StatusOr<toml::table> config = ParseToml(*text, bft_config(i));
  if (!config.ok()) return 0;
  const std::optional<std::string> address = (*config)["listen"][listener].value<std::string>();
  if (!address) return 0;
  return std::atoi(address->substr(address->rfind(':') + 1).c_str());
}

std::string BftTestnet::address(int i, const std::string& listener) const {
  return "127.0.0.1:" + std::to_string(port(i, listener));
}

bool BftTestnet::StartBft(int i, const std::vector<std::string>& overrides, int peers_min,
                          const std::string& binary) {
  const size_t offset = FileSize(bft_stderr_path(i));
  std::vector<std::string> argv = {binary, "--config", bft_config(i)};
  for (const std::string& set : overrides) {
    argv.push_back("--set");
    argv.push_back(set);
  }
  if (!bfts_[i]->Spawn(argv, member_dir(i) + "/bft.stdout", bft_stderr_path(i))) return false;
  bool started = false;
  const bool ready = PollUntil(
      [&] {
        if (!bfts_[i]->Running()) return true;
        if (!started) {
          started = ReadFrom(bft_stderr_path(i), offset).find(kStartedLine) != std::string::npos;
        }
        if (!started) return false;
        return peers_min <= 0 || Metric(i, "metronome_bft_peers_connected") >= peers_min;
      },
      kStartTimeoutMs, 50);
  if (ready && bfts_[i]->Running()) return true;
  std::cerr << "member " << i << " did not start (exit status " << bfts_[i]->exit_status()
            << ", running " << bfts_[i]->Running() << "); stderr:\n"
            << ReadFrom(bft_stderr_path(i), offset) << "\n";
  return false;
}

bool BftTestnet::StartAllBfts() {
  // Each waits only for its own start-up; peers connect once all are up, checked below.
  for (int i = 0; i < members_; ++i) {
    if (!StartBft(i)) return false;
  }
  for (int i = 0; i < members_; ++i) {
    const bool connected = PollUntil(
        [&] {
          return !bfts_[i]->Running() || Metric(i, "metronome_bft_peers_connected") >= members_ - 1;
        },
        kStartTimeoutMs);
    if (bfts_[i]->Running() && connected) continue;
    std::cerr << "member " << i << " is not connected to " << members_ - 1 << " peers (running "
              << bfts_[i]->Running() << ", exit status " << bfts_[i]->exit_status()
              << "); stderr:\n"
              << BftStderr(i) << "\n";
    return false;
  }
  return true;
}

int BftTestnet::KillBft(int i) { return bfts_[i]->Stop(SIGKILL); }

int BftTestnet::TerminateBft(int i) { return bfts_[i]->Stop(SIGTERM); }

std::string BftTestnet::BftStderr(int i) const { return ReadFile(bft_stderr_path(i)); }

bool BftTestnet::StartInterpreter(int i, const std::vector<std::string>& flags,
                                  bool wait_attached) {
  const std::string stdout_path = member_dir(i) + "/interpreter.stdout";
  const size_t offset = FileSize(stdout_path);
  std::vector<std::string> argv = {
      kTestInterpreterBinary, "--bft",        address(i, "interpreter"), "--key",
      interpreter_key(i),     "--federation", federation_file(),         "--certificates-dir",
      certificates_dir(i),    "--member",     std::to_string(i)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  if (!interpreters_[i]->Spawn(argv, stdout_path, member_dir(i) + "/interpreter.stderr")) {
    return false;
  }
  if (!wait_attached) return true;
  const bool attached = PollUntil(
      [&] {
        return !interpreters_[i]->Running() ||
               ReadFrom(stdout_path, offset).find("\"event\":\"attached\"") != std::string::npos;
      },
      kStartTimeoutMs, 50);
  if (attached && interpreters_[i]->Running()) return true;
  std::cerr << "interpreter " << i << " did not attach; stderr:\n"
            << ReadFile(member_dir(i) + "/interpreter.stderr") << "\n";
  return false;
}

int BftTestnet::TerminateInterpreter(int i) { return interpreters_[i]->Stop(SIGTERM); }

std::string BftTestnet::InterpreterEvents(int i) const {
  return ReadFile(member_dir(i) + "/interpreter.stdout");
}

std::string BftTestnet::Metrics(int i) const { return HttpGet(port(i, "metrics"), "/metrics"); }

double BftTestnet::Metric(int i, const std::string& name) const {
  return MetricValue(Metrics(i), name).value_or(-1);
}

std::vector<CommittedLine> BftTestnet::CommittedLines(int i) const {
  std::vector<CommittedLine> out;
  std::istringstream lines(BftStderr(i));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("\"msg\":\"committed\"") == std::string::npos) continue;
    const nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded()) continue;
    out.push_back(CommittedLine{json.value("view", uint64_t{0}), json.value("height", uint64_t{0}),
                                json.value("hash", std::string())});
  }
  return out;
}

std::optional<v1::CheckpointReply> BftTestnet::LatestCheckpoint(int i) const {
  auto stub = v1::Checkpoints::NewStub(
      grpc::CreateChannel(address(i, "public"), grpc::InsecureChannelCredentials()));
  auto context = ContextWithDeadline(5000);
  v1::CheckpointReply reply;
  if (!stub->Latest(context.get(), v1::LatestRequest(), &reply).ok()) return std::nullopt;
  return reply;
}

std::map<uint64_t, v1::CheckpointReply> BftTestnet::Certificates(int i) const {
  std::map<uint64_t, v1::CheckpointReply> out;
  const std::optional<v1::CheckpointReply> latest = LatestCheckpoint(i);
  if (!latest) return out;
  const uint64_t latest_height = latest->certificate().identity().pow_height();
  auto stub = v1::Checkpoints::NewStub(
      grpc::CreateChannel(address(i, "public"), grpc::InsecureChannelCredentials()));
  auto context = ContextWithDeadline(20000);
  v1::WatchRequest request;
  request.set_after_pow_height(0);
  std::unique_ptr<grpc::ClientReader<v1::CheckpointReply>> reader =
      stub->Watch(context.get(), request);
  v1::CheckpointReply reply;
  while (reader->Read(&reply)) {
    const uint64_t height = reply.certificate().identity().pow_height();
    out[height] = reply;
    if (height >= latest_height) break;
  }
  context->TryCancel();
  (void)reader->Finish();
  return out;
}

std::vector<v1::StreamRecord> BftTestnet::Subscribe(
    int i, uint64_t from_view, bool include_history, size_t count_max, int timeout_ms,
    const std::function<bool(const std::vector<v1::StreamRecord>&)>& enough) const {
  std::vector<v1::StreamRecord> out;
  auto stub = v1::ConsensusStream::NewStub(
      grpc::CreateChannel(address(i, "public"), grpc::InsecureChannelCredentials()));
  auto context = ContextWithDeadline(timeout_ms);
  v1::SubscribeRequest request;
  request.set_from_view(from_view);
  request.set_include_history(include_history);
  std::unique_ptr<grpc::ClientReader<v1::StreamRecord>> reader =
      stub->Subscribe(context.get(), request);
  v1::StreamRecord record;
  while (out.size() < count_max && !(enough && enough(out)) && reader->Read(&record)) {
    out.push_back(record);
  }
  context->TryCancel();
  (void)reader->Finish();
  return out;
}

}  // namespace metronome::bft::testing
