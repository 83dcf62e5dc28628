#include "services/bft/shell/checkpoints_service.h"

#include "common/proto_bytes.h"

namespace metronome::bft {
namespace {

constexpr size_t kWatchBatch = 64;

grpc::Status Unavailable(const absl::Status& status) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "certificate store: " + std::string(status.message()));
}

}  // namespace

v1::CheckpointReply CheckpointsService::ReplyOf(const CertificateRecord& record) {
  v1::CheckpointReply reply;
  v1::Certificate* certificate = reply.mutable_certificate();
  certificate->set_encoded(StringOf(record.encoded));
  certificate->mutable_identity()->set_chain_id(record.identity.chain_id);
  certificate->mutable_identity()->set_pow_height(record.identity.pow_height);
  certificate->mutable_identity()->set_pow_block_hash(StringOf(record.identity.pow_block_hash));
  reply.set_bft_height(record.bft_height);
  reply.set_bft_block_hash(StringOf(record.bft_block_hash));
  reply.set_committed_view(record.committed_view);
  return reply;
}

void CheckpointsService::NotifyNewCertificate() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++generation_;
  }
  cv_.notify_all();
}

void CheckpointsService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
}

grpc::Status CheckpointsService::Latest(grpc::ServerContext*, const v1::LatestRequest*,
                                        v1::CheckpointReply* reply) {
  absl::StatusOr<std::optional<CertificateRecord>> latest = store_->LatestCertificate();
  if (!latest.ok()) return Unavailable(latest.status());
  if (!*latest) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no certificate issued yet");
  *reply = ReplyOf(**latest);
  return grpc::Status::OK;
}

grpc::Status CheckpointsService::ByPowHeight(grpc::ServerContext*,
                                             const v1::ByPowHeightRequest* request,
                                             v1::CheckpointReply* reply) {
  absl::StatusOr<std::optional<CertificateRecord>> found =
      store_->CertificateAt(request->pow_height(), request->at_or_below());
  if (!found.ok()) return Unavailable(found.status());
  if (!*found) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "no certificate " +
                            std::string(request->at_or_below() ? "at or below" : "at") +
                            " PoW height " + std::to_string(request->pow_height()));
  }
  *reply = ReplyOf(**found);
  return grpc::Status::OK;
}

grpc::Status CheckpointsService::Watch(grpc::ServerContext* context,
                                       const v1::WatchRequest* request,
                                       grpc::ServerWriter<v1::CheckpointReply>* writer) {
  uint64_t after = request->after_pow_height();
  while (!context->IsCancelled()) {
    uint64_t generation;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
      generation = generation_;
    }
    absl::StatusOr<std::vector<CertificateRecord>> batch =
        store_->CertificatesAbove(after, kWatchBatch);
    if (!batch.ok()) return Unavailable(batch.status());
    for (const CertificateRecord& record : *batch) {
      if (!writer->Write(ReplyOf(record))) return grpc::Status::OK;
      after = record.identity.pow_height;
    }
    if (batch->size() == kWatchBatch) continue;
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(500),
                 [&] { return stopping_ || generation_ != generation; });
  }
  return grpc::Status::OK;
}

}  // namespace metronome::bft
