// Generates Twins scenarios with more than f twins (n = 4, two twins) and keeps, per
// class, every honest replica's ConsensusStream (proto metronome.v1.StreamRecord,
// length-delimited) for the forensic monitor's tests: scenarios with a same-view
// conflict, with a cross-view conflict, and without a violation. Deterministic from the
// seed. Usage:
//   twins_corpus --out=DIR [--per_class=1000] [--seed=1]
// Writes DIR/<class>/<seed>-<index>/{scenario.json,replica-<member>.records},
// DIR/federation.bin (canonical) and DIR/corpus.json (counts).
#include <google/protobuf/util/delimited_message_util.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/test_support.h"
#include "metronome/v1/consensus_stream.pb.h"
#include "tests/sim/twins.h"

namespace metronome::sim {
namespace {

v1::StreamRecord ToProto(const bft::StreamRecord& record, uint64_t sequence,
                         const PublicKey& observer) {
  v1::StreamRecord out;
  out.set_sequence(sequence);
  out.set_view(record.view);
  out.set_source(static_cast<v1::StreamRecord::Source>(record.source));
  out.set_rejected_by_consensus(record.rejected);
  out.set_rejection_reason(record.rejection_reason);
  const std::string payload(record.payload.begin(), record.payload.end());
  switch (record.item) {
    case bft::StreamRecord::Item::kArtefact: {
      v1::SignedArtefact* artefact = out.mutable_artefact();
      artefact->set_payload(payload);
      artefact->set_signature(std::string(record.signature.begin(), record.signature.end()));
      artefact->set_signer_index(record.signer);
      break;
    }
    case bft::StreamRecord::Item::kQc:
      out.set_qc(payload);
      break;
    case bft::StreamRecord::Item::kHeader:
      out.set_header(payload);
      break;
  }
  out.set_observer_public_key(std::string(observer.begin(), observer.end()));
  return out;
}

const char* ClassOf(const SimResult& result) {
  if (!result.conflict_views) return result.safe ? "no_violation" : nullptr;
  return result.conflict_views->first == result.conflict_views->second ? "same_view_conflict"
                                                                       : "cross_view_conflict";
}

void WriteScenario(const std::string& directory, const TwinsOptions& options, uint64_t seed,
                   uint64_t index, const SimResult& result, const char* kind,
                   const testing::TestFederation& federation) {
  mkdir(directory.c_str(), 0755);
  const TwinsScenario scenario = GenerateTwinsScenario(options, seed, index);
  nlohmann::json json = {{"class", kind},
                         {"seed", seed},
                         {"index", index},
                         {"members", options.members},
                         {"twin_of", scenario.twin_of},
                         {"leaders", scenario.leaders},
                         {"partitions", scenario.partitions},
                         {"honest_members", nlohmann::json::array()},
                         {"replay", TwinsReplayCommand(options, seed, index)}};
  if (result.conflict_views) {
    json["conflict_commit_qc_views"] = {result.conflict_views->first,
                                        result.conflict_views->second};
  }
  // Honest nodes are the members without a twin, in member order.
  uint32_t stream = 0;
  for (uint32_t member = options.twins; member < options.members; ++member, ++stream) {
    json["honest_members"].push_back(member);
    std::ofstream out(directory + "/replica-" + std::to_string(member) + ".records",
                      std::ios::binary);
    uint64_t sequence = 0;
    for (const bft::StreamRecord& record : result.streams[stream]) {
      google::protobuf::util::SerializeDelimitedToOstream(
          ToProto(record, ++sequence, federation.federation.members()[member]), &out);
    }
  }
  std::ofstream(directory + "/scenario.json") << json.dump(2) << "\n";
}

}  // namespace
}  // namespace metronome::sim

int main(int argc, char** argv) {
  using namespace metronome::sim;
  std::string out;
  uint64_t per_class = 1000, seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--out=", 0) == 0) out = arg.substr(6);
    if (arg.rfind("--per_class=", 0) == 0) per_class = std::stoull(arg.substr(12));
    if (arg.rfind("--seed=", 0) == 0) seed = std::stoull(arg.substr(7));
  }
  if (out.empty()) {
    std::cerr << "usage: twins_corpus --out=DIR [--per_class=N] [--seed=S]\n";
    return 2;
  }
  mkdir(out.c_str(), 0755);
  const metronome::testing::TestFederation federation =
      metronome::testing::MakeTestFederation(4, "sim");
  const metronome::Bytes& encoded = federation.federation.encoded();
  std::ofstream(out + "/federation.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(encoded.data()),
             static_cast<std::streamsize>(encoded.size()));
  std::map<std::string, uint64_t> counts;
  // Three generators, one aimed at each class: twin leaders under a split partition
  // (same-view conflicts), any leader under a split (cross-view), uniform partitions.
  const TwinsOptions generators[] = {
      {4, 2, 6, 1.0, true}, {4, 2, 6, 1.0, false}, {4, 2, 6, 0, false}};
  const char* targets[] = {"same_view_conflict", "cross_view_conflict", "no_violation"};
  uint64_t scenarios = 0;
  for (int g = 0; g < 3; ++g) {
    mkdir((out + "/" + targets[g]).c_str(), 0755);
    for (uint64_t index = 0; counts[targets[g]] < per_class && index < per_class * 20; ++index) {
      SimOptions options = TwinsSimOptions(generators[g], seed + g, index);
      options.record_streams = true;
      options.duration_ms = 8000;
      const SimResult result = RunSimulation(options);
      ++scenarios;
      const char* kind = ClassOf(result);
      if (kind == nullptr || std::strcmp(kind, targets[g]) != 0) continue;
      WriteScenario(out + "/" + kind + "/" + std::to_string(seed + g) + "-" + std::to_string(index),
                    generators[g], seed + g, index, result, kind, federation);
      ++counts[kind];
    }
  }
  nlohmann::json summary = {{"scenarios_run", scenarios}, {"per_class", counts}};
  std::ofstream(out + "/corpus.json") << summary.dump(2) << "\n";
  std::cout << summary.dump() << "\n";
  for (const char* target : targets) {
    if (counts[target] < per_class) return 1;
  }
  return 0;
}
