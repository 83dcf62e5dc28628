#include "common/server.h"

#include <arpa/inet.h>
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/metrics.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace metronome {
namespace {

std::unique_ptr<RunningServer> StartOnAnyPort() {
  ServerSpec spec;
  spec.service_name = "test";
  spec.listeners = {{"public", "127.0.0.1:0"}, {"local", "127.0.0.1:0"}};
  absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServer(spec);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

std::shared_ptr<grpc::Channel> ChannelTo(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureChannelCredentials());
}

TEST(ServerTest, EveryListenerServesHealth) {
  std::unique_ptr<RunningServer> server = StartOnAnyPort();
  ASSERT_NE(server, nullptr);
  for (const auto& [name, port] : server->ports()) {
    SCOPED_TRACE(name);
    auto stub = grpc::health::v1::Health::NewStub(ChannelTo(port));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = stub->Check(&context, {}, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
  server->SetServing(false);
  auto stub = grpc::health::v1::Health::NewStub(ChannelTo(server->ports().at("public")));
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(stub->Check(&context, {}, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
}

// Lists services through grpc.reflection.v1alpha, encoding the request by hand:
// Debian ships the reflection service but not its .proto.
std::vector<std::string> ListServicesByReflection(int port) {
  grpc::GenericStub stub(ChannelTo(port));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue queue;
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  EXPECT_TRUE(queue.Next(&tag, &ok) && ok);
  const char request[] = {0x3a, 0x00};  // Field 7 (list_services) = "".
  grpc::Slice slice(request, sizeof(request));
  grpc::ByteBuffer buffer(&slice, 1);
  call->Write(buffer, reinterpret_cast<void*>(2));
  EXPECT_TRUE(queue.Next(&tag, &ok) && ok);
  grpc::ByteBuffer reply;
  call->Read(&reply, reinterpret_cast<void*>(3));
  EXPECT_TRUE(queue.Next(&tag, &ok) && ok);
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(reply.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& part : slices)
    bytes.append(reinterpret_cast<const char*>(part.begin()), part.size());
  context.TryCancel();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  // ServerReflectionResponse.list_services_response (6) -> repeated service (1) -> name (1).
  std::vector<std::string> names;
  google::protobuf::UnknownFieldSet response;
  EXPECT_TRUE(response.ParseFromString(bytes));
  for (int i = 0; i < response.field_count(); ++i) {
    if (response.field(i).number() != 6) continue;
    google::protobuf::UnknownFieldSet list;
    EXPECT_TRUE(list.ParseFromString(response.field(i).length_delimited()));
    for (int j = 0; j < list.field_count(); ++j) {
      google::protobuf::UnknownFieldSet service;
      EXPECT_TRUE(service.ParseFromString(list.field(j).length_delimited()));
      names.push_back(service.field(0).length_delimited());
    }
  }
  return names;
}

TEST(ServerTest, ReflectionListsTheServices) {
  std::unique_ptr<RunningServer> server = StartOnAnyPort();
  ASSERT_NE(server, nullptr);
  const std::vector<std::string> names = ListServicesByReflection(server->ports().at("public"));
  EXPECT_NE(std::find(names.begin(), names.end(), "grpc.reflection.v1alpha.ServerReflection"),
            names.end());
}

TEST(ServerTest, PortInUseIsNamedInTheError) {
  std::unique_ptr<RunningServer> first = StartOnAnyPort();
  ASSERT_NE(first, nullptr);
  ServerSpec spec;
  spec.service_name = "second";
  spec.listeners = {{"federation", "127.0.0.1:" + std::to_string(first->ports().at("public"))}};
  const absl::Status status = StartServer(spec).status();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("federation"), std::string::npos) << status;
}

TEST(ServerTest, PortsFileListsEveryListener) {
  const std::string directory = getenv("TEST_TMPDIR");
  ASSERT_TRUE(WritePortsFile(directory, {{"public", 4100}, {"metrics", 4101}}).ok());
  const nlohmann::json json =
      nlohmann::json::parse(*ReadSmallFile(directory + "/ports.json", 4096));
  EXPECT_EQ(json["public"], 4100);
  EXPECT_EQ(json["metrics"], 4101);
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
  EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string response;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0)
    response.append(buffer, static_cast<size_t>(n));
  close(fd);
  return response;
}

TEST(MetricsTest, ServesBuildInfo) {
  Metrics metrics("test");
  absl::StatusOr<int> port = metrics.Serve("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  const std::string page = HttpGet(*port, "/metrics");
  EXPECT_NE(page.find("metronome_build_info{service=\"test\",version=\"" +
                      std::string(MetronomeVersion()) + "\"} 1"),
            std::string::npos)
      << page;
}

}  // namespace
}  // namespace metronome
