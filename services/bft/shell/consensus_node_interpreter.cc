// The consensus node's link to its interpreter: the application's requests as frames,
// the interpreter's frames as the application's answers, and the application's events
// as metrics and log lines (the rest of ConsensusNode is in consensus_node.cc).
#include "common/log.h"
#include "common/proto_bytes.h"
#include "services/bft/shell/consensus_node.h"
#include "services/bft/shell/interpreter_bridge.h"
#include "services/bft/shell/node_metrics.h"

namespace metronome::bft {
namespace {

void SetIdentity(const CheckpointIdentity& identity, v1::CheckpointIdentity* proto) {
  proto->set_chain_id(identity.chain_id);
  proto->set_pow_height(identity.pow_height);
  proto->set_pow_block_hash(StringOf(identity.pow_block_hash));
}

}  // namespace

void ConsensusNode::SendToInterpreter(const InterpreterAsk& ask) {
  v1::BftToInterpreter frame;
  if (const auto* create = std::get_if<CreateBodyAsk>(&ask)) {
    v1::CreateBlockBodyRequest* request = frame.mutable_create_block_body();
    request->set_request_id(create->request_id);
    request->set_parent_ledger(StringOf(EncodeLedger(create->parent_ledger)));
    request->set_timeout_ms(static_cast<uint32_t>(create->timeout_ms));
    asked_[create->request_id] = std::chrono::steady_clock::now();
  } else if (const auto* validate = std::get_if<ValidateBodyAsk>(&ask)) {
    v1::ValidateBlockBodyRequest* request = frame.mutable_validate_block_body();
    request->set_request_id(validate->request_id);
    request->set_body(StringOf(EncodeBody(validate->block.body)));
    request->set_parent_ledger(StringOf(EncodeLedger(validate->parent_ledger)));
    request->set_header(StringOf(EncodeHeader(validate->block.header)));
    request->set_timeout_ms(static_cast<uint32_t>(validate->timeout_ms));
    asked_[validate->request_id] = std::chrono::steady_clock::now();
  } else if (const auto* offer = std::get_if<CertificateOffer>(&ask)) {
    v1::NewCheckpointCertificate* proto = frame.mutable_new_checkpoint_certificate();
    proto->set_request_id(offer->request_id);
    proto->mutable_certificate()->set_encoded(StringOf(offer->record.encoded));
    SetIdentity(offer->record.identity, proto->mutable_certificate()->mutable_identity());
  } else if (const auto* report = std::get_if<StatusReport>(&ask)) {
    v1::BftStatus* status = frame.mutable_status();
    status->set_view(replica_.view());
    status->set_committed_height(replica_.committed_height());
    if (report->latest_certificate) {
      SetIdentity(*report->latest_certificate, status->mutable_latest_checkpoint());
    }
    status->set_candidate_pending(report->candidate_pending);
    status->set_signing(!persist_failed_);
  }
  links_.interpreter->Send(std::move(frame));
}

void ConsensusNode::Report(const ApplicationEvent& event) {
  using Kind = ApplicationEvent::Kind;
  switch (event.kind) {
    case Kind::kValidated:
      validations_->Add({{"outcome", ReasonCode(event.reason)}}).Increment();
      if (event.reason != "accept") {
        LogInfo(
            "block not accepted; abstaining",
            {{"view", replica_.view()}, {"block", ToHex(event.hash)}, {"reason", event.reason}});
      }
      return;
    case Kind::kBodyDeclined:
      LogInfo("interpreter declined to build a body",
              {{"view", event.view}, {"code", event.reason}});
      return;
    case Kind::kBodyDoesNotApply:
      LogWarn("interpreter body does not apply; proposing an empty block",
              {{"view", event.view}, {"reason", event.reason}});
      return;
    case Kind::kParentLedgerUnknown:
      LogWarn("cannot build a block: parent ledger unknown",
              {{"view", event.view}, {"parent", ToHex(event.hash)}});
      return;
    case Kind::kCertificateIssued: {
      certificates_issued_->Increment();
      const CertificateRecord& record = *event.certificate;
      LogInfo("certificate", {{"pow_height", record.identity.pow_height},
                              {"pow_hash", ToHex(record.identity.pow_block_hash)},
                              {"bft_height", record.bft_height},
                              {"view", record.committed_view}});
      return;
    }
    case Kind::kCertificatesLeftOut:
      certificates_left_out_->Increment(static_cast<double>(event.count));
      LogWarn("candidates decided without a certificate within certificate_headers_max",
              {{"count", event.count},
               {"headers_max", options_.certificate_headers_max},
               {"view", event.view}});
      return;
    case Kind::kCertificateAcknowledged:
      certificates_acknowledged_->Increment();
      return;
    case Kind::kCertificateRefused:
      certificates_refused_->Increment();
      certificates_refused_outstanding_->Set(static_cast<double>(event.count));
      LogError("the interpreter refused a certificate; not offering it again until it re-attaches",
               {{"pow_height", event.certificate ? event.certificate->identity.pow_height : 0},
                {"refused", event.count}});
      return;
    case Kind::kStaleAnswer:
      rejections_->Add({{"reason", "interpreter_stale_answer"}}).Increment();
      return;
    case Kind::kMalformedBody:
      rejections_->Add({{"reason", "interpreter_malformed_body"}}).Increment();
      LogWarn("interpreter sent a malformed body", {{"view", event.view}});
      return;
    case Kind::kInterpreterTimeout:
      rejections_->Add({{"reason", "interpreter_timeout"}}).Increment();
      return;
    case Kind::kLedgerUnknown:
      storage_failures_->Add({{"what", "ledger"}}).Increment();
      LogError("a decided block's ledger cannot be computed here; the executed mark stays below it",
               {{"height", event.count}, {"block", ToHex(event.hash)}});
      return;
    case Kind::kFastForward:
      fast_forwards_->Increment();
      LogWarn("fast-forward past pruned blocks", {{"height", event.count}, {"view", event.view}});
      return;
  }
}

// ---- Interpreter ------------------------------------------------------------------

void ConsensusNode::HandleInterpreterFrame(const v1::InterpreterToBft& frame) {
  auto answered = [this](uint64_t request_id) {
    auto asked = asked_.find(request_id);
    if (asked == asked_.end()) return;
    interpreter_round_trip_->Observe(SecondsSince(asked->second));
    asked_.erase(asked);
  };
  switch (frame.kind_case()) {
    case v1::InterpreterToBft::kCreateBlockBody: {
      const v1::CreateBlockBodyResponse& response = frame.create_block_body();
      answered(response.request_id());
      BodyAnswer answer;
      answer.request_id = response.request_id();
      if (response.has_body()) {
        const Bytes encoded = BytesOf(response.body());
        Reader reader(encoded);
        Body body = DecodeBody(&reader);
        reader.ExpectEnd();
        answer.malformed = !reader.ok();
        if (reader.ok()) answer.body = std::move(body);
      } else {
        answer.code = response.no_body().code();
      }
      RunApplication(app_.OnBodyAnswer(answer));
      return;
    }
    case v1::InterpreterToBft::kValidateBlockBody: {
      const v1::ValidateBlockBodyResponse& response = frame.validate_block_body();
      answered(response.request_id());
      RunApplication(
          app_.OnVerdictAnswer({response.request_id(),
                                response.verdict() == v1::ValidateBlockBodyResponse::VERDICT_ACCEPT,
                                response.reason()}));
      return;
    }
    case v1::InterpreterToBft::kNewCheckpointCandidate:
      RunApplication(app_.OnCandidatePending());
      Run(replica_.OnCandidatePending());
      return;
    case v1::InterpreterToBft::kCertificateAck: {
      const v1::CertificateAck& ack = frame.certificate_ack();
      // A consumer that finds the certificate invalid will not change its mind by
      // being asked again (DESIGN: refusals are counted and alarmed, never looped).
      CertificateAnswer::Outcome outcome = ack.outcome() == v1::CERTIFICATE_OUTCOME_INVALID
                                               ? CertificateAnswer::Outcome::kRefused
                                           : ack.durable() ? CertificateAnswer::Outcome::kDurable
                                                           : CertificateAnswer::Outcome::kProgress;
      RunApplication(app_.OnCertificateAnswer({ack.request_id(), outcome}));
      return;
    }
    case v1::InterpreterToBft::kNewProposerBlock:
      return;  // No mempool for checkpointing (Advocate, later).
    default:
      rejections_->Add({{"reason", "interpreter_unexpected_frame"}}).Increment();
      return;
  }
}

}  // namespace metronome::bft
