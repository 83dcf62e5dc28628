// keygen, federation create and testnet: the commands that make identities.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/federation_file.h"
#include "common/file_util.h"
#include "common/key_file.h"
#include "tools/metronome/commands.h"

namespace metronome::cli {
namespace {

int Fail(int code, const std::string& reason) {
  std::cerr << "error: " << reason << "\n";
  return code;
}

nlohmann::json FederationSummary(const Federation& federation) {
  return {{"federation_id", ToHex(federation.id())},
          {"fingerprint", FederationFingerprint(federation.id())},
          {"chain_id", federation.chain_id()},
          {"n", federation.n()},
          {"f", federation.f()},
          {"q", federation.q()}};
}

// One member's ports: base + 10 * index + offset.
struct MemberPorts {
  int federation, interpreter, public_api, bft_metrics, chain_api, interpreter_metrics,
      devchain_p2p, adapter_metrics;
};

MemberPorts PortsOf(int base_port, int index) {
  const int first = base_port + 10 * index;
  return MemberPorts{first,     first + 1, first + 2, first + 3,
                     first + 4, first + 5, first + 6, first + 7};
}

std::string Loopback(int port) { return "\"127.0.0.1:" + std::to_string(port) + "\""; }

std::string BftConfig(const std::string& member_dir, const std::string& federation_path,
                      const MemberPorts& ports, const std::vector<MemberPorts>& all,
                      const PublicKey& interpreter_key) {
  std::string peers;
  for (const MemberPorts& peer : all) peers += "  " + Loopback(peer.federation) + ",\n";
  return "# metronome-bft: one federation member's consensus service.\n"
         "federation_file = \"" +
         federation_path +
         "\"\n"
         "key_file = \"" +
         member_dir +
         "/bft.key\"\n"
         "data_dir = \"" +
         member_dir +
         "/data/bft\"\n"
         "interpreter_public_key = \"" +
         ToHex(interpreter_key) +
         "\"\n"
         "# Federation addresses of every member, in federation member order.\n"
         "peers = [\n" +
         peers +
         "]\n\n"
         "[listen]\n"
         "federation = " +
         Loopback(ports.federation) +
         "\n"
         "interpreter = " +
         Loopback(ports.interpreter) +
         "\n"
         "public = " +
         Loopback(ports.public_api) +
         "\n"
         "metrics = " +
         Loopback(ports.bft_metrics) + "\n";
}

std::string InterpreterConfig(const std::string& member_dir, const std::string& federation_path,
                              const MemberPorts& ports, const PublicKey& adapter_key) {
  return "# metronome-interpreter: checkpoint rules between the bft and the chain.\n"
         "federation_file = \"" +
         federation_path +
         "\"\n"
         "key_file = \"" +
         member_dir +
         "/interpreter.key\"\n"
         "data_dir = \"" +
         member_dir +
         "/data/interpreter\"\n"
         "bft_address = " +
         Loopback(ports.interpreter) +
         "\n"
         "adapter_public_key = \"" +
         ToHex(adapter_key) +
         "\"\n\n"
         "[listen]\n"
         "chain = " +
         Loopback(ports.chain_api) +
         "\n"
         "metrics = " +
         Loopback(ports.interpreter_metrics) + "\n";
}

std::string AdapterConfig(const std::string& member_dir, const std::string& federation_path,
                          const MemberPorts& ports, const std::vector<MemberPorts>& all) {
  std::string peers;
  for (const MemberPorts& peer : all) {
    if (peer.devchain_p2p != ports.devchain_p2p)
      peers += "  " + Loopback(peer.devchain_p2p) + ",\n";
  }
  return "# metronome-pow-adapter: the chain side, here the embedded devchain.\n"
         "federation_file = \"" +
         federation_path +
         "\"\n"
         "key_file = \"" +
         member_dir +
         "/adapter.key\"\n"
         "data_dir = \"" +
         member_dir +
         "/data/pow-adapter\"\n"
         "interpreter_address = " +
         Loopback(ports.chain_api) +
         "\n"
         "backend = \"devchain\"\n\n"
         "[listen]\n"
         "devchain_p2p = " +
         Loopback(ports.devchain_p2p) +
         "\n"
         "metrics = " +
         Loopback(ports.adapter_metrics) +
         "\n\n"
         "[devchain]\n"
         "peers = [\n" +
         peers + "]\n";
}

absl::StatusOr<SigningKey> NewKeyFile(const std::string& path) {
  SigningKey key = SigningKey::Generate();
  absl::Status status = WriteKeyFile(path, key);
  if (!status.ok()) return status;
  return key;
}

}  // namespace

int Keygen(const std::string& out_path) {
  absl::StatusOr<SigningKey> key = NewKeyFile(out_path);
  if (!key.ok()) return Fail(1, std::string(key.status().message()));
  std::cout << nlohmann::json{{"public_key", ToHex(key->public_key())},
                              {"key_path", std::filesystem::absolute(out_path).string()}}
                   .dump()
            << "\n";
  return 0;
}

int FederationCreate(const FederationCreateOptions& options) {
  FederationSpec spec;
  spec.chain_id = options.chain_id;
  spec.epoch = options.epoch;
  if (options.f >= 0) spec.f = static_cast<uint32_t>(options.f);
  std::optional<LeaderSelection> selection = LeaderSelectionFromName(options.leader_selection);
  if (!selection) return Fail(2, "--leader-selection must be round_robin or hashing");
  spec.leader_selection = *selection;
  for (const std::string& hex : options.members) {
    std::optional<PublicKey> key = FixedFromHex<32>(hex);
    if (!key) return Fail(2, "--member " + hex + " is not a 64-hex-digit public key");
    spec.members.push_back(*key);
  }
  // Sorting makes the federation id independent of the order keys were collected in.
  if (!options.keep_order) std::sort(spec.members.begin(), spec.members.end());
  std::string error;
  std::optional<Federation> federation = Federation::Make(spec, &error);
  if (!federation) return Fail(1, "federation " + error);
  if (options.out_path.empty()) {
    std::cout << FederationToToml(*federation);
    std::cerr << "fingerprint " << FederationFingerprint(federation->id()) << "\n";
    return 0;
  }
  absl::Status status = WriteNewFile(options.out_path, FederationToToml(*federation), 0644);
  if (!status.ok()) return Fail(1, std::string(status.message()));
  nlohmann::json summary = FederationSummary(*federation);
  summary["path"] = std::filesystem::absolute(options.out_path).string();
  std::cout << summary.dump() << "\n";
  return 0;
}

int Testnet(const TestnetOptions& options) {
  if (options.members < 1 || options.members > 100) return Fail(2, "--members must be 1 to 100");
  if (options.base_port < 1024 || options.base_port + 10 * options.members > 65535) {
    return Fail(2, "--base-port leaves no room for " + std::to_string(options.members) +
                       " members (10 ports each)");
  }
  const std::string out = std::filesystem::absolute(options.out_dir).lexically_normal().string();
  if (mkdir(out.c_str(), 0755) != 0) {
    return Fail(1, "cannot create " + out + ": " + std::strerror(errno) +
                       " (testnet never reuses a directory, so keys are never overwritten)");
  }
  struct MemberKeys {
    SigningKey bft, interpreter, adapter;
  };
  std::vector<MemberKeys> keys;
  std::vector<MemberPorts> ports;
  FederationSpec spec;
  spec.chain_id = options.chain_id;
  if (options.f >= 0) spec.f = static_cast<uint32_t>(options.f);
  for (int i = 0; i < options.members; ++i) {
    const std::string member_dir = out + "/member-" + std::to_string(i);
    if (mkdir(member_dir.c_str(), 0700) != 0) return Fail(1, "cannot create " + member_dir);
    absl::StatusOr<SigningKey> bft = NewKeyFile(member_dir + "/bft.key");
    absl::StatusOr<SigningKey> interpreter = NewKeyFile(member_dir + "/interpreter.key");
    absl::StatusOr<SigningKey> adapter = NewKeyFile(member_dir + "/adapter.key");
    for (const auto* key : {&bft, &interpreter, &adapter}) {
      if (!key->ok()) return Fail(1, std::string(key->status().message()));
    }
    keys.push_back(MemberKeys{*bft, *interpreter, *adapter});
    ports.push_back(PortsOf(options.base_port, i));
    // Testnet members keep index order so member-i is federation member i.
    spec.members.push_back(bft->public_key());
  }
  std::string error;
  std::optional<Federation> federation = Federation::Make(spec, &error);
  if (!federation) return Fail(1, "federation " + error);
  const std::string federation_path = out + "/federation.toml";
  absl::Status status = WriteNewFile(federation_path, FederationToToml(*federation), 0644);
  nlohmann::json members = nlohmann::json::array();
  for (int i = 0; i < options.members && status.ok(); ++i) {
    const std::string member_dir = out + "/member-" + std::to_string(i);
    status = WriteNewFile(
        member_dir + "/bft.toml",
        BftConfig(member_dir, federation_path, ports[i], ports, keys[i].interpreter.public_key()),
        0644);
    if (status.ok()) {
      status = WriteNewFile(
          member_dir + "/interpreter.toml",
          InterpreterConfig(member_dir, federation_path, ports[i], keys[i].adapter.public_key()),
          0644);
    }
    if (status.ok()) {
      status = WriteNewFile(member_dir + "/pow-adapter.toml",
                            AdapterConfig(member_dir, federation_path, ports[i], ports), 0644);
    }
    members.push_back({{"index", i},
                       {"directory", member_dir},
                       {"public_key", ToHex(keys[i].bft.public_key())},
                       {"federation_address", "127.0.0.1:" + std::to_string(ports[i].federation)},
                       {"public_address", "127.0.0.1:" + std::to_string(ports[i].public_api)}});
  }
  if (!status.ok()) return Fail(1, std::string(status.message()));
  nlohmann::json summary = FederationSummary(*federation);
  summary["directory"] = out;
  summary["federation_file"] = federation_path;
  summary["members"] = members;
  status = WriteNewFile(out + "/testnet.json", summary.dump(2) + "\n", 0644);
  if (!status.ok()) return Fail(1, std::string(status.message()));
  std::cout << summary.dump() << "\n";
  return 0;
}

}  // namespace metronome::cli
