#ifndef METRONOME_SERVICES_BFT_SHELL_CHECKPOINTS_SERVICE_H_
#define METRONOME_SERVICES_BFT_SHELL_CHECKPOINTS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <mutex>

#include "metronome/v1/checkpoints.grpc.pb.h"
#include "services/bft/shell/bft_store.h"

// Checkpoints (checkpoints.proto): the certificates this member's bft issued, read from
// its store. Watchers read from the store at their own pace and are woken by
// NotifyNewCertificate, so a slow watcher costs nothing but its own stream. Thread-safe.
namespace metronome::bft {

class CheckpointsService final : public v1::Checkpoints::Service {
 public:
  explicit CheckpointsService(BftStore* store) : store_(store) {}

  void NotifyNewCertificate();
  // Ends every Watch (so the server can shut down).
  void Stop();

  grpc::Status Latest(grpc::ServerContext* context, const v1::LatestRequest* request,
                      v1::CheckpointReply* reply) override;
  grpc::Status ByPowHeight(grpc::ServerContext* context, const v1::ByPowHeightRequest* request,
                           v1::CheckpointReply* reply) override;
  grpc::Status Watch(grpc::ServerContext* context, const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::CheckpointReply>* writer) override;

  static v1::CheckpointReply ReplyOf(const CertificateRecord& record);

 private:
  BftStore* store_;  // Borrowed.
  std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;  // Guarded by mutex_; bumped per new certificate.
  bool stopping_ = false;    // Guarded by mutex_.
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_SHELL_CHECKPOINTS_SERVICE_H_
