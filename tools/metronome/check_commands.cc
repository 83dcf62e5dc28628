// verify-certificate, inspect and health: the commands that check things.
#include <grpcpp/grpcpp.h>

#include <iostream>

#include "common/checkpoint_certificate.h"
#include "common/federation_file.h"
#include "common/file_util.h"
#include "common/verifier/certificate_verifier.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tools/metronome/artefact_json.h"
#include "tools/metronome/commands.h"

namespace metronome::cli {
namespace {

constexpr size_t kArtefactFileBytesMax = 64 << 20;

int Reject(const std::string& reason) {
  std::cerr << "rejected: " << reason << "\n";
  return 1;
}

}  // namespace

int VerifyCertificate(const std::string& certificate_path, const std::string& federation_path,
                      uint32_t headers_max) {
  absl::StatusOr<Federation> federation = ReadFederationFile(federation_path);
  if (!federation.ok()) return Reject(std::string(federation.status().message()));
  absl::StatusOr<std::string> certificate = ReadSmallFile(certificate_path, kArtefactFileBytesMax);
  if (!certificate.ok()) return Reject(std::string(certificate.status().message()));
  if (certificate->empty()) return Reject(certificate_path + " is empty");
  const Bytes& encoded_federation = federation->encoded();
  const CertificateCheck check = metronome::VerifyCertificate(
      encoded_federation.data(), encoded_federation.size(),
      reinterpret_cast<const uint8_t*>(certificate->data()), certificate->size(), headers_max);
  if (!check.ok()) return Reject(certificate_path + ": " + check.reason);
  const Bytes certificate_bytes = BytesOf(*certificate);
  Reader reader(certificate_bytes);
  const CheckpointIdentity identity = IdentityOf(DecodeCheckpointCertificate(&reader));
  std::cout << "valid: chain=" << identity.chain_id << " pow_height=" << identity.pow_height
            << " pow_hash=" << ToHex(identity.pow_block_hash)
            << " federation=" << FederationFingerprint(federation->id()) << "\n";
  return 0;
}

int Inspect(const std::string& path) {
  absl::StatusOr<std::string> contents = ReadSmallFile(path, kArtefactFileBytesMax);
  if (!contents.ok()) return Reject(std::string(contents.status().message()));
  std::string error;
  std::optional<nlohmann::json> json = ArtefactToJson(BytesOf(*contents), &error);
  if (!json) return Reject(path + ": " + error);
  std::cout << json->dump(2) << "\n";
  return 0;
}

int Health(const std::string& address, const std::string& service, int timeout_ms) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    std::cerr << "unreachable: " << address << ": " << status.error_message() << "\n";
    return 2;
  }
  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()) << "\n";
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}

}  // namespace metronome::cli
