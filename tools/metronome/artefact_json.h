#ifndef METRONOME_TOOLS_METRONOME_ARTEFACT_JSON_H_
#define METRONOME_TOOLS_METRONOME_ARTEFACT_JSON_H_

#include <nlohmann/json.hpp>

#include "common/bytes.h"

namespace metronome::cli {

// Decodes any of our canonical binary artefacts (header, body, transaction, QC,
// certificate, federation, Merkle proof) and describes it as JSON, with derived values
// (hashes, ids, signer indices) included. On failure returns nullopt and sets *error to
// a reason naming the byte offset.
std::optional<nlohmann::json> ArtefactToJson(const Bytes& bytes, std::string* error);

}  // namespace metronome::cli

#endif  // METRONOME_TOOLS_METRONOME_ARTEFACT_JSON_H_
