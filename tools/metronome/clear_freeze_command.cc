// clear-freeze: ends a finality freeze on a pow-adapter (DESIGN §5). The operator presents
// the evidence file the adapter exported (<data_dir>/freeze-evidence.bin); the adapter
// clears only the freeze whose evidence is exactly that, so an operator cannot clear a
// freeze they have not looked at.
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/freeze_evidence.h"
#include "metronome/v1/devchain.grpc.pb.h"
#include "tools/metronome/commands.h"

namespace metronome::cli {
namespace {

// The kind byte of devchain freeze evidence (services/pow_adapter/core/devchain_block.h).
constexpr size_t kEvidenceBytesMax = 4 << 20;

}  // namespace

int ClearFreeze(const std::string& evidence_path, const std::string& address, int timeout_ms) {
  absl::StatusOr<std::string> evidence = ReadSmallFile(evidence_path, kEvidenceBytesMax);
  if (!evidence.ok()) {
    std::cerr << "error: " << evidence.status().message() << "\n";
    return 2;
  }
  if (evidence->empty() || static_cast<uint8_t>((*evidence)[0]) != kFreezeEvidenceKind) {
    std::cerr << "rejected: " << evidence_path << " is not freeze evidence (kind byte "
              << (evidence->empty() ? -1 : static_cast<uint8_t>((*evidence)[0])) << ", expected "
              << int{kFreezeEvidenceKind} << ")\n";
    return 1;
  }
  auto stub =
      v1::DevchainAdmin::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  v1::DevchainClearFreezeRequest request;
  request.set_evidence(*evidence);
  v1::DevchainClearFreezeResponse response;
  const grpc::Status status = stub->ClearFreeze(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
    std::cerr << "rejected: " << status.error_message() << "\n";
    return 1;
  }
  if (!status.ok()) {
    std::cerr << "unreachable: " << address << ": " << status.error_message() << "\n";
    return 2;
  }
  std::cout << nlohmann::json{{"cleared", true}, {"address", address}}.dump() << "\n";
  return 0;
}

}  // namespace metronome::cli
