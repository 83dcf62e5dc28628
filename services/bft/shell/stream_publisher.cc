#include "services/bft/shell/stream_publisher.h"

#include <chrono>
#include <condition_variable>

#include "services/bft/shell/wire.h"

namespace metronome::bft {
namespace {

constexpr size_t kOwnLogPage = 1024;

uint64_t UnixMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

struct StreamPublisher::Subscriber {
  uint64_t from_view = 0;
  std::condition_variable cv;
  // Guarded by the publisher's mutex_.
  std::deque<std::shared_ptr<const v1::StreamRecord>> queue;
  bool overflowed = false;  // Guarded by the publisher's mutex_.
};

class StreamPublisher::Service final : public v1::ConsensusStream::Service {
 public:
  explicit Service(StreamPublisher* publisher) : publisher_(publisher) {}
  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::StreamRecord>* writer) override {
    return publisher_->Subscribe(context, *request, writer);
  }

 private:
  StreamPublisher* publisher_;
};

StreamPublisher::StreamPublisher(PublisherOptions options, const PublicKey& observer,
                                 OwnLogReader own_log, prometheus::Registry* registry)
    : options_(options),
      observer_(observer),
      own_log_(std::move(own_log)),
      service_(std::make_unique<Service>(this)) {
  subscribers_gauge_ = &prometheus::BuildGauge()
                            .Name("metronome_bft_stream_subscribers")
                            .Help("Open ConsensusStream subscriptions")
                            .Register(*registry)
                            .Add({});
  records_published_ = &prometheus::BuildCounter()
                            .Name("metronome_bft_stream_records_total")
                            .Help("Records published on the ConsensusStream")
                            .Register(*registry)
                            .Add({});
  subscribers_dropped_ = &prometheus::BuildCounter()
                              .Name("metronome_bft_stream_subscribers_dropped_total")
                              .Help("Subscriptions ended by the server, by reason")
                              .Register(*registry);
}

StreamPublisher::~StreamPublisher() { Stop(); }

grpc::Service* StreamPublisher::service() { return service_.get(); }

void StreamPublisher::Stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = true;
  for (Subscriber* subscriber : subscribers_) subscriber->cv.notify_all();
}

void StreamPublisher::Publish(const std::vector<StreamRecord>& records) {
  if (records.empty()) return;
  const uint64_t now_ms = UnixMs();
  std::lock_guard<std::mutex> lock(mutex_);
  for (const StreamRecord& record : records) {
    auto proto =
        std::make_shared<const v1::StreamRecord>(StreamRecordToProto(record, 0, observer_, now_ms));
    for (Subscriber* subscriber : subscribers_) {
      if (subscriber->overflowed || record.view < subscriber->from_view) continue;
      if (subscriber->queue.size() >= options_.subscriber_queue_max) {
        subscriber->overflowed = true;
      } else {
        subscriber->queue.push_back(proto);
      }
      subscriber->cv.notify_all();
    }
    history_.push_back(std::move(proto));
    if (history_.size() > options_.history_records_max) history_.pop_front();
  }
  records_published_->Increment(static_cast<double>(records.size()));
}

grpc::Status StreamPublisher::Subscribe(grpc::ServerContext* context,
                                        const v1::SubscribeRequest& request,
                                        grpc::ServerWriter<v1::StreamRecord>* writer) {
  Subscriber subscriber;
  subscriber.from_view = request.from_view();
  std::vector<std::shared_ptr<const v1::StreamRecord>> retained;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
    if (subscribers_.size() >= options_.subscribers_max) {
      subscribers_dropped_->Add({{"reason", "too_many_subscribers"}}).Increment();
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "too many subscriptions (subscribers_max = " +
                              std::to_string(options_.subscribers_max) + ")");
    }
    // Registered before the history is read, so nothing falls between history and
    // live (records may repeat; monitors deduplicate).
    subscribers_.insert(&subscriber);
    subscribers_gauge_->Increment();
    if (request.include_history()) {
      for (const std::shared_ptr<const v1::StreamRecord>& record : history_) {
        // Own artefacts come from the durable log below, in full.
        if (record->view() >= request.from_view() &&
            record->source() != v1::StreamRecord::SOURCE_OWN) {
          retained.push_back(record);
        }
      }
    }
  }
  uint64_t sequence = 0;
  bool open = true;
  if (request.include_history()) {
    const uint64_t now_ms = UnixMs();
    // The own-signature log page by page, whole views at a time, so a subscriber from
    // view 0 never holds the whole log in memory.
    uint64_t from_view = request.from_view();
    while (open) {
      std::vector<StreamRecord> page = own_log_(from_view, kOwnLogPage);
      const bool more = page.size() == kOwnLogPage && page.front().view != page.back().view;
      if (more) {
        // The last view may continue on the next page: read it again there.
        from_view = page.back().view;
        while (!page.empty() && page.back().view == from_view) page.pop_back();
      }
      for (const StreamRecord& own : page) {
        if (!open) break;
        open = writer->Write(StreamRecordToProto(own, ++sequence, observer_, now_ms));
      }
      if (!more) break;
    }
    for (const std::shared_ptr<const v1::StreamRecord>& record : retained) {
      if (!open) break;
      v1::StreamRecord numbered = *record;
      numbered.set_sequence(++sequence);
      open = writer->Write(numbered);
    }
  }
  grpc::Status status = grpc::Status::OK;
  while (open) {
    std::deque<std::shared_ptr<const v1::StreamRecord>> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      subscriber.cv.wait_for(lock, std::chrono::milliseconds(200), [&] {
        return stopping_ || subscriber.overflowed || !subscriber.queue.empty();
      });
      if (stopping_) {
        status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
        break;
      }
      if (subscriber.overflowed) {
        subscribers_dropped_->Add({{"reason", "slow_subscriber"}}).Increment();
        status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              "subscriber too slow: queue exceeded " +
                                  std::to_string(options_.subscriber_queue_max) +
                                  " records; resubscribe from the last view processed");
        break;
      }
      batch.swap(subscriber.queue);
    }
    if (context->IsCancelled()) break;
    for (const std::shared_ptr<const v1::StreamRecord>& record : batch) {
      v1::StreamRecord numbered = *record;
      numbered.set_sequence(++sequence);
      if (!writer->Write(numbered)) {
        open = false;
        break;
      }
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  subscribers_.erase(&subscriber);
  subscribers_gauge_->Decrement();
  return status;
}

}  // namespace metronome::bft
