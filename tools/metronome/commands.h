#ifndef METRONOME_TOOLS_METRONOME_COMMANDS_H_
#define METRONOME_TOOLS_METRONOME_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

// The `metronome` CLI's commands. Each prints its result on stdout (JSON where a
// program may read it) and returns the process exit code: 0 success, 1 a rejected input
// or failed check (with a one-line reason on stderr), 2 a usage or environment error.
namespace metronome::cli {

int Keygen(const std::string& out_path);

struct FederationCreateOptions {
  std::vector<std::string> members;  // Hex public keys.
  std::string chain_id;
  int64_t f = -1;  // -1: floor((n-1)/3).
  uint64_t epoch = 0;
  std::string leader_selection = "round_robin";
  bool keep_order = false;
  std::string out_path;  // Empty: print the TOML on stdout.
};
int FederationCreate(const FederationCreateOptions& options);

struct TestnetOptions {
  int members = 4;
  std::string out_dir;
  int base_port = 7100;
  std::string chain_id = "devchain";
  int64_t f = -1;
};
int Testnet(const TestnetOptions& options);

int VerifyCertificate(const std::string& certificate_path, const std::string& federation_path,
                      uint32_t headers_max);
int Inspect(const std::string& path);
int Health(const std::string& address, const std::string& service, int timeout_ms);
// Ends a pow-adapter's finality freeze; `address` is its admin listener.
int ClearFreeze(const std::string& evidence_path, const std::string& address, int timeout_ms);

}  // namespace metronome::cli

#endif  // METRONOME_TOOLS_METRONOME_COMMANDS_H_
