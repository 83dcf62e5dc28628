#include "common/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "common/file_util.h"
#include "grpc/health/v1/health.pb.h"

namespace metronome {

RunningServer::~RunningServer() { Shutdown(); }

void RunningServer::SetServing(bool serving) {
  if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
    health->SetServingStatus(serving);
  }
}

void RunningServer::Shutdown(int deadline_ms) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  server_->Wait();
  server_.reset();
}

absl::StatusOr<std::unique_ptr<RunningServer>> StartServer(const ServerSpec& spec) {
  // gRPC's built-in health service encodes its messages by hand and registers no
  // descriptor, so reflection lists grpc.health.v1.Health but cannot describe it
  // (grpc/grpc#36665) and clients like grpcurl cannot call it. Naming a generated
  // health type links health.pb.cc, whose descriptors join the pool reflection serves.
  (void)grpc::health::v1::HealthCheckResponse::descriptor();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(spec.grpc_message_bytes_max);
  builder.SetMaxSendMessageSize(spec.grpc_message_bytes_max);
  // gRPC sets SO_REUSEPORT by default, which lets a second process bind a port that is
  // in use and silently share its traffic. A port in use must be a start-up error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Each listener's bound port is written here by BuildAndStart.
  std::vector<std::unique_ptr<int>> bound(spec.listeners.size());
  for (size_t i = 0; i < spec.listeners.size(); ++i) {
    bound[i] = std::make_unique<int>(0);
    builder.AddListeningPort(spec.listeners[i].address, grpc::InsecureServerCredentials(),
                             bound[i].get());
  }
  for (grpc::Service* service : spec.services) builder.RegisterService(service);
  auto running = std::unique_ptr<RunningServer>(new RunningServer);
  running->server_ = builder.BuildAndStart();
  if (!running->server_) {
    // gRPC does not say which address failed; name them all.
    std::string addresses;
    for (const Listener& listener : spec.listeners) {
      addresses += (addresses.empty() ? "" : ", ") + listener.name + "=" + listener.address;
    }
    return absl::UnavailableError(spec.service_name + ": cannot listen on " + addresses +
                                  " (port in use or bad address)");
  }
  for (size_t i = 0; i < spec.listeners.size(); ++i) {
    if (*bound[i] == 0) {
      return absl::UnavailableError(spec.service_name + ": cannot listen on " +
                                    spec.listeners[i].address + " for " + spec.listeners[i].name +
                                    " (port in use or bad address)");
    }
    running->ports_[spec.listeners[i].name] = *bound[i];
  }
  running->SetServing(true);
  return running;
}

absl::Status WritePortsFile(const std::string& data_dir, const std::map<std::string, int>& ports) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [name, port] : ports) json[name] = port;
  return WriteFileAtomically(data_dir + "/ports.json", json.dump(2) + "\n");
}

}  // namespace metronome
