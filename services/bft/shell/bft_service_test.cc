#include "services/bft/shell/bft_service.h"

#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/federation_file.h"
#include "common/key_file.h"
#include "common/test_support.h"

// Deliberately no generated health code here: the test binary links health.pb.cc only
// through the service, as metronome-bft does.
namespace metronome::bft {
namespace {

// A one-member federation's bft with every listener on a port of the kernel's choice.
std::unique_ptr<BftService> StartOneMember(const std::string& dir) {
  const metronome::testing::TestFederation test = metronome::testing::MakeTestFederation(1);
  std::ofstream(dir + "/federation.toml") << FederationToToml(test.federation);
  EXPECT_TRUE(WriteKeyFile(dir + "/bft.key", test.keys[0]).ok());
  const std::string path = dir + "/bft.toml";
  std::ofstream(path) << "federation_file = \"" << dir << "/federation.toml\"\n"
                      << "key_file = \"" << dir << "/bft.key\"\n"
                      << "data_dir = \"" << dir << "/data/bft\"\n"
                      << "interpreter_public_key = \""
                      << ToHex(SigningKey::FromSeed(Seed{0x77}).public_key()) << "\"\n"
                      << "peers = [\"127.0.0.1:7100\"]\n"
                      << "[listen]\nfederation = \"127.0.0.1:0\"\ninterpreter = \"127.0.0.1:0\"\n"
                      << "public = \"127.0.0.1:0\"\nmetrics = \"127.0.0.1:0\"\n";
  absl::StatusOr<BftConfig> config = LoadBftConfig(path, {}, {});
  EXPECT_TRUE(config.ok()) << config.status();
  if (!config.ok()) return nullptr;
  absl::StatusOr<std::unique_ptr<BftService>> service = BftService::Start(*std::move(config));
  EXPECT_TRUE(service.ok()) << service.status();
  return service.ok() ? *std::move(service) : nullptr;
}

// One grpc.reflection.v1alpha request, encoded by hand (Debian ships the reflection
// service but not its .proto): the bytes of the first response.
std::string AskReflection(int port, const std::string& request) {
  grpc::GenericStub stub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue queue;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  EXPECT_TRUE(queue.Next(&tag, &ok) && ok);
  grpc::Slice slice(request);
  grpc::ByteBuffer buffer(&slice, 1);
  call->Write(buffer, reinterpret_cast<void*>(2));
  EXPECT_TRUE(queue.Next(&tag, &ok) && ok);
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  EXPECT_TRUE(queue.Next(&tag, &ok) && ok);
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(reply.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& part : slices) {
    bytes.append(reinterpret_cast<const char*>(part.begin()), part.size());
  }
  context.TryCancel();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return bytes;
}

// Regression: reflection listed grpc.health.v1.Health but answered "not found" when
// asked for its file, so grpcurl could not call health on a running bft.
TEST(BftServiceTest, ReflectionDescribesTheHealthServiceOnEveryListener) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  std::unique_ptr<BftService> service = StartOneMember(dir);
  ASSERT_NE(service, nullptr);
  const std::string symbol = "grpc.health.v1.Health";
  // ServerReflectionRequest.file_containing_symbol (field 4).
  const std::string request = std::string(1, 0x22) + static_cast<char>(symbol.size()) + symbol;
  for (const char* listener : {"federation", "interpreter", "public"}) {
    SCOPED_TRACE(listener);
    google::protobuf::UnknownFieldSet response;
    ASSERT_TRUE(response.ParseFromString(AskReflection(service->ports().at(listener), request)));
    // file_descriptor_response (4) holding health.proto, not error_response (7).
    bool described = false;
    for (int i = 0; i < response.field_count(); ++i) {
      EXPECT_NE(response.field(i).number(), 7) << "reflection answered with an error";
      if (response.field(i).number() != 4) continue;
      described = response.field(i).length_delimited().find("grpc/health/v1/health.proto") !=
                  std::string::npos;
    }
    EXPECT_TRUE(described);
  }
  service->Stop();
}

}  // namespace
}  // namespace metronome::bft
