#include "tests/sim/sim_interpreter.h"

#include <algorithm>

#include "common/hash.h"
#include "common/verifier/certificate_verifier.h"

namespace metronome::sim {

CheckpointCandidate SimInterpreter::Candidate(uint64_t height) {
  CheckpointCandidate candidate;
  candidate.chain_id = "sim";
  candidate.pow_height = height;
  Writer writer;
  writer.U64(height);
  const Hash256 hash = TaggedHash("metronome/sim/pow-block", writer.bytes());
  candidate.pow_block_hash.assign(hash.begin(), hash.end());
  return candidate;
}

uint64_t CheckpointHeight(const Ledger& ledger) {
  return ledger.last_checkpoint ? ledger.last_checkpoint->candidate().pow_height : 0;
}

Body SimInterpreter::CreateBody(const Ledger& parent) const {
  Body body;
  body.transactions.push_back(Transaction{ProposerBlock{BytesOf("node-" + std::to_string(node_))}});
  if (visible_height_ > CheckpointHeight(parent)) {
    body.transactions.push_back(Transaction{Candidate(visible_height_)});
  }
  return body;
}

bool SimInterpreter::Validate(const Body& body) const {
  for (const Transaction& transaction : body.transactions) {
    if (!transaction.is_candidate()) continue;  // Proposer blocks: any mempool's.
    const CheckpointCandidate& candidate = transaction.candidate();
    if (!(candidate == Candidate(candidate.pow_height)) || candidate.pow_height > visible_height_) {
      return false;
    }
  }
  return true;
}

std::string CertificateAudit::Check(uint32_t node, const bft::CertificateRecord& record) {
  ++checked_;
  Reader reader(record.encoded);
  const CheckpointCertificate certificate = DecodeCheckpointCertificate(&reader);
  headers_max_seen_ = std::max(headers_max_seen_, certificate.headers.size());
  const Bytes& federation = federation_->encoded();
  const CertificateCheck check =
      VerifyCertificate(federation.data(), federation.size(), record.encoded.data(),
                        record.encoded.size(), kCertificateHeadersDefault);
  const std::string where = "node " + std::to_string(node) + "'s certificate at PoW height " +
                            std::to_string(record.identity.pow_height);
  if (!check.ok()) return where + " does not verify: " + check.reason;
  if (!(IdentityOf(certificate) == record.identity)) {
    return where + " is stored under an identity it does not carry";
  }
  auto [known, inserted] = identities_.emplace(record.identity.pow_height, record.identity);
  if (!inserted && !(known->second == record.identity)) {
    return where + " names another block than an earlier certificate at that height";
  }
  return "";
}

}  // namespace metronome::sim
