#include "tools/devnet/attack.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/bytes.h"
#include "common/canonical.h"
#include "services/pow_adapter/core/devchain_block.h"

namespace metronome::devnet {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kWarmupHeight = 4;  // The honest chain's height before the fork.
constexpr int kPollMs = 100;
constexpr int kRpcDeadlineMs = 2000;
// How long the honest nodes are watched after the release in checkpointing-on mode, at
// least: long enough for the attacker to extend its lead and for every push to land.
constexpr int kObserveOnMs = 5000;
constexpr int kSetupTimeoutMs = 60000;
constexpr int kCertifyTimeoutMs = 90000;
constexpr int kReactTimeoutMs = 30000;

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(kRpcDeadlineMs));
}

std::optional<v1::DevchainStatusResponse> StatusOf(v1::DevchainAdmin::Stub* admin) {
  if (admin == nullptr) return std::nullopt;
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::DevchainStatusResponse status;
  if (!admin->Status(&context, v1::DevchainStatusRequest(), &status).ok()) return std::nullopt;
  return status;
}

// A node's best chain: block hash (32 raw bytes) by height; [0] (genesis) is left empty.
using Chain = std::vector<std::string>;

// Reads `p2p`'s whole best chain with GetHeaders; nullopt when it does not answer or
// sends headers that do not decode.
std::optional<Chain> BestChain(v1::Devchain::Stub* p2p) {
  Chain chain(1);
  // Bounded: a chain that keeps moving cannot keep us here.
  for (int round = 0; round < 100; ++round) {
    v1::DevchainGetHeadersRequest request;
    if (chain.size() > 1) request.add_locator(chain.back());
    request.set_count_max(2000);
    v1::DevchainGetHeadersResponse response;
    grpc::ClientContext context;
    SetDeadline(&context);
    if (!p2p->GetHeaders(&context, request, &response).ok()) return std::nullopt;
    for (const std::string& raw : response.headers()) {
      const Bytes bytes = BytesOf(raw);
      Reader reader(bytes);
      const devchain::DevchainHeader header = devchain::DecodeHeader(&reader);
      if (!reader.ok() || header.height == 0) return std::nullopt;
      // Headers restart after genesis when our locator left the node's best chain.
      chain.resize(header.height);
      const Hash256 hash = devchain::BlockHash(header);
      chain.emplace_back(hash.begin(), hash.end());
    }
    if (response.headers_size() == 0 || chain.size() - 1 >= response.tip_height()) return chain;
  }
  return std::nullopt;
}

bool Contains(const Chain& chain, uint64_t height, const std::string& hash) {
  return height < chain.size() && chain[height] == hash;
}

std::string ShortHex(const std::string& raw) { return ToHex(BytesOf(raw)).substr(0, 16); }

std::string Join(const std::vector<uint64_t>& values) {
  std::ostringstream out;
  for (size_t i = 0; i < values.size(); ++i) out << (i ? " " : "") << values[i];
  return out.str();
}

// One scenario: a fresh devnet and attacker, the attack, the verdict.
class Scenario {
 public:
  Scenario(const AttackOptions& options, const Binaries& binaries, const sigset_t& signals, int run,
           bool checkpointing)
      : options_(options),
        binaries_(binaries),
        signals_(signals),
        checkpointing_(checkpointing),
        name_("attack run=" + std::to_string(run) +
              " checkpointing=" + (checkpointing ? "on" : "off")),
        dir_(options.devnet.run_dir + "/attack-" + std::to_string(run) + "-" +
             (checkpointing ? "on" : "off")) {}

  ~Scenario() { Stop(); }

  // True when the expected outcome held; `line` is the result line, or the reason.
  bool Run(std::string* line);
  bool interrupted() const { return interrupted_; }

 private:
  int members() const { return options_.devnet.members; }
  void Progress(const std::string& text) { std::cout << name_ << ": " << text << std::endl; }
  // Polls `done` every kPollMs until it holds. False with a reason in error_ on the
  // deadline, a stop signal, or a process that exited.
  bool Wait(const std::string& what, int timeout_ms, const std::function<bool()>& done);
  bool Fail(const std::string& reason) {
    if (error_.empty()) error_ = reason;
    return false;
  }
  bool Setup();
  bool StartAttacker(const std::string& peers, double share);
  bool Fork();
  bool AwaitCertifiedX();
  bool ReleaseAndObserve();
  // Sends every attacker block above what was sent already to every honest node.
  bool Release();
  void StopAttacker();
  void Stop();

  const AttackOptions& options_;
  const Binaries& binaries_;
  const sigset_t& signals_;
  const bool checkpointing_;
  const std::string name_;
  const std::string dir_;
  std::string error_;
  bool interrupted_ = false;

  std::unique_ptr<Devnet> devnet_;
  ChildProcess attacker_;
  std::unique_ptr<v1::Devchain::Stub> attacker_p2p_;
  std::unique_ptr<v1::DevchainAdmin::Stub> attacker_admin_;

  uint64_t fork_height_ = 0;  // F: the last block the private fork shares.
  std::string fork_hash_;
  std::string x_hash_;  // X: the honest block at F + 1.
  uint64_t certificate_height_ = 0;
  Chain released_;  // The attacker's chain as released (heights F+1.. are its blocks).
  std::map<std::string, uint64_t> verdicts_;        // SubmitBlock answers other than accepted.
  std::vector<v1::DevchainStatusResponse> before_;  // Honest nodes at the release.
  // At the first release: private blocks, and their lead over the best honest chain.
  uint64_t private_blocks_ = 0;
  int64_t lead_ = 0;
};

bool Scenario::Wait(const std::string& what, int timeout_ms, const std::function<bool()>& done) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (!error_.empty()) return false;
    const std::string exited = devnet_->ExitedProcess();
    if (!exited.empty()) return Fail(exited);
    if (attacker_p2p_ && !attacker_.Running()) {
      return Fail("the attacker exited; see " + dir_ + "/attacker/pow-adapter.log");
    }
    if (Clock::now() >= deadline) {
      return Fail("timed out after " + std::to_string(timeout_ms / 1000) + " s waiting for " +
                  what);
    }
    // The pause between polls doubles as the check for a stop signal.
    timespec pause{0, kPollMs * 1000 * 1000};
    if (sigtimedwait(&signals_, nullptr, &pause) > 0) {
      interrupted_ = true;
      return Fail("interrupted");
    }
  }
  return true;
}

bool Scenario::Run(std::string* line) {
  const auto start = Clock::now();
  const bool ok = Setup() && Fork() && AwaitCertifiedX() && ReleaseAndObserve();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::ostringstream out;
  out << name_ << ": ";
  if (!ok) {
    out << (interrupted_ ? "" : "NOT HELD: ") << error_ << " (logs: " << dir_ << ")";
    *line = out.str();
    Stop();
    return false;
  }
  std::vector<uint64_t> depths, refused;
  int kept = 0, lacking = 0;
  std::ostringstream problems;
  for (int i = 0; i < members(); ++i) {
    const std::optional<v1::DevchainStatusResponse> status = StatusOf(devnet_->Admin(i));
    const std::optional<Chain> chain = BestChain(devnet_->P2p(i));
    if (!status || !chain) {
      problems << "; member-" << i << " does not answer";
      continue;
    }
    depths.push_back(status->max_reorg_depth());
    refused.push_back(status->reorgs_refused() - before_[i].reorgs_refused());
    if (!Contains(*chain, fork_height_ + 1, x_hash_)) {
      ++lacking;
      // The reorganisation took off at least every block it had above F at the release.
      const uint64_t least = before_[i].height() - fork_height_;
      if (!checkpointing_ && status->max_reorg_depth() < least) {
        problems << "; member-" << i << " reorganised only " << status->max_reorg_depth()
                 << " deep, expected at least " << least;
      }
    } else {
      ++kept;
      if (checkpointing_ && refused.back() == 0) {
        problems << "; member-" << i << " never refused the fork";
      }
    }
  }
  if (checkpointing_ && lacking > 0) problems << "; a best chain lacks X";
  if (!checkpointing_ && kept > 0) problems << "; a best chain kept X";
  out << "fork from height " << fork_height_ << ", X=height " << fork_height_ + 1
      << " hash=" << ShortHex(x_hash_) << " (certificate height=" << certificate_height_
      << "), attacker +" << lead_ << " blocks (" << private_blocks_ << " private, released "
      << released_.size() - 1 - fork_height_ << "); honest nodes: ";
  if (checkpointing_) {
    out << "kept X " << kept << "/" << members();
  } else {
    out << "reorged past X " << lacking << "/" << members();
  }
  out << "; reorg depths " << Join(depths) << "; reorgs refused " << Join(refused);
  if (!verdicts_.empty()) {
    out << "; blocks not accepted";
    for (const auto& [verdict, count] : verdicts_) out << " " << verdict << "=" << count;
  }
  out << " (" << std::fixed << std::setprecision(1) << seconds << " s)";
  const std::string found = problems.str();
  if (!found.empty()) out << " NOT HELD: " << found.substr(2) << " (logs: " << dir_ << ")";
  *line = out.str();
  Stop();
  return found.empty();
}

bool Scenario::Setup() {
  DevnetOptions devnet_options = options_.devnet;
  devnet_options.run_dir = dir_;
  devnet_options.checkpointing = checkpointing_;
  // The honest members together have a third of the hash rate; the attacker the rest.
  devnet_options.hash_rate_share = 1.0 / (3 * members());
  devnet_options.print_certificates = false;
  devnet_ = std::make_unique<Devnet>(devnet_options, binaries_);
  std::string error;
  if (!devnet_->Start(&error)) return Fail(error);
  Progress(std::to_string(members()) +
           " honest members up with 1/3 of the hash rate (logs: " + dir_ + ")");

  const std::string attacker_dir = dir_ + "/attacker";
  std::error_code ec;
  fs::create_directories(attacker_dir, ec);
  if (ec) return Fail("cannot create " + attacker_dir + ": " + ec.message());
  ChildProcess keygen;
  if (!keygen.Spawn({binaries_.cli, "keygen", "--out", attacker_dir + "/adapter.key"},
                    attacker_dir + "/keygen.log", attacker_dir + "/keygen.log", &error)) {
    return Fail(error);
  }
  if (!Wait("metronome keygen", kSetupTimeoutMs, [&] { return !keygen.Running(); })) return false;
  if (keygen.exit_status() != 0) {
    return Fail("metronome keygen failed; see " + attacker_dir + "/keygen.log");
  }
  // Not a member: its own key, no interpreter (so no certificates reach it), ports
  // chosen by the kernel (read back from ports.json).
  std::ofstream config(attacker_dir + "/pow-adapter.toml");
  config << "# The attacker's miner (devnet --attack): no federation member.\n"
         << "federation_file = \"" << devnet_->federation_file() << "\"\n"
         << "key_file = \"" << attacker_dir << "/adapter.key\"\n"
         << "data_dir = \"" << attacker_dir << "/data\"\n"
         << "backend = \"devchain\"\n\n"
         << "[devchain]\n"
         << "checkpointing = false\n"
         << "miner_id = \"attacker\"\n"
         << "sync_interval_ms = 100\n"
         << "block_interval_ms = " << options_.devnet.block_interval_ms << "\n";
  config.close();
  if (!config) return Fail("cannot write " + attacker_dir + "/pow-adapter.toml");
  return true;
}

bool Scenario::StartAttacker(const std::string& peers, double share) {
  const std::string attacker_dir = dir_ + "/attacker";
  const std::string data_dir = attacker_dir + "/data";
  // A stale ports.json would name the previous run's ports.
  std::error_code ignored;
  fs::remove(data_dir + "/ports.json", ignored);
  std::string error;
  if (!attacker_.Spawn(
          {binaries_.adapter, "--config", attacker_dir + "/pow-adapter.toml", "--set",
           "devchain.peers=" + peers, "--set", "devchain.hash_rate_share=" + std::to_string(share)},
          attacker_dir + "/pow-adapter.log", attacker_dir + "/pow-adapter.log", &error)) {
    return Fail(error);
  }
  attacker_p2p_.reset();
  attacker_admin_.reset();
  int p2p_port = 0, admin_port = 0;
  auto ports_written = [&] {
    std::ifstream in(data_dir + "/ports.json");
    if (!in) return false;
    try {
      const nlohmann::json ports = nlohmann::json::parse(in);
      p2p_port = ports.value("devchain_p2p", 0);
      admin_port = ports.value("admin", 0);
    } catch (const std::exception&) {
      return false;  // Being written.
    }
    return p2p_port != 0 && admin_port != 0;
  };
  if (!Wait("the attacker's ports.json", kSetupTimeoutMs, [&] {
        if (!attacker_.Running()) return true;  // Reported below.
        return ports_written();
      })) {
    return false;
  }
  if (!attacker_.Running()) {
    return Fail("the attacker exited at start-up; see " + attacker_dir + "/pow-adapter.log");
  }
  attacker_p2p_ = v1::Devchain::NewStub(
      grpc::CreateChannel(Loopback(p2p_port), grpc::InsecureChannelCredentials()));
  attacker_admin_ = v1::DevchainAdmin::NewStub(
      grpc::CreateChannel(Loopback(admin_port), grpc::InsecureChannelCredentials()));
  return true;
}

bool Scenario::Fork() {
  // First a follower that mines nothing, so the fork starts on the honest chain.
  std::string peers;
  for (int i = 0; i < members(); ++i) peers += (i ? "," : "") + devnet_->P2pAddress(i);
  if (!StartAttacker(peers, 0)) return false;
  if (!Wait("the attacker to sync the honest chain to height " + std::to_string(kWarmupHeight),
            kSetupTimeoutMs, [&] {
              const auto honest = StatusOf(devnet_->Admin(0));
              const auto attacker = StatusOf(attacker_admin_.get());
              return honest && attacker && attacker->height() >= kWarmupHeight &&
                     attacker->tip_hash() == honest->tip_hash();
            })) {
    return false;
  }
  // Then isolated, with two thirds of the hash rate: its blocks stay private.
  StopAttacker();
  if (!StartAttacker("", 2.0 / 3)) return false;
  // F is where the private chain leaves the honest one: normally the attacker's tip at
  // the restart, lower only if the honest chain reorganised meanwhile.
  std::optional<Chain> private_chain, honest_chain;
  if (!Wait("the attacker's first private block", kSetupTimeoutMs, [&] {
        const auto attacker = StatusOf(attacker_admin_.get());
        if (!attacker || attacker->blocks_mined() == 0) return false;
        private_chain = BestChain(attacker_p2p_.get());
        honest_chain = BestChain(devnet_->P2p(0));
        return private_chain && honest_chain;
      })) {
    return false;
  }
  uint64_t common = std::min(private_chain->size(), honest_chain->size()) - 1;
  while (common > 0 && (*private_chain)[common] != (*honest_chain)[common]) --common;
  if (common == 0) return Fail("the attacker's chain shares no block with the honest chain");
  fork_height_ = common;
  fork_hash_ = (*private_chain)[common];
  Progress("attacker forked privately from height " + std::to_string(fork_height_) +
           " with 2/3 of the hash rate");
  return true;
}

bool Scenario::AwaitCertifiedX() {
  const uint64_t x_height = fork_height_ + 1;
  uint64_t honest_max = 0, private_height = 0;
  const bool ok = Wait(
      "a certificate covering height " + std::to_string(x_height) +
          ", applied by every honest node, and a private lead of " + std::to_string(options_.lead),
      kCertifyTimeoutMs, [&] {
        uint64_t height;
        std::string hash;
        if (!devnet_->LatestCertificate(&height, &hash) || height < x_height) return false;
        // X is the block the certificate's chain has at F + 1, so the certificate covers it.
        const std::optional<Chain> chain0 = BestChain(devnet_->P2p(0));
        if (!chain0 || !Contains(*chain0, height, hash) ||
            !Contains(*chain0, fork_height_, fork_hash_)) {
          return false;
        }
        x_hash_ = (*chain0)[x_height];
        certificate_height_ = height;
        honest_max = 0;
        for (int i = 0; i < members(); ++i) {
          const auto status = StatusOf(devnet_->Admin(i));
          const std::optional<Chain> chain = BestChain(devnet_->P2p(i));
          if (!status || !chain || !status->has_checkpoint() ||
              status->checkpoint_height() < x_height || !Contains(*chain, x_height, x_hash_)) {
            return false;
          }
          honest_max = std::max<uint64_t>(honest_max, status->height());
        }
        const auto attacker = StatusOf(attacker_admin_.get());
        if (!attacker) return false;
        private_height = attacker->height();
        return private_height >= honest_max + options_.lead;
      });
  if (!ok) return false;
  Progress("X=height " + std::to_string(x_height) + " hash=" + ShortHex(x_hash_) +
           " certified (certificate height=" + std::to_string(certificate_height_) +
           "); private chain " + std::to_string(private_height) + " vs honest " +
           std::to_string(honest_max) + ": releasing");
  return true;
}

bool Scenario::Release() {
  std::optional<Chain> chain = BestChain(attacker_p2p_.get());
  if (!chain) return Fail("the attacker does not answer GetHeaders");
  if (!Contains(*chain, fork_height_, fork_hash_)) {
    return Fail("the attacker's chain no longer contains the fork point");
  }
  const uint64_t from = std::max<uint64_t>(released_.size(), fork_height_ + 1);
  std::vector<std::string> wanted(chain->begin() + std::min<size_t>(from, chain->size()),
                                  chain->end());
  constexpr size_t kBatch = 64;
  for (size_t start = 0; start < wanted.size(); start += kBatch) {
    v1::DevchainGetBlocksRequest request;
    const size_t end = std::min(wanted.size(), start + kBatch);
    for (size_t i = start; i < end; ++i) request.add_hashes(wanted[i]);
    v1::DevchainGetBlocksResponse blocks;
    grpc::ClientContext context;
    SetDeadline(&context);
    if (!attacker_p2p_->GetBlocks(&context, request, &blocks).ok() ||
        blocks.blocks_size() != static_cast<int>(end - start)) {
      return Fail("the attacker did not return its blocks");
    }
    // In chain order, so every block's parent is already there.
    for (const std::string& block : blocks.blocks()) {
      for (int i = 0; i < members(); ++i) {
        v1::DevchainSubmitBlockRequest submit;
        submit.set_block(block);
        v1::DevchainSubmitBlockResponse response;
        grpc::ClientContext submit_context;
        SetDeadline(&submit_context);
        if (!devnet_->P2p(i)->SubmitBlock(&submit_context, submit, &response).ok()) {
          ++verdicts_["unreachable"];
        } else if (response.verdict() != "accepted" && response.verdict() != "duplicate") {
          ++verdicts_[response.verdict()];
        }
      }
    }
  }
  if (released_.empty()) {
    uint64_t honest_max = 0;
    for (const v1::DevchainStatusResponse& status : before_) {
      honest_max = std::max<uint64_t>(honest_max, status.height());
    }
    private_blocks_ = chain->size() - 1 - fork_height_;
    lead_ = static_cast<int64_t>(chain->size() - 1) - static_cast<int64_t>(honest_max);
  }
  released_ = *chain;
  return true;
}

bool Scenario::ReleaseAndObserve() {
  before_.clear();
  for (int i = 0; i < members(); ++i) {
    const auto status = StatusOf(devnet_->Admin(i));
    if (!status) return Fail("member-" + std::to_string(i) + " does not answer Status");
    before_.push_back(*status);
  }
  const auto start = Clock::now();
  // Each poll releases what the attacker mined since, then checks every honest chain.
  return Wait(checkpointing_ ? "every honest node to refuse the fork"
                             : "every honest node to reorganise past X",
              kReactTimeoutMs, [&] {
                if (!Release()) return false;
                int lacking = 0, refusing = 0;
                for (int i = 0; i < members(); ++i) {
                  const std::optional<Chain> chain = BestChain(devnet_->P2p(i));
                  const auto status = StatusOf(devnet_->Admin(i));
                  if (!chain || !status) return false;
                  if (!Contains(*chain, fork_height_ + 1, x_hash_)) {
                    ++lacking;
                    if (checkpointing_) {
                      return Fail("member-" + std::to_string(i) +
                                  "'s best chain lacks X (tip height " +
                                  std::to_string(chain->size() - 1) + ")");
                    }
                  }
                  if (status->reorgs_refused() > before_[i].reorgs_refused()) ++refusing;
                }
                if (!checkpointing_) return lacking == members();
                return refusing == members() &&
                       Clock::now() - start >= std::chrono::milliseconds(kObserveOnMs);
              });
}

void Scenario::StopAttacker() {
  // Our channels first: the adapter's server shutdown waits for open connections.
  attacker_p2p_.reset();
  attacker_admin_.reset();
  attacker_.Stop(SIGTERM, 10000);
}

void Scenario::Stop() {
  StopAttacker();
  if (devnet_) devnet_->Stop();
}

}  // namespace

int RunAttack(const AttackOptions& options, const Binaries& binaries, const sigset_t& signals) {
  std::cout << "attack: " << options.runs << " run(s) of checkpointing off then on; "
            << options.devnet.members << " honest members with 1/3 of the hash rate, an attacker "
            << "with 2/3; block interval " << options.devnet.block_interval_ms
            << " ms; run directory " << options.devnet.run_dir << std::endl;
  int failed = 0, scenarios = 0;
  for (int run = 1; run <= options.runs; ++run) {
    for (const bool checkpointing : {false, true}) {
      Scenario scenario(options, binaries, signals, run, checkpointing);
      std::string line;
      const bool held = scenario.Run(&line);
      std::cout << line << std::endl;
      ++scenarios;
      if (!held) ++failed;
      if (scenario.interrupted()) {
        std::cout << "attack: interrupted" << std::endl;
        return 130;
      }
    }
  }
  if (failed > 0) {
    std::cout << "attack: did not hold in " << failed << " of " << scenarios << " scenarios"
              << std::endl;
    return 1;
  }
  std::cout << "attack: held in every run (" << scenarios << " scenarios)" << std::endl;
  return 0;
}

}  // namespace metronome::devnet
