#include "common/test_support.h"

#include "common/assert.h"

namespace metronome::testing {

TestFederation MakeTestFederation(uint32_t n, const std::string& chain_id, uint8_t seed_base,
                                  std::optional<uint32_t> f) {
  FederationSpec spec;
  spec.chain_id = chain_id;
  spec.f = f;
  std::vector<SigningKey> keys;
  for (uint32_t i = 0; i < n; ++i) {
    Seed seed{};
    seed[0] = static_cast<uint8_t>(seed_base + i);
    seed[1] = static_cast<uint8_t>(i >> 8);
    keys.push_back(SigningKey::FromSeed(seed));
    spec.members.push_back(keys.back().public_key());
  }
  std::string error;
  std::optional<Federation> federation = Federation::Make(spec, &error);
  METRONOME_ASSERT(federation.has_value());
  return TestFederation{std::move(keys), std::move(*federation)};
}

CheckpointCandidate MakeTestCandidate(const std::string& chain_id, uint64_t pow_height) {
  CheckpointCandidate candidate;
  candidate.chain_id = chain_id;
  candidate.pow_height = pow_height;
  candidate.pow_block_hash.assign(32, static_cast<uint8_t>(pow_height));
  candidate.pow_block_hash[0] = 0xb1;
  candidate.opaque = BytesOf("test");
  return candidate;
}

CheckpointCertificate MakeSignedCertificate(
    const Federation& federation, const std::vector<std::pair<uint32_t, SigningKey>>& signers,
    const CheckpointCandidate& candidate, uint32_t header_count, uint64_t view) {
  METRONOME_ASSERT(header_count >= 1);
  Body body;
  body.transactions.push_back(Transaction{ProposerBlock{BytesOf("proposer block")}});
  body.transactions.push_back(Transaction{candidate});
  std::vector<Header> headers;
  Header first;
  first.parent_hash.fill(0x11);
  first.height = 41;
  first.view = view;
  first.post_state_hash.fill(0x22);
  first.content_root = ContentRoot(body);
  headers.push_back(first);
  for (uint32_t i = 1; i < header_count; ++i) {
    Header next;
    next.parent_hash = HeaderHash(headers.back());
    next.height = headers.back().height + 1;
    next.view = headers.back().view + 1;
    next.post_state_hash = headers.back().post_state_hash;
    next.content_root = ContentRoot(Body{});
    headers.push_back(next);
  }
  std::optional<CheckpointCertificate> certificate = MakeCheckpointCertificate(
      headers, body,
      MakeCommitQc(federation, signers, HeaderHash(headers.back()), headers.back().view));
  METRONOME_ASSERT(certificate.has_value());
  return *certificate;
}

CheckpointCertificate MakeCertificateSignedByQuorum(const TestFederation& test,
                                                    const CheckpointCandidate& candidate,
                                                    uint32_t header_count) {
  std::vector<std::pair<uint32_t, SigningKey>> signers;
  for (uint32_t i = 0; i < test.federation.q(); ++i) signers.emplace_back(i, test.keys[i]);
  return MakeSignedCertificate(test.federation, signers, candidate, header_count);
}

QuorumCertificate MakeCommitQc(const Federation& federation,
                               const std::vector<std::pair<uint32_t, SigningKey>>& signers,
                               const Hash256& block_hash, uint64_t view) {
  VoteStatement statement;
  statement.protocol_id = federation.protocol_id();
  statement.phase = Phase::kCommit;
  statement.view = view;
  statement.block_hash = block_hash;
  statement.justify_view = view;
  std::vector<std::pair<uint32_t, Signature>> votes;
  for (const auto& [index, key] : signers) {
    votes.emplace_back(index, SignVote(key, federation.id(), statement));
  }
  return AssembleQuorumCertificate(federation, statement, votes);
}

QuorumCertificate MakeQuorumCommitQc(const TestFederation& test, const Hash256& block_hash,
                                     uint64_t view) {
  std::vector<std::pair<uint32_t, SigningKey>> signers;
  for (uint32_t i = 0; i < test.federation.q(); ++i) signers.emplace_back(i, test.keys[i]);
  return MakeCommitQc(test.federation, signers, block_hash, view);
}

}  // namespace metronome::testing
