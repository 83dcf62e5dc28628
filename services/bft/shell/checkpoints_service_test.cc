// CheckpointsService over a real BftStore and real gRPC on loopback: Latest,
// ByPowHeight (exact and at-or-below), and Watch (history in ascending order, then new
// certificates once notified, ended by Stop).
#include "services/bft/shell/checkpoints_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "common/proto_bytes.h"
#include "common/server.h"
#include "common/test_support.h"

namespace metronome::bft {
namespace {

class CheckpointsServiceTest : public ::testing::Test {
 protected:
  CheckpointsServiceTest() : federation_(metronome::testing::MakeTestFederation(4)) {}

  ~CheckpointsServiceTest() override {
    if (service_) service_->Stop();
    if (server_) server_->Shutdown();
  }

  void SetUp() override {
    const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" +
                            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    absl::StatusOr<std::unique_ptr<BftStore>> store =
        BftStore::Open(dir, federation_.federation.id(), federation_.keys[0].public_key());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    service_ = std::make_unique<CheckpointsService>(store_.get());
    ServerSpec spec;
    spec.service_name = "bft";
    spec.listeners = {{"public", "127.0.0.1:0"}};
    spec.services = {service_.get()};
    absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServer(spec);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    stub_ = v1::Checkpoints::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->ports().at("public")),
                            grpc::InsecureChannelCredentials()));
  }

  // A quorum-signed certificate for the devchain block at `pow_height`, as the bft
  // stores it.
  CertificateRecord MakeRecord(uint64_t pow_height) {
    const CheckpointCertificate certificate = metronome::testing::MakeCertificateSignedByQuorum(
        federation_, metronome::testing::MakeTestCandidate("devchain", pow_height));
    CertificateRecord record;
    record.encoded = EncodeCheckpointCertificate(certificate);
    record.identity = IdentityOf(certificate);
    record.bft_height = certificate.headers.back().height;
    record.bft_block_hash = HeaderHash(certificate.headers.back());
    record.committed_view = certificate.commit_qc.view;
    return record;
  }

  // Stores a certificate and tells the service, as the consensus node does.
  void Issue(uint64_t pow_height) {
    ASSERT_TRUE(store_->PutCertificate(MakeRecord(pow_height)).ok());
    service_->NotifyNewCertificate();
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return context;
  }

  grpc::Status ByPowHeight(uint64_t pow_height, bool at_or_below, v1::CheckpointReply* reply) {
    v1::ByPowHeightRequest request;
    request.set_pow_height(pow_height);
    request.set_at_or_below(at_or_below);
    return stub_->ByPowHeight(Context().get(), request, reply);
  }

  void ExpectReplyOf(const v1::CheckpointReply& reply, uint64_t pow_height) {
    const CertificateRecord record = MakeRecord(pow_height);
    EXPECT_EQ(reply.certificate().encoded(), StringOf(record.encoded));
    EXPECT_EQ(reply.certificate().identity().chain_id(), "devchain");
    EXPECT_EQ(reply.certificate().identity().pow_height(), pow_height);
    EXPECT_EQ(reply.certificate().identity().pow_block_hash(),
              StringOf(record.identity.pow_block_hash));
    EXPECT_EQ(reply.bft_height(), record.bft_height);
    EXPECT_EQ(reply.bft_block_hash(), StringOf(record.bft_block_hash));
    EXPECT_EQ(reply.committed_view(), record.committed_view);
  }

  metronome::testing::TestFederation federation_;
  std::unique_ptr<BftStore> store_;
  std::unique_ptr<CheckpointsService> service_;
  std::unique_ptr<RunningServer> server_;  // Declared after service_: destroyed first.
  std::unique_ptr<v1::Checkpoints::Stub> stub_;
};

TEST_F(CheckpointsServiceTest, LatestIsNotFoundBeforeAnyCertificateThenTheHighest) {
  v1::CheckpointReply reply;
  EXPECT_EQ(stub_->Latest(Context().get(), v1::LatestRequest(), &reply).error_code(),
            grpc::StatusCode::NOT_FOUND);

  for (uint64_t height : {30, 10, 20}) Issue(height);
  const grpc::Status status = stub_->Latest(Context().get(), v1::LatestRequest(), &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ExpectReplyOf(reply, 30);
}

TEST_F(CheckpointsServiceTest, ByPowHeightFindsExactHeightsAndTheCoveringCertificate) {
  v1::CheckpointReply reply;
  EXPECT_EQ(ByPowHeight(10, false, &reply).error_code(), grpc::StatusCode::NOT_FOUND);
  for (uint64_t height : {10, 20, 30}) Issue(height);

  grpc::Status status = ByPowHeight(20, false, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ExpectReplyOf(reply, 20);
  EXPECT_EQ(ByPowHeight(25, false, &reply).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ByPowHeight(40, false, &reply).error_code(), grpc::StatusCode::NOT_FOUND);

  status = ByPowHeight(25, true, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ExpectReplyOf(reply, 20);
  status = ByPowHeight(20, true, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ExpectReplyOf(reply, 20);
  status = ByPowHeight(1000, true, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ExpectReplyOf(reply, 30);
  EXPECT_EQ(ByPowHeight(9, true, &reply).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CheckpointsServiceTest, WatchSendsHistoryAboveTheHeightInOrderThenNewCertificates) {
  // 70 certificates (more than one read batch), stored highest first.
  for (uint64_t height = 700; height >= 10; height -= 10) Issue(height);

  std::unique_ptr<grpc::ClientContext> context = Context();
  v1::WatchRequest request;
  request.set_after_pow_height(15);
  std::unique_ptr<grpc::ClientReader<v1::CheckpointReply>> watch =
      stub_->Watch(context.get(), request);
  std::vector<uint64_t> heights;
  v1::CheckpointReply reply;
  while (heights.size() < 69 && watch->Read(&reply)) {
    heights.push_back(reply.certificate().identity().pow_height());
  }
  std::vector<uint64_t> expected;
  for (uint64_t height = 20; height <= 700; height += 10) expected.push_back(height);
  EXPECT_EQ(heights, expected);
  ExpectReplyOf(reply, 700);

  Issue(710);
  ASSERT_TRUE(watch->Read(&reply));
  ExpectReplyOf(reply, 710);
  Issue(720);
  Issue(730);
  ASSERT_TRUE(watch->Read(&reply));
  EXPECT_EQ(reply.certificate().identity().pow_height(), 720u);
  ASSERT_TRUE(watch->Read(&reply));
  EXPECT_EQ(reply.certificate().identity().pow_height(), 730u);

  service_->Stop();
  EXPECT_FALSE(watch->Read(&reply));
  const grpc::Status status = watch->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(CheckpointsServiceTest, StopEndsAWatchWaitingForItsFirstCertificate) {
  std::unique_ptr<grpc::ClientContext> context = Context();
  std::unique_ptr<grpc::ClientReader<v1::CheckpointReply>> watch =
      stub_->Watch(context.get(), v1::WatchRequest());
  service_->Stop();
  v1::CheckpointReply reply;
  EXPECT_FALSE(watch->Read(&reply));
  const grpc::Status status = watch->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

}  // namespace
}  // namespace metronome::bft
