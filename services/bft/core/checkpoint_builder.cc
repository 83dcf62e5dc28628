#include "services/bft/core/checkpoint_builder.h"

#include "common/assert.h"

namespace metronome::bft {

std::vector<CheckpointCertificate> CertificatesFor(const Commit& commit, size_t headers_max,
                                                   size_t* left_out) {
  METRONOME_ASSERT(headers_max >= 1 && headers_max <= kCertificateHeadersMax);
  if (left_out != nullptr) *left_out = 0;
  std::vector<CheckpointCertificate> certificates;
  if (commit.blocks.empty()) return certificates;
  METRONOME_ASSERT(commit.blocks.back().hash() == commit.commit_qc.block_hash);
  for (size_t i = 1; i < commit.blocks.size(); ++i) {
    METRONOME_ASSERT(commit.blocks[i].header.parent_hash == commit.blocks[i - 1].hash());
  }
  for (size_t i = 0; i < commit.blocks.size(); ++i) {
    const size_t header_count = commit.blocks.size() - i;
    const Body& body = commit.blocks[i].body;
    bool has_candidate = false;
    for (const Transaction& transaction : body.transactions) {
      has_candidate = has_candidate || transaction.is_candidate();
    }
    if (!has_candidate) continue;  // Spares building the header chain for most blocks.
    if (header_count > headers_max) {
      if (left_out != nullptr) ++*left_out;
      continue;
    }
    std::vector<Header> headers;
    headers.reserve(header_count);
    for (size_t j = i; j < commit.blocks.size(); ++j) headers.push_back(commit.blocks[j].header);
    std::optional<CheckpointCertificate> certificate =
        MakeCheckpointCertificate(headers, body, commit.commit_qc);
    METRONOME_ASSERT(certificate.has_value());
    certificates.push_back(*std::move(certificate));
  }
  return certificates;
}

}  // namespace metronome::bft
