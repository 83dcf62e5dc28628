#include "tools/metronome/artefact_json.h"

#include "common/checkpoint_certificate.h"
#include "common/federation.h"

namespace metronome::cli {
namespace {

using nlohmann::json;

json HeaderJson(const Header& header) {
  return {{"hash", ToHex(HeaderHash(header))},
          {"parent_hash", ToHex(header.parent_hash)},
          {"height", header.height},
          {"view", header.view},
          {"post_state_hash", ToHex(header.post_state_hash)},
          {"content_root", ToHex(header.content_root)}};
}

json TransactionJson(const Transaction& transaction) {
  if (transaction.is_candidate()) {
    const CheckpointCandidate& candidate = transaction.candidate();
    return {{"type", "checkpoint_candidate"},
            {"chain_id", candidate.chain_id},
            {"pow_height", candidate.pow_height},
            {"pow_block_hash", ToHex(candidate.pow_block_hash)},
            {"opaque", ToHex(candidate.opaque)}};
  }
  return {{"type", "proposer_block"},
          {"opaque", ToHex(std::get<ProposerBlock>(transaction.value).opaque)}};
}

json ProofJson(const MerkleProof& proof) {
  json siblings = json::array();
  for (const Hash256& sibling : proof.siblings) siblings.push_back(ToHex(sibling));
  return {
      {"leaf_index", proof.leaf_index}, {"leaf_count", proof.leaf_count}, {"siblings", siblings}};
}

json QcJson(const QuorumCertificate& qc) {
  json signatures = json::array();
  for (const Signature& signature : qc.signatures) signatures.push_back(ToHex(signature));
  return {{"phase", PhaseName(qc.phase)},
          {"view", qc.view},
          {"block_hash", ToHex(qc.block_hash)},
          {"justify_view", qc.justify_view},
          {"signers", SignerIndices(qc.signer_bitmap)},
          {"signatures", signatures}};
}

json FederationJson(const Federation& federation) {
  json members = json::array();
  for (const PublicKey& member : federation.members()) members.push_back(ToHex(member));
  return {{"federation_id", ToHex(federation.id())},
          {"fingerprint", FederationFingerprint(federation.id())},
          {"chain_id", federation.chain_id()},
          {"epoch", federation.epoch()},
          {"n", federation.n()},
          {"f", federation.f()},
          {"q", federation.q()},
          {"leader_selection", LeaderSelectionName(federation.leader_selection())},
          {"protocol_id", federation.protocol_id()},
          {"members", members}};
}

json CertificateJson(const CheckpointCertificate& certificate) {
  json headers = json::array();
  for (const Header& header : certificate.headers) headers.push_back(HeaderJson(header));
  return {{"candidate", TransactionJson(certificate.candidate)},
          {"headers", headers},
          {"proof", ProofJson(certificate.proof)},
          {"commit_qc", QcJson(certificate.commit_qc)}};
}

// Decodes one artefact of the kind in the first byte; returns its JSON.
std::optional<json> DecodeAny(Reader* reader, uint8_t kind) {
  switch (static_cast<ArtefactKind>(kind)) {
    case ArtefactKind::kHeader:
      return json{{"kind", "header"}, {"header", HeaderJson(DecodeHeader(reader))}};
    case ArtefactKind::kBody: {
      json transactions = json::array();
      for (const Transaction& transaction : DecodeBody(reader).transactions) {
        transactions.push_back(TransactionJson(transaction));
      }
      return json{{"kind", "body"}, {"transactions", transactions}};
    }
    case ArtefactKind::kTransaction:
      return json{{"kind", "transaction"},
                  {"transaction", TransactionJson(DecodeTransaction(reader))}};
    case ArtefactKind::kQuorumCertificate:
      return json{{"kind", "quorum_certificate"}, {"qc", QcJson(DecodeQuorumCertificate(reader))}};
    case ArtefactKind::kCheckpointCertificate:
      return json{{"kind", "checkpoint_certificate"},
                  {"certificate", CertificateJson(DecodeCheckpointCertificate(reader))}};
    case ArtefactKind::kMerkleProof:
      return json{{"kind", "merkle_proof"}, {"proof", ProofJson(DecodeMerkleProof(reader))}};
    case ArtefactKind::kFederation: {
      std::optional<Federation> federation = Federation::Decode(reader);
      if (!federation) return std::nullopt;
      return json{{"kind", "federation"}, {"federation", FederationJson(*federation)}};
    }
    default:
      reader->Fail("unknown artefact kind " + std::to_string(kind) + " in byte 0");
      return std::nullopt;
  }
}

}  // namespace

std::optional<json> ArtefactToJson(const Bytes& bytes, std::string* error) {
  if (bytes.empty()) {
    *error = "empty file";
    return std::nullopt;
  }
  Reader reader(bytes);
  std::optional<json> result = DecodeAny(&reader, bytes[0]);
  reader.ExpectEnd();
  if (!reader.ok() || !result) {
    *error = reader.ok() ? "cannot decode" : reader.error();
    return std::nullopt;
  }
  (*result)["size_bytes"] = bytes.size();
  return result;
}

}  // namespace metronome::cli
