#include "common/block.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "common/consensus_statements.h"
#include "common/test_support.h"

namespace metronome {
namespace {

Hash256 ArbitraryHash() {
  const std::vector<uint8_t> bytes =
      *rc::gen::container<std::vector<uint8_t>>(32, rc::gen::arbitrary<uint8_t>());
  Hash256 hash;
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

Header ArbitraryHeader() {
  Header header;
  header.parent_hash = ArbitraryHash();
  header.height = *rc::gen::arbitrary<uint64_t>();
  header.view = *rc::gen::arbitrary<uint64_t>();
  header.post_state_hash = ArbitraryHash();
  header.content_root = ArbitraryHash();
  return header;
}

Transaction ArbitraryTransaction() {
  if (*rc::gen::arbitrary<bool>()) {
    return Transaction{ProposerBlock{
        *rc::gen::container<Bytes>(*rc::gen::inRange(0, 300), rc::gen::arbitrary<uint8_t>())}};
  }
  CheckpointCandidate candidate;
  candidate.chain_id =
      *rc::gen::container<std::string>(*rc::gen::inRange(0, 64), rc::gen::inRange('a', 'z'));
  candidate.pow_height = *rc::gen::arbitrary<uint64_t>();
  candidate.pow_block_hash =
      *rc::gen::container<Bytes>(*rc::gen::inRange(0, 64), rc::gen::arbitrary<uint8_t>());
  candidate.opaque =
      *rc::gen::container<Bytes>(*rc::gen::inRange(0, 200), rc::gen::arbitrary<uint8_t>());
  return Transaction{candidate};
}

template <typename T, typename Decode>
T RoundTrip(const Bytes& encoded, Decode decode) {
  Reader reader(encoded);
  T decoded = decode(&reader);
  reader.ExpectEnd();
  RC_ASSERT(reader.ok());
  return decoded;
}

RC_GTEST_PROP(BlockProperty, HeaderRoundTripsAndHashIsStable, ()) {
  const Header header = ArbitraryHeader();
  const Header decoded =
      RoundTrip<Header>(EncodeHeader(header), [](Reader* r) { return DecodeHeader(r); });
  RC_ASSERT(decoded == header);
  RC_ASSERT(HeaderHash(decoded) == HeaderHash(header));
}

RC_GTEST_PROP(BlockProperty, BodyRoundTripsAndKeepsItsContentRoot, ()) {
  Body body;
  const int count = *rc::gen::inRange(0, 20);
  for (int i = 0; i < count; ++i) body.transactions.push_back(ArbitraryTransaction());
  const Body decoded = RoundTrip<Body>(EncodeBody(body), [](Reader* r) { return DecodeBody(r); });
  RC_ASSERT(decoded == body);
  RC_ASSERT(ContentRoot(decoded) == ContentRoot(body));
}

RC_GTEST_PROP(BlockProperty, TruncatedEncodingsNeverDecode, ()) {
  const Bytes encoded = EncodeTransaction(ArbitraryTransaction());
  const size_t cut = *rc::gen::inRange<size_t>(0, encoded.size());
  const Bytes truncated(encoded.begin(), encoded.begin() + static_cast<std::ptrdiff_t>(cut));
  Reader reader(truncated);
  DecodeTransaction(&reader);
  reader.ExpectEnd();
  RC_ASSERT(!reader.ok());
}

TEST(BlockTest, UnknownTransactionTypeIsRejected) {
  Bytes encoded = EncodeTransaction(Transaction{ProposerBlock{}});
  encoded[2] = 9;
  Reader reader(encoded);
  DecodeTransaction(&reader);
  EXPECT_NE(reader.error().find("unknown transaction type"), std::string::npos);
}

TEST(BlockTest, ContentRootCommitsToTransactionOrder) {
  const Transaction a{ProposerBlock{BytesOf("a")}};
  const Transaction b{ProposerBlock{BytesOf("b")}};
  EXPECT_NE(ContentRoot(Body{{a, b}}), ContentRoot(Body{{b, a}}));
}

TEST(ConsensusStatementsTest, DraftStatementsRoundTrip) {
  const testing::TestFederation test = testing::MakeTestFederation(4);
  const CheckpointCertificate certificate =
      testing::MakeCertificateSignedByQuorum(test, testing::MakeTestCandidate("devchain", 5));
  ProposalStatement proposal{kProtocolBasicHotStuff, 8, certificate.headers[0], 7};
  Bytes encoded = EncodeProposalStatement(proposal);
  Reader proposal_reader(encoded);
  EXPECT_EQ(DecodeProposalStatement(&proposal_reader), proposal);
  TimeoutStatement timeout{kProtocolBasicHotStuff, 9, 7, certificate.commit_qc.block_hash};
  encoded = EncodeTimeoutStatement(timeout);
  Reader timeout_reader(encoded);
  EXPECT_EQ(DecodeTimeoutStatement(&timeout_reader), timeout);
  NewViewStatement new_view{kProtocolBasicHotStuff, 9, 7, certificate.commit_qc.block_hash};
  encoded = EncodeNewViewStatement(new_view);
  Reader new_view_reader(encoded);
  EXPECT_EQ(DecodeNewViewStatement(&new_view_reader), new_view);
  EXPECT_TRUE(proposal_reader.ok() && timeout_reader.ok() && new_view_reader.ok());
}

}  // namespace
}  // namespace metronome
