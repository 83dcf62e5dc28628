// test_interpreter: a stand-in for metronome-interpreter in the bft integration tests
// (tests only, never shipped). It attaches to one member's bft with the product's
// BftClient and plays the interpreter's part with a made-up chain whose block at height
// h has hash BLAKE2b-256(u64 big-endian h), so every member's test interpreter agrees on
// every candidate without a PoW node:
//
//   candidate       chain id = the federation's, pow_height = parent ledger's
//                   checkpoint height + 1, pow_block_hash = that hash, no opaque data;
//   create body     the candidate, when one of ours is outstanding (or --saturate), else
//                   an empty body (which tells the bft nothing is due any more);
//   validate body   ACCEPT exactly one such candidate, else REJECT with a reason code
//                   (always REJECT with --reject-all);
//   certificate     verified against the federation, written atomically and fsynced to
//                   DIR/cert-<pow_height>.bin (canonical bytes), then acknowledged with
//                   durable = true: APPLIED above the latest applied height, DUPLICATE
//                   for a height already on disk, IGNORED for an older one; one that
//                   does not verify is refused as metronome-interpreter refuses it
//                   (INVALID, durable = false), and so is every one with
//                   --refuse-certificates (as an interpreter of another federation would).
//
// Every --candidate-interval-ms, while attached and no candidate of ours is
// outstanding (sent, and no certificate at or above its height yet), it sends
// new_checkpoint_candidate. With --saturate it also sends one right after each body it
// builds and each certificate, so a candidate is always pending. --stale-ack-on-attach
// sends one acknowledgement for a request the bft never made (to exercise its
// rejection counter).
//
// Events go to stdout, one JSON object per line ({"event": "attached"}, {"event":
// "certificate", "pow_height": 3, ...}); the client's own logs go to stderr. Exit
// codes: 0 after SIGTERM/SIGINT, 2 on a usage or start-up error.
#include <signal.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "common/block.h"
#include "common/checkpoint_certificate.h"
#include "common/federation_file.h"
#include "common/file_util.h"
#include "common/hash.h"
#include "common/key_file.h"
#include "common/ledger.h"
#include "common/log.h"
#include "common/proto_bytes.h"
#include "common/verifier/certificate_verifier.h"
#include "prometheus/registry.h"
#include "services/interpreter/shell/bft_client.h"

namespace metronome::testing {
namespace {

struct TestInterpreterOptions {
  std::string bft_address;
  std::string key_file;
  std::string federation_file;
  std::string certificates_dir;  // Empty: certificates are acknowledged but not kept.
  int member_index = -1;         // >= 0: the bft must present that member's key.
  uint64_t candidate_interval_ms = 500;
  uint64_t reconnect_max_ms = 1000;  // Tests restart bfts; do not wait the product's 5 s.
  bool saturate = false;
  bool refuse_certificates = false;
  bool reject_all = false;
  bool stale_ack_on_attach = false;
};

// An outstanding candidate is sent again after this long without a certificate for it:
// its proposal may have failed in a view whose leader then lost the bft's hint.
constexpr uint64_t kOutstandingExpiryMsMin = 5000;

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The made-up chain's block hash at `height`.
Bytes PowBlockHashAt(uint64_t height) {
  Writer writer;
  writer.U64(height);
  const Hash256 hash = Blake2b256(writer.bytes());
  return Bytes(hash.begin(), hash.end());
}

uint64_t CheckpointHeightOf(const Ledger& ledger) {
  return ledger.last_checkpoint ? ledger.last_checkpoint->candidate().pow_height : 0;
}

class TestInterpreter : public interpreter::BftClient::Handler {
 public:
  TestInterpreter(const TestInterpreterOptions& options, const Federation& federation)
      : options_(options), federation_(federation) {
    RestoreAppliedHeights();
  }

  void set_client(interpreter::BftClient* client) { client_ = client; }

  void OnAttached() override {
    std::lock_guard<std::mutex> lock(mutex_);
    // A new stream: whatever we announced on the old one is forgotten by our side.
    outstanding_height_.reset();
    Emit({{"event", "attached"}});
    if (options_.stale_ack_on_attach) {
      // An answer to a request the bft never made: it must ignore it and count it
      // (metronome_bft_rejections_total{reason="interpreter_stale_answer"}).
      v1::InterpreterToBft frame;
      frame.mutable_certificate_ack()->set_request_id(UINT64_MAX);
      frame.mutable_certificate_ack()->set_outcome(v1::CERTIFICATE_OUTCOME_DUPLICATE);
      client_->Send(std::move(frame));
    }
  }

  void OnDetached() override { Emit({{"event", "detached"}}); }

  void OnFrame(const v1::BftToInterpreter& frame) override {
    std::lock_guard<std::mutex> lock(mutex_);
    switch (frame.kind_case()) {
      case v1::BftToInterpreter::kCreateBlockBody:
        AnswerCreate(frame.create_block_body());
        break;
      case v1::BftToInterpreter::kValidateBlockBody:
        AnswerValidate(frame.validate_block_body());
        break;
      case v1::BftToInterpreter::kNewCheckpointCertificate:
        AnswerCertificate(frame.new_checkpoint_certificate());
        break;
      case v1::BftToInterpreter::kStatus:
        if (frame.status().has_latest_checkpoint()) {
          NoteCertifiedHeight(frame.status().latest_checkpoint().pow_height());
        }
        break;
      default:
        break;
    }
  }

  // Called every candidate interval from the main thread.
  void Tick() {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    const auto expiry = std::chrono::milliseconds(
        std::max(kOutstandingExpiryMsMin, 10 * options_.candidate_interval_ms));
    if (outstanding_height_ && now - outstanding_since_ < expiry) return;
    OfferCandidate();
  }

 private:
  // Writes one event line (cout is not line-atomic between threads by itself).
  void Emit(nlohmann::json event) {
    std::lock_guard<std::mutex> lock(emit_mutex_);
    event["unix_ms"] = UnixMs();
    std::cout << event.dump() << std::endl;
  }

  Transaction CandidateAt(uint64_t pow_height) const {
    CheckpointCandidate candidate;
    candidate.chain_id = federation_.chain_id();
    candidate.pow_height = pow_height;
    candidate.pow_block_hash = PowBlockHashAt(pow_height);
    return Transaction{candidate};
  }

  // A certificate (ours, or the one the bft's status names) at `pow_height` exists:
  // our candidate at or below it is settled. REQUIRES: mutex_ held.
  void NoteCertifiedHeight(uint64_t pow_height) {
    checkpoint_height_ = std::max(checkpoint_height_, pow_height);
    if (outstanding_height_ && pow_height >= *outstanding_height_) outstanding_height_.reset();
  }

  // Sends new_checkpoint_candidate for the next height. REQUIRES: mutex_ held.
  void OfferCandidate() {
    if (client_ == nullptr) return;
    const uint64_t pow_height = checkpoint_height_ + 1;
    v1::InterpreterToBft frame;
    v1::NewCheckpointCandidate* candidate = frame.mutable_new_checkpoint_candidate();
    candidate->set_request_id(next_request_id_++);
    candidate->set_candidate(StringOf(EncodeTransaction(CandidateAt(pow_height))));
    if (!client_->Send(std::move(frame))) return;
    outstanding_height_ = pow_height;
    outstanding_since_ = std::chrono::steady_clock::now();
    Emit({{"event", "candidate"}, {"pow_height", pow_height}});
  }

  void AnswerCreate(const v1::CreateBlockBodyRequest& request) {
    v1::InterpreterToBft frame;
    v1::CreateBlockBodyResponse* response = frame.mutable_create_block_body();
    response->set_request_id(request.request_id());
    const Bytes encoded = BytesOf(request.parent_ledger());
    Reader reader(encoded);
    const Ledger parent = DecodeLedger(&reader);
    reader.ExpectEnd();
    if (!reader.ok()) {
      response->mutable_no_body()->set_code("malformed_ledger");
      response->mutable_no_body()->set_message(reader.error());
      client_->Send(std::move(frame));
      Emit({{"event", "create"}, {"result", "malformed_ledger"}});
      return;
    }
    const uint64_t parent_height = CheckpointHeightOf(parent);
    checkpoint_height_ = std::max(checkpoint_height_, parent_height);
    // Without --saturate a candidate goes out only while ours is due and not yet in the
    // parent's chain; an empty body tells the bft nothing is due, so the interval paces
    // the checkpoints.
    const bool due =
        options_.saturate || (outstanding_height_ && parent_height < *outstanding_height_);
    Body body;
    if (due) body.transactions.push_back(CandidateAt(parent_height + 1));
    response->set_body(StringOf(EncodeBody(body)));
    client_->Send(std::move(frame));
    Emit({{"event", "create"},
          {"request_id", request.request_id()},
          {"pow_height", due ? parent_height + 1 : 0}});
    if (options_.saturate) OfferCandidate();
  }

  // The reason code for a body this interpreter rejects; "" when acceptable.
  std::string JudgeBody(const v1::ValidateBlockBodyRequest& request) const {
    if (options_.reject_all) return "reject_all";
    const Bytes ledger_bytes = BytesOf(request.parent_ledger());
    Reader ledger_reader(ledger_bytes);
    const Ledger parent = DecodeLedger(&ledger_reader);
    ledger_reader.ExpectEnd();
    if (!ledger_reader.ok()) return "malformed_ledger: " + ledger_reader.error();
    const Bytes body_bytes = BytesOf(request.body());
    Reader body_reader(body_bytes);
    const Body body = DecodeBody(&body_reader);
    body_reader.ExpectEnd();
    if (!body_reader.ok()) return "malformed_body: " + body_reader.error();
    if (body.transactions.size() != 1 || !body.transactions[0].is_candidate()) {
      return "not_one_candidate: " + std::to_string(body.transactions.size()) + " transactions";
    }
    const CheckpointCandidate& candidate = body.transactions[0].candidate();
    const uint64_t expected_height = CheckpointHeightOf(parent) + 1;
    if (candidate.chain_id != federation_.chain_id()) {
      return "wrong_chain: " + candidate.chain_id;
    }
    if (candidate.pow_height != expected_height) {
      return "wrong_height: " + std::to_string(candidate.pow_height) +
             " != " + std::to_string(expected_height);
    }
    if (candidate.pow_block_hash != PowBlockHashAt(candidate.pow_height)) return "wrong_hash";
    return "";
  }

  void AnswerValidate(const v1::ValidateBlockBodyRequest& request) {
    const std::string reason = JudgeBody(request);
    v1::InterpreterToBft frame;
    v1::ValidateBlockBodyResponse* response = frame.mutable_validate_block_body();
    response->set_request_id(request.request_id());
    response->set_verdict(reason.empty() ? v1::ValidateBlockBodyResponse::VERDICT_ACCEPT
                                         : v1::ValidateBlockBodyResponse::VERDICT_REJECT);
    response->set_reason(reason);
    client_->Send(std::move(frame));
    Emit({{"event", "validate"},
          {"request_id", request.request_id()},
          {"verdict", reason.empty() ? "accept" : "reject"},
          {"reason", reason}});
  }

  void AnswerCertificate(const v1::NewCheckpointCertificate& request) {
    v1::InterpreterToBft frame;
    v1::CertificateAck* ack = frame.mutable_certificate_ack();
    ack->set_request_id(request.request_id());
    if (options_.refuse_certificates) {
      ack->set_outcome(v1::CERTIFICATE_OUTCOME_INVALID);
      client_->Send(std::move(frame));
      Emit({{"event", "certificate_refused"},
            {"pow_height", request.certificate().identity().pow_height()}});
      return;
    }
    const Bytes encoded = BytesOf(request.certificate().encoded());
    Reader reader(encoded);
    const CheckpointCertificate certificate = DecodeCheckpointCertificate(&reader);
    reader.ExpectEnd();
    const CertificateCheck check =
        VerifyCertificate(federation_.encoded().data(), federation_.encoded().size(),
                          encoded.data(), encoded.size(), kCertificateHeadersDefault);
    const v1::CheckpointIdentity& claimed = request.certificate().identity();
    std::optional<CheckpointIdentity> identity;
    if (reader.ok() && check.ok()) identity = IdentityOf(certificate);
    if (!identity || claimed.chain_id() != identity->chain_id ||
        claimed.pow_height() != identity->pow_height ||
        BytesOf(claimed.pow_block_hash()) != identity->pow_block_hash) {
      // Refused as metronome-interpreter refuses it (not durable): the bft must not offer
      // it again in a loop. The test looks for these lines.
      ack->set_outcome(v1::CERTIFICATE_OUTCOME_INVALID);
      client_->Send(std::move(frame));
      Emit({{"event", "certificate_invalid"},
            {"pow_height", claimed.pow_height()},
            {"reason", check.ok() ? "identity_mismatch" : check.reason}});
      return;
    }
    *ack->mutable_identity() = claimed;
    const uint64_t pow_height = identity->pow_height;
    v1::CertificateOutcome outcome;
    if (applied_heights_.count(pow_height) != 0) {
      outcome = v1::CERTIFICATE_OUTCOME_DUPLICATE;
    } else {
      outcome = pow_height > latest_applied_height_ ? v1::CERTIFICATE_OUTCOME_APPLIED
                                                    : v1::CERTIFICATE_OUTCOME_IGNORED;
      // Durable before the acknowledgement says so: the bft retires its outbox entry on
      // it, so a crash after the ack must not lose the certificate.
      if (!options_.certificates_dir.empty()) {
        const absl::Status status = WriteFileAtomically(
            options_.certificates_dir + "/cert-" + std::to_string(pow_height) + ".bin",
            request.certificate().encoded());
        if (!status.ok()) {
          ack->set_outcome(v1::CERTIFICATE_OUTCOME_PENDING);
          ack->set_durable(false);
          client_->Send(std::move(frame));
          Emit({{"event", "certificate_not_stored"},
                {"pow_height", pow_height},
                {"error", std::string(status.message())}});
          return;
        }
      }
      applied_heights_.insert(pow_height);
      latest_applied_height_ = std::max(latest_applied_height_, pow_height);
    }
    NoteCertifiedHeight(pow_height);
    ack->set_outcome(outcome);
    ack->set_durable(true);
    client_->Send(std::move(frame));
    Emit({{"event", "certificate"},
          {"pow_height", pow_height},
          {"outcome", outcome == v1::CERTIFICATE_OUTCOME_APPLIED     ? "applied"
                      : outcome == v1::CERTIFICATE_OUTCOME_DUPLICATE ? "duplicate"
                                                                     : "ignored"},
          {"bytes", encoded.size()}});
    if (options_.saturate) OfferCandidate();
  }

  // A restarted test interpreter keeps what it applied: the files are its state.
  void RestoreAppliedHeights() {
    if (options_.certificates_dir.empty()) return;
    std::error_code error;
    for (const auto& entry :
         std::filesystem::directory_iterator(options_.certificates_dir, error)) {
      const std::string name = entry.path().filename().string();
      if (name.size() <= 9 || name.rfind("cert-", 0) != 0 ||
          name.compare(name.size() - 4, 4, ".bin") != 0) {
        continue;
      }
      const std::string digits = name.substr(5, name.size() - 9);
      if (!std::all_of(digits.begin(), digits.end(), ::isdigit)) continue;
      const uint64_t pow_height = std::stoull(digits);
      applied_heights_.insert(pow_height);
      latest_applied_height_ = std::max(latest_applied_height_, pow_height);
    }
    checkpoint_height_ = latest_applied_height_;
  }

  const TestInterpreterOptions options_;
  const Federation& federation_;
  interpreter::BftClient* client_ = nullptr;

  std::mutex mutex_;  // Guards everything below (the reader thread and Tick).
  uint64_t next_request_id_ = 1;
  uint64_t checkpoint_height_ = 0;  // The highest checkpoint height we know of.
  uint64_t latest_applied_height_ = 0;
  std::set<uint64_t> applied_heights_;  // Heights with a certificate on disk.
  std::optional<uint64_t> outstanding_height_;
  std::chrono::steady_clock::time_point outstanding_since_;
  std::mutex emit_mutex_;
};

int Fail(const std::string& reason) {
  std::cerr << "error: " << reason << "\n";
  return 2;
}

int Run(const TestInterpreterOptions& options) {
  // Block the stop signals before any thread starts, so only sigtimedwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  InitLogging("test-interpreter", LogLevel::kInfo);

  absl::StatusOr<SigningKey> key = ReadKeyFile(options.key_file);
  if (!key.ok()) return Fail(std::string(key.status().message()));
  absl::StatusOr<Federation> federation = ReadFederationFile(options.federation_file);
  if (!federation.ok()) return Fail(std::string(federation.status().message()));
  if (!options.certificates_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.certificates_dir, error);
    if (error) return Fail("--certificates-dir: " + error.message());
  }
  interpreter::BftClientOptions client_options;
  client_options.bft_address = options.bft_address;
  if (options.member_index >= 0) {
    if (static_cast<uint32_t>(options.member_index) >= federation->n()) {
      return Fail("--member is not a member index of the federation");
    }
    client_options.bft_key = federation->members()[options.member_index];
  }
  client_options.reconnect_max_ms = options.reconnect_max_ms;

  TestInterpreter handler(options, *federation);
  prometheus::Registry registry;
  interpreter::BftClient client(client_options, *key, *federation, &handler, &registry);
  handler.set_client(&client);
  client.Start();
  while (true) {
    timespec interval;
    interval.tv_sec = static_cast<time_t>(options.candidate_interval_ms / 1000);
    interval.tv_nsec = static_cast<long>(options.candidate_interval_ms % 1000) * 1000000L;
    const int signal = sigtimedwait(&signals, nullptr, &interval);
    if (signal == SIGINT || signal == SIGTERM) break;
    if (client.attached()) handler.Tick();
  }
  client.Stop();
  return 0;
}

}  // namespace
}  // namespace metronome::testing

int main(int argc, char** argv) {
  CLI::App app{"test_interpreter: a scripted interpreter for bft integration tests"};
  metronome::testing::TestInterpreterOptions options;
  app.add_option("--bft", options.bft_address, "The bft's interpreter listener, host:port")
      ->required();
  app.add_option("--key", options.key_file, "Interpreter key file")->required();
  app.add_option("--federation", options.federation_file, "Federation file")->required();
  app.add_option("--certificates-dir", options.certificates_dir,
                 "Directory for received certificates (cert-<pow_height>.bin)");
  app.add_option("--member", options.member_index,
                 "Federation index of the bft; its key is then required");
  app.add_option("--candidate-interval-ms", options.candidate_interval_ms,
                 "How often to offer a candidate when none is outstanding")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{3600000}));
  app.add_option("--reconnect-max-ms", options.reconnect_max_ms, "Longest reconnect backoff")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{100}, uint64_t{60000}));
  app.add_flag("--saturate", options.saturate, "Always keep a candidate pending");
  app.add_flag("--reject-all", options.reject_all, "Reject every body asked about");
  app.add_flag("--refuse-certificates", options.refuse_certificates,
               "Answer every certificate INVALID (not durable)");
  app.add_flag("--stale-ack-on-attach", options.stale_ack_on_attach,
               "After each attach, send one certificate_ack with an id the bft never used");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // Usage errors exit 2 like start-up errors (CLI11 would exit 106 and friends).
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }
  return metronome::testing::Run(options);
}
