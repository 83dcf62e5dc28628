// metronome: keys, federations, testnets, health probes, offline verification and
// inspection. Run `metronome --help` or `metronome COMMAND --help`.
#include <CLI/CLI.hpp>
#include <iostream>

#include "common/checkpoint_certificate.h"
#include "common/metrics.h"
#include "tools/metronome/commands.h"

int main(int argc, char** argv) {
  using namespace metronome::cli;
  CLI::App app{"Metronome: BFT checkpoints for Proof-of-Work chains"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("metronome ") + metronome::MetronomeVersion());

  std::string key_path = "metronome.key";
  CLI::App* keygen = app.add_subcommand("keygen", "Create an Ed25519 key file (never overwrites)");
  keygen->add_option("--out", key_path, "Key file to create")->capture_default_str();

  FederationCreateOptions federation;
  CLI::App* federation_app = app.add_subcommand("federation", "Federation files");
  federation_app->require_subcommand(1);
  CLI::App* create = federation_app->add_subcommand("create", "Write a federation file");
  create->add_option("--member", federation.members, "Member public key (hex), repeated")
      ->required();
  create->add_option("--chain-id", federation.chain_id, "Chain id")->required();
  create->add_option("--f", federation.f, "Tolerated faults (default floor((n-1)/3))");
  create->add_option("--epoch", federation.epoch, "Epoch")->capture_default_str();
  create->add_option("--leader-selection", federation.leader_selection, "round_robin or hashing")
      ->capture_default_str();
  create->add_flag("--keep-order", federation.keep_order, "Keep the given member order");
  create->add_option("--out", federation.out_path, "File to create (default: stdout)");

  TestnetOptions testnet;
  CLI::App* testnet_app = app.add_subcommand("testnet", "Generate keys and configs for a testnet");
  testnet_app->add_option("--members", testnet.members, "Number of members")->capture_default_str();
  testnet_app->add_option("--out", testnet.out_dir, "Directory to create")->required();
  testnet_app->add_option("--base-port", testnet.base_port, "First port")->capture_default_str();
  testnet_app->add_option("--chain-id", testnet.chain_id, "Chain id")->capture_default_str();
  testnet_app->add_option("--f", testnet.f, "Tolerated faults (default floor((n-1)/3))");

  std::string certificate_path, federation_path;
  uint32_t headers_max = metronome::kCertificateHeadersDefault;
  CLI::App* verify = app.add_subcommand("verify-certificate", "Verify a checkpoint certificate");
  verify->add_option("CERT", certificate_path, "Certificate file")->required();
  verify->add_option("--federation", federation_path, "Federation file (TOML or binary)")
      ->required();
  verify->add_option("--max-headers", headers_max, "Longest header chain accepted")
      ->capture_default_str();

  std::string inspect_path;
  CLI::App* inspect = app.add_subcommand("inspect", "Print a Metronome binary artefact as JSON");
  inspect->add_option("FILE", inspect_path, "Artefact file")->required();

  std::string address, service;
  int timeout_ms = 5000;
  CLI::App* health = app.add_subcommand("health", "Probe a service's grpc.health.v1 status");
  health->add_option("ADDR", address, "host:port")->required();
  health->add_option("--service", service, "Service name (default: the whole server)");
  health->add_option("--timeout-ms", timeout_ms, "Deadline")->capture_default_str();

  std::string evidence_path, admin_address;
  int clear_timeout_ms = 5000;
  CLI::App* clear_freeze =
      app.add_subcommand("clear-freeze", "End a pow-adapter's finality freeze (DESIGN §5)");
  clear_freeze->add_option("--evidence", evidence_path, "The freeze's evidence file")->required();
  clear_freeze->add_option("--address", admin_address, "The adapter's admin host:port")->required();
  clear_freeze->add_option("--timeout-ms", clear_timeout_ms, "Deadline")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  if (*keygen) return Keygen(key_path);
  if (*create) return FederationCreate(federation);
  if (*testnet_app) return Testnet(testnet);
  if (*verify) return VerifyCertificate(certificate_path, federation_path, headers_max);
  if (*inspect) return Inspect(inspect_path);
  if (*health) return Health(address, service, timeout_ms);
  if (*clear_freeze) return ClearFreeze(evidence_path, admin_address, clear_timeout_ms);
  return 2;
}
