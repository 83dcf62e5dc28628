// StreamPublisher over real gRPC on loopback: history (the own-signature log, then the
// retained received records) before live records in one increasing sequence, the view
// filter, dropping a slow subscriber without ever blocking Publish, the subscription
// quota, the subscriber gauge and Stop.
#include "services/bft/shell/stream_publisher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/consensus_statements.h"
#include "common/proto_bytes.h"
#include "common/server.h"
#include "prometheus/registry.h"
#include "tests/support/wait_for.h"

namespace metronome::bft {
namespace {

using metronome::testing::WaitFor;

const PublicKey kObserver = SigningKey::FromSeed(Seed{0x42}).public_key();

// A timeout this node signed for `view` (as the consensus core records it).
StreamRecord Own(uint64_t view) {
  TimeoutStatement statement;
  statement.view = view;
  statement.high_qc_view = view - 1;
  StreamRecord record;
  record.view = view;
  record.source = StreamRecord::Source::kOwn;
  record.item = StreamRecord::Item::kArtefact;
  record.payload = EncodeTimeoutStatement(statement);
  record.signature.fill(static_cast<uint8_t>(view));
  record.signer = 0;
  return record;
}

// The header of a block proposed in `view`, received from a peer or obtained by sync.
StreamRecord HeaderRecord(uint64_t view, StreamRecord::Source source) {
  Header header;
  header.height = view;
  header.view = view;
  header.post_state_hash.fill(static_cast<uint8_t>(view));
  StreamRecord record;
  record.view = view;
  record.source = source;
  record.item = StreamRecord::Item::kHeader;
  record.payload = EncodeHeader(header);
  return record;
}

StreamRecord Received(uint64_t view) { return HeaderRecord(view, StreamRecord::Source::kReceived); }

StreamRecord Synced(uint64_t view) { return HeaderRecord(view, StreamRecord::Source::kSynced); }

// "own@3", "received@4", "synced@8".
std::string Describe(const v1::StreamRecord& record) {
  std::string source;
  switch (record.source()) {
    case v1::StreamRecord::SOURCE_OWN:
      source = "own";
      break;
    case v1::StreamRecord::SOURCE_RECEIVED:
      source = "received";
      break;
    case v1::StreamRecord::SOURCE_SYNCED:
      source = "synced";
      break;
    default:
      source = "unspecified";
  }
  return source + "@" + std::to_string(record.view());
}

// One Subscribe call from the client's side; cancelled when it goes out of scope.
struct Subscription {
  ~Subscription() {
    if (reader != nullptr && !finished) {
      context.TryCancel();
      reader->Finish();
    }
  }

  // Reads up to `count` records; fewer when the stream ends first.
  std::vector<v1::StreamRecord> Read(size_t count) {
    std::vector<v1::StreamRecord> records;
    v1::StreamRecord record;
    while (records.size() < count && reader->Read(&record)) records.push_back(record);
    return records;
  }

  // Reads until the server ends the stream; returns its status.
  grpc::Status ReadToEnd(std::vector<v1::StreamRecord>* records) {
    v1::StreamRecord record;
    while (reader->Read(&record)) records->push_back(record);
    finished = true;
    return reader->Finish();
  }

  grpc::Status Cancel() {
    context.TryCancel();
    std::vector<v1::StreamRecord> ignored;
    return ReadToEnd(&ignored);
  }

  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::StreamRecord>> reader;
  bool finished = false;
};

void ExpectSequenceFromOne(const std::vector<v1::StreamRecord>& records) {
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].sequence(), i + 1) << "record " << i << ": " << Describe(records[i]);
  }
}

class StreamPublisherTest : public ::testing::Test {
 protected:
  ~StreamPublisherTest() override {
    if (publisher_) publisher_->Stop();
    if (server_) server_->Shutdown();
  }

  void Start(PublisherOptions options) {
    publisher_ = std::make_unique<StreamPublisher>(
        options, kObserver,
        [this](uint64_t from_view, size_t count_max) {
          std::lock_guard<std::mutex> lock(own_log_mutex_);
          own_log_reads_.push_back(from_view);
          std::vector<StreamRecord> out;
          for (const StreamRecord& record : own_log_) {
            if (record.view >= from_view && out.size() < count_max) out.push_back(record);
          }
          return out;
        },
        &registry_);
    ServerSpec spec;
    spec.service_name = "bft";
    spec.listeners = {{"public", "127.0.0.1:0"}};
    spec.services = {publisher_->service()};
    absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServer(spec);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::ConsensusStream::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->ports().at("public")),
                            grpc::InsecureChannelCredentials()));
  }

  // What the consensus node does with one input's records: its own artefacts are
  // persisted in the own-signature log first, then everything is published.
  void PersistAndPublish(const std::vector<StreamRecord>& records) {
    {
      std::lock_guard<std::mutex> lock(own_log_mutex_);
      for (const StreamRecord& record : records) {
        if (record.source == StreamRecord::Source::kOwn) own_log_.push_back(record);
      }
    }
    publisher_->Publish(records);
  }

  std::unique_ptr<Subscription> Subscribe(uint64_t from_view, bool include_history) {
    auto subscription = std::make_unique<Subscription>();
    subscription->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::SubscribeRequest request;
    request.set_from_view(from_view);
    request.set_include_history(include_history);
    subscription->reader = stub_->Subscribe(&subscription->context, request);
    return subscription;
  }

  size_t OwnLogReads() {
    std::lock_guard<std::mutex> lock(own_log_mutex_);
    return own_log_reads_.size();
  }

  // The value of the metric `name` (the sample with `label_value`, if given); 0 if absent.
  double Metric(const std::string& name, const std::string& label_value = "") {
    for (const prometheus::MetricFamily& family : registry_.Collect()) {
      if (family.name != name) continue;
      for (const prometheus::ClientMetric& metric : family.metric) {
        bool matches = label_value.empty();
        for (const prometheus::ClientMetric::Label& label : metric.label) {
          matches = matches || label.value == label_value;
        }
        if (!matches) continue;
        return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                              : metric.gauge.value;
      }
    }
    return 0;
  }

  double Subscribers() { return Metric("metronome_bft_stream_subscribers"); }

  bool WaitForSubscribers(double count) {
    return WaitFor([&] { return Subscribers() == count; });
  }

  prometheus::Registry registry_;
  std::mutex own_log_mutex_;
  std::vector<StreamRecord> own_log_;    // Guarded by own_log_mutex_.
  std::vector<uint64_t> own_log_reads_;  // Guarded by own_log_mutex_: from_view asked.
  std::unique_ptr<StreamPublisher> publisher_;
  std::unique_ptr<RunningServer> server_;  // Declared after publisher_: destroyed first.
  std::unique_ptr<v1::ConsensusStream::Stub> stub_;
};

TEST_F(StreamPublisherTest, HistoryFromAViewArrivesBeforeLiveRecordsInOneSequenceFromOne) {
  Start(PublisherOptions{});
  for (uint64_t view = 1; view <= 6; ++view) PersistAndPublish({Own(view), Received(view)});

  std::unique_ptr<Subscription> subscription = Subscribe(3, /*include_history=*/true);
  // Registered and done reading the own log: whatever is published now is live only.
  ASSERT_TRUE(WaitFor([&] { return Subscribers() == 1 && OwnLogReads() == 1; }));
  PersistAndPublish({Received(2)});  // Below from_view: never sent.
  PersistAndPublish({Own(7), Received(7)});
  PersistAndPublish({Synced(8)});

  const std::vector<v1::StreamRecord> records = subscription->Read(11);
  std::vector<std::string> described;
  for (const v1::StreamRecord& record : records) described.push_back(Describe(record));
  // The own log in full from view 3, then the retained received records from view 3
  // (own ones are not repeated from the window), then live.
  EXPECT_EQ(described, (std::vector<std::string>{"own@3", "own@4", "own@5", "own@6", "received@3",
                                                 "received@4", "received@5", "received@6", "own@7",
                                                 "received@7", "synced@8"}));
  ExpectSequenceFromOne(records);
  {
    std::lock_guard<std::mutex> lock(own_log_mutex_);
    EXPECT_EQ(own_log_reads_, std::vector<uint64_t>{3});
  }
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records[0].observer_public_key(), StringOf(kObserver));
  EXPECT_EQ(records[0].artefact().payload(), StringOf(Own(3).payload));
  EXPECT_EQ(records[0].artefact().signature(), StringOf(Own(3).signature));
  EXPECT_EQ(records[4].header(), StringOf(Received(3).payload));

  // Nothing else was sent (in particular not the view-2 record).
  PersistAndPublish({Received(9)});
  const std::vector<v1::StreamRecord> next = subscription->Read(1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(Describe(next[0]), "received@9");
  EXPECT_EQ(next[0].sequence(), 12u);
}

TEST_F(StreamPublisherTest, WithoutHistoryOnlyLiveRecordsArrive) {
  Start(PublisherOptions{});
  for (uint64_t view = 1; view <= 3; ++view) PersistAndPublish({Own(view), Received(view)});

  std::unique_ptr<Subscription> subscription = Subscribe(0, /*include_history=*/false);
  ASSERT_TRUE(WaitForSubscribers(1));
  PersistAndPublish({Received(4)});
  PersistAndPublish({Own(5)});

  const std::vector<v1::StreamRecord> records = subscription->Read(2);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(Describe(records[0]), "received@4");
  EXPECT_EQ(Describe(records[1]), "own@5");
  ExpectSequenceFromOne(records);
  EXPECT_EQ(OwnLogReads(), 0u);
}

TEST_F(StreamPublisherTest, ASlowSubscriberIsDroppedWithoutBlockingPublishAndResumesByView) {
  PublisherOptions options;
  options.subscriber_queue_max = 4;
  Start(options);

  std::unique_ptr<Subscription> slow = Subscribe(1, /*include_history=*/false);
  ASSERT_TRUE(WaitForSubscribers(1));
  for (uint64_t view = 1; view <= 3; ++view) PersistAndPublish({Received(view)});
  std::vector<v1::StreamRecord> seen = slow->Read(3);
  ASSERT_EQ(seen.size(), 3u);

  // The client stops reading while 10000 records are published, in inputs of 10
  // records (more than the queue holds). Publish returns every time regardless.
  constexpr uint64_t kLastView = 10003;
  for (uint64_t first = 4; first <= kLastView; first += 10) {
    std::vector<StreamRecord> input;
    for (uint64_t view = first; view < first + 10 && view <= kLastView; ++view) {
      input.push_back(Received(view));
    }
    publisher_->Publish(input);
  }
  EXPECT_EQ(Metric("metronome_bft_stream_records_total"), 10003);

  const grpc::Status dropped = slow->ReadToEnd(&seen);
  EXPECT_EQ(dropped.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << dropped.error_message();
  EXPECT_EQ(Metric("metronome_bft_stream_subscribers_dropped_total", "slow_subscriber"), 1);
  ASSERT_TRUE(WaitForSubscribers(0));
  ExpectSequenceFromOne(seen);
  const uint64_t last_view = seen.back().view();

  // Resubscribing from the last view processed replays from it (that view repeats),
  // then goes live.
  std::unique_ptr<Subscription> resumed = Subscribe(last_view, /*include_history=*/true);
  ASSERT_TRUE(WaitForSubscribers(1));
  publisher_->Publish({Received(kLastView + 1)});
  const size_t expected = kLastView + 1 - last_view + 1;
  const std::vector<v1::StreamRecord> records = resumed->Read(expected);
  ASSERT_EQ(records.size(), expected);
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(records[i].view(), last_view + i) << "record " << i;
    ASSERT_EQ(records[i].sequence(), i + 1) << "record " << i;
  }
}

TEST_F(StreamPublisherTest, OneSubscriptionBeyondSubscribersMaxIsRefusedAtOnce) {
  PublisherOptions options;
  options.subscribers_max = 2;
  Start(options);
  std::unique_ptr<Subscription> first = Subscribe(0, false);
  std::unique_ptr<Subscription> second = Subscribe(0, false);
  ASSERT_TRUE(WaitForSubscribers(2));

  std::unique_ptr<Subscription> third = Subscribe(0, false);
  std::vector<v1::StreamRecord> records;
  const grpc::Status refused = third->ReadToEnd(&records);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_TRUE(records.empty());
  EXPECT_EQ(Metric("metronome_bft_stream_subscribers_dropped_total", "too_many_subscribers"), 1);
  EXPECT_EQ(Subscribers(), 2);

  // A freed slot is taken again.
  EXPECT_EQ(first->Cancel().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitForSubscribers(1));
  std::unique_ptr<Subscription> fourth = Subscribe(0, false);
  ASSERT_TRUE(WaitForSubscribers(2));
  PersistAndPublish({Received(1)});
  EXPECT_EQ(fourth->Read(1).size(), 1u);
  EXPECT_EQ(second->Read(1).size(), 1u);
}

TEST_F(StreamPublisherTest, TheSubscriberGaugeReturnsToZeroWhenClientsCancel) {
  Start(PublisherOptions{});
  std::vector<std::unique_ptr<Subscription>> subscriptions;
  for (int i = 0; i < 3; ++i) subscriptions.push_back(Subscribe(0, i % 2 == 0));
  ASSERT_TRUE(WaitForSubscribers(3));
  for (std::unique_ptr<Subscription>& subscription : subscriptions) {
    EXPECT_EQ(subscription->Cancel().error_code(), grpc::StatusCode::CANCELLED);
  }
  EXPECT_TRUE(WaitForSubscribers(0)) << Subscribers();
}

TEST_F(StreamPublisherTest, StopEndsOpenSubscriptionsAndRefusesNewOnes) {
  Start(PublisherOptions{});
  std::unique_ptr<Subscription> first = Subscribe(0, true);
  std::unique_ptr<Subscription> second = Subscribe(0, false);
  ASSERT_TRUE(WaitForSubscribers(2));

  publisher_->Stop();
  for (Subscription* subscription : {first.get(), second.get()}) {
    std::vector<v1::StreamRecord> records;
    const grpc::Status status = subscription->ReadToEnd(&records);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  }
  EXPECT_TRUE(WaitForSubscribers(0)) << Subscribers();

  std::unique_ptr<Subscription> late = Subscribe(0, false);
  std::vector<v1::StreamRecord> records;
  EXPECT_EQ(late->ReadToEnd(&records).error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace metronome::bft
