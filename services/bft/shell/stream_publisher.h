#ifndef METRONOME_SERVICES_BFT_SHELL_STREAM_PUBLISHER_H_
#define METRONOME_SERVICES_BFT_SHELL_STREAM_PUBLISHER_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>

#include "common/ed25519.h"
#include "metronome/v1/consensus_stream.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/bft/core/outputs.h"

// ConsensusStream.Subscribe (consensus_stream.proto, DESIGN §6): every record the
// consensus core reports, retained in a bounded in-memory window, plus the durable
// own-signature log; history from a view, then live. A subscriber whose queue overflows
// is dropped with RESOURCE_EXHAUSTED (it resubscribes from its last view), so a slow
// reader never slows consensus: Publish only appends under a short lock. Thread-safe.
namespace metronome::bft {

struct PublisherOptions {
  size_t history_records_max = 200000;
  size_t subscribers_max = 16;
  size_t subscriber_queue_max = 8192;
};

class StreamPublisher {
 public:
  // `own_log(from_view, count_max)`: at most count_max records of this node's
  // own-signature log from a view on, ascending (from storage). Read page by page.
  using OwnLogReader =
      std::function<std::vector<StreamRecord>(uint64_t from_view, size_t count_max)>;

  StreamPublisher(PublisherOptions options, const PublicKey& observer, OwnLogReader own_log,
                  prometheus::Registry* registry);
  ~StreamPublisher();

  // Records of one consensus input, in order. Never blocks on subscribers.
  void Publish(const std::vector<StreamRecord>& records);
  // Ends every subscription (so the server can shut down).
  void Stop();

  grpc::Service* service();

 private:
  class Service;
  struct Subscriber;

  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest& request,
                         grpc::ServerWriter<v1::StreamRecord>* writer);

  PublisherOptions options_;
  PublicKey observer_;
  OwnLogReader own_log_;
  std::unique_ptr<Service> service_;

  std::mutex mutex_;
  // Guarded by mutex_; sequence unset. Shared, so a subscriber copies pointers, not
  // records, under the lock Publish (the consensus actor) needs.
  std::deque<std::shared_ptr<const v1::StreamRecord>> history_;
  std::set<Subscriber*> subscribers_;  // Guarded by mutex_.
  bool stopping_ = false;              // Guarded by mutex_.

  prometheus::Gauge* subscribers_gauge_;
  prometheus::Counter* records_published_;
  prometheus::Family<prometheus::Counter>* subscribers_dropped_;
};

}  // namespace metronome::bft

#endif  // METRONOME_SERVICES_BFT_SHELL_STREAM_PUBLISHER_H_
