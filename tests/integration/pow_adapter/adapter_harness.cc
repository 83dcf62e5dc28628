#include "tests/integration/pow_adapter/adapter_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/key_file.h"

extern char** environ;

namespace metronome::pow_adapter::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Quoted(const std::string& text) { return "\"" + text + "\""; }

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
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
  return response;
}

}  // namespace

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    socklen_t length = sizeof(address);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

AdapterProcess::AdapterProcess(std::string name, std::string directory, std::string federation_file,
                               int p2p_port)
    : name_(std::move(name)),
      directory_(std::move(directory)),
      federation_file_(std::move(federation_file)),
      p2p_port_(p2p_port) {
  std::filesystem::create_directories(directory_);
  (void)WriteKeyFile(directory_ + "/adapter.key", SigningKey::Generate());
}

AdapterProcess::~AdapterProcess() {
  if (pid_ > 0 && Running()) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void AdapterProcess::WriteConfig(const std::vector<int>& peer_ports,
                                 const std::string& devchain_lines) {
  std::string peers;
  for (int port : peer_ports) peers += Quoted("127.0.0.1:" + std::to_string(port)) + ", ";
  std::ofstream(directory_ + "/pow-adapter.toml", std::ios::trunc)
      << "federation_file = " << Quoted(federation_file_) << "\n"
      << "key_file = " << Quoted(directory_ + "/adapter.key") << "\n"
      << "data_dir = " << Quoted(data_dir()) << "\n"
      << "backend = \"devchain\"\n\n"
      << "[listen]\n"
      << "devchain_p2p = " << Quoted("127.0.0.1:" + std::to_string(p2p_port_)) << "\n"
      << "admin = \"127.0.0.1:0\"\nmetrics = \"127.0.0.1:0\"\n\n"
      << "[devchain]\n"
      << "peers = [" << peers << "]\n"
      << "miner_id = " << Quoted(name_) << "\n"
      << devchain_lines << "\n";
}

bool AdapterProcess::Start(const std::vector<std::string>& overrides) {
  std::remove((data_dir() + "/ports.json").c_str());
  std::vector<std::string> argv = {kAdapterBinary, "--config", directory_ + "/pow-adapter.toml"};
  for (const std::string& set : overrides) {
    argv.push_back("--set");
    argv.push_back(set);
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log_path = directory_ + "/adapter.log";
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  const int rc = posix_spawn(&pid_, kAdapterBinary, &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::cerr << name_ << ": cannot spawn " << kAdapterBinary << "\n";
    return false;
  }
  const bool ready = WaitFor(
      [&] {
        if (!Running()) return true;  // Stop waiting; reported below.
        const std::string text = ReadFile(data_dir() + "/ports.json");
        if (text.empty()) return false;
        const nlohmann::json ports = nlohmann::json::parse(text, nullptr, false);
        if (ports.is_discarded() || !ports.contains("admin")) return false;
        admin_port_ = ports["admin"];
        metrics_port_ = ports["metrics"];
        return true;
      },
      20000);
  if (!ready || !Running()) {
    std::cerr << name_ << " did not start; log:\n" << log() << "\n";
    return false;
  }
  admin_ = v1::DevchainAdmin::NewStub(
      grpc::CreateChannel(admin_address(), grpc::InsecureChannelCredentials()));
  p2p_ = v1::Devchain::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(p2p_port_),
                                                   grpc::InsecureChannelCredentials()));
  return true;
}

int AdapterProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  const bool ended = WaitFor(
      [&] {
        const pid_t done = waitpid(pid_, &status, WNOHANG);
        return done == pid_;
      },
      15000);
  if (!ended) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return -SIGKILL;
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

bool AdapterProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    std::cerr << name_ << " exited: status " << status << "\n";
    pid_ = -1;
    return false;
  }
  return true;
}

std::string AdapterProcess::log() const { return ReadFile(directory_ + "/adapter.log"); }

v1::DevchainStatusResponse AdapterProcess::Status() {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::DevchainStatusResponse response;
  if (!admin_ || !admin_->Status(&context, v1::DevchainStatusRequest(), &response).ok()) {
    return v1::DevchainStatusResponse();
  }
  return response;
}

v1::DevchainApplyCertificateResponse AdapterProcess::Apply(const Bytes& certificate) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::DevchainApplyCertificateRequest request;
  request.mutable_certificate()->set_encoded(std::string(certificate.begin(), certificate.end()));
  v1::DevchainApplyCertificateResponse response;
  const grpc::Status status = admin_->ApplyCertificate(&context, request, &response);
  if (!status.ok()) response.set_reason("rpc: " + status.error_message());
  return response;
}

std::string AdapterProcess::Submit(const Bytes& block) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::DevchainSubmitBlockRequest request;
  request.set_block(std::string(block.begin(), block.end()));
  v1::DevchainSubmitBlockResponse response;
  const grpc::Status status = p2p_->SubmitBlock(&context, request, &response);
  if (!status.ok()) return "rpc:" + status.error_message();
  return response.verdict();
}

std::vector<devchain::DevchainHeader> AdapterProcess::BestChainHeaders() {
  std::vector<devchain::DevchainHeader> out;
  std::vector<std::string> locator;  // Empty: from height 1.
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::DevchainGetHeadersRequest request;
    for (const std::string& hash : locator) request.add_locator(hash);
    request.set_count_max(2000);
    v1::DevchainGetHeadersResponse response;
    if (!p2p_->GetHeaders(&context, request, &response).ok()) return out;
    for (const std::string& raw : response.headers()) {
      const Bytes bytes(raw.begin(), raw.end());
      Reader reader(bytes);
      out.push_back(devchain::DecodeHeader(&reader));
    }
    if (response.headers_size() < 2000) return out;
    const Hash256 last = devchain::BlockHash(out.back());
    locator = {std::string(last.begin(), last.end())};
  }
}

std::vector<Bytes> AdapterProcess::Blocks(const std::vector<Hash256>& hashes) {
  std::vector<Bytes> out;
  for (size_t start = 0; start < hashes.size(); start += 64) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::DevchainGetBlocksRequest request;
    for (size_t i = start; i < std::min(hashes.size(), start + 64); ++i) {
      request.add_hashes(std::string(hashes[i].begin(), hashes[i].end()));
    }
    v1::DevchainGetBlocksResponse response;
    if (!p2p_->GetBlocks(&context, request, &response).ok()) return out;
    for (const std::string& raw : response.blocks()) out.emplace_back(raw.begin(), raw.end());
  }
  return out;
}

std::string AdapterProcess::MetricsText() { return HttpGet(metrics_port_, "/metrics"); }

std::unique_ptr<devchain::Devchain> ReplicaOf(AdapterProcess* process,
                                              const devchain::ChainParams& params) {
  auto replica = std::make_unique<devchain::Devchain>(params);
  std::vector<Hash256> hashes;
  for (const devchain::DevchainHeader& header : process->BestChainHeaders()) {
    hashes.push_back(devchain::BlockHash(header));
  }
  for (const Bytes& block : process->Blocks(hashes)) {
    replica->AddEncodedBlock(block, 1ULL << 50);
  }
  return replica;
}

double MetricValue(const std::string& metrics_text, const std::string& name) {
  std::istringstream lines(metrics_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name, 0) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

}  // namespace metronome::pow_adapter::testing
