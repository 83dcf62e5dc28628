#include "services/pow_adapter/core/devchain_block.h"

#include <gtest/gtest.h>

#include "services/pow_adapter/core/devchain.h"

namespace metronome::devchain {
namespace {

DevchainBlock SampleBlock() {
  DevchainBlock block;
  block.header.parent.fill(0x11);
  block.header.height = 7;
  block.header.time_ms = 1234567;
  block.header.target = ChainParams::DefaultTarget();
  block.header.nonce = 99;
  block.transactions = {EncodeCoinbase(Coinbase{7, "miner-a"}), Bytes{1, 2, 3}};
  block.header.tx_root = TransactionRoot(block.transactions);
  return block;
}

TEST(DevchainBlockTest, HeaderEncodingIsFixedSizeAndRoundTrips) {
  const DevchainBlock block = SampleBlock();
  const Bytes encoded = EncodeHeader(block.header);
  EXPECT_EQ(encoded.size(), kHeaderEncodedBytes);
  EXPECT_EQ(encoded[0], kHeaderKind);
  EXPECT_EQ(encoded[1], kDevchainFormatVersion);
  Reader reader(encoded);
  EXPECT_EQ(DecodeHeader(&reader), block.header);
  reader.ExpectEnd();
  EXPECT_TRUE(reader.ok()) << reader.error();
}

TEST(DevchainBlockTest, BlockEncodingRoundTripsAndRejectsTrailingBytes) {
  const DevchainBlock block = SampleBlock();
  Bytes encoded = EncodeBlock(block);
  {
    Reader reader(encoded);
    EXPECT_EQ(DecodeBlock(&reader), block);
    EXPECT_TRUE(reader.ok()) << reader.error();
  }
  encoded.push_back(0);
  Reader reader(encoded);
  DecodeBlock(&reader);
  EXPECT_FALSE(reader.ok());
}

TEST(DevchainBlockTest, DecodeRefusesAWrongKindOrTooManyTransactions) {
  Bytes encoded = EncodeBlock(SampleBlock());
  {
    Reader reader(encoded);
    DecodeBlock(&reader, /*transactions_max=*/1);
    EXPECT_FALSE(reader.ok());
  }
  encoded[0] = 1;  // A BFT header's kind.
  Reader reader(encoded);
  DecodeBlock(&reader);
  EXPECT_FALSE(reader.ok());
  EXPECT_NE(reader.error().find("kind"), std::string::npos) << reader.error();
}

TEST(DevchainBlockTest, Sha256dMatchesAKnownAnswer) {
  // SHA-256d("") = 5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456.
  EXPECT_EQ(ToHex(Sha256d(nullptr, 0)),
            "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
}

TEST(DevchainBlockTest, TargetComparisonIsNumeric) {
  Hash256 target{};
  target[1] = 0x10;
  Hash256 hash{};
  hash[1] = 0x10;
  EXPECT_TRUE(MeetsTarget(hash, target));
  hash[31] = 1;
  EXPECT_FALSE(MeetsTarget(hash, target));
  hash = Hash256{};
  hash[2] = 0xff;
  EXPECT_TRUE(MeetsTarget(hash, target));
}

TEST(DevchainBlockTest, HarderTargetsProveMoreWork) {
  const Hash256 easy = ChainParams::DefaultTarget();
  Hash256 hard = easy;
  hard[1] = 0x00;
  EXPECT_EQ(WorkOf(easy), 256u);
  EXPECT_EQ(WorkOf(hard), 65536u);
}

TEST(DevchainBlockTest, TransactionRootPromotesAnOddNodeInsteadOfDuplicatingIt) {
  const std::vector<Bytes> three = {Bytes{1}, Bytes{2}, Bytes{3}};
  const std::vector<Bytes> four = {Bytes{1}, Bytes{2}, Bytes{3}, Bytes{3}};
  // Bitcoin's tree gives these two lists the same root (CVE-2012-2459); ours does not.
  EXPECT_NE(TransactionRoot(three), TransactionRoot(four));
  EXPECT_NE(TransactionRoot({Bytes{1}}), TransactionRoot({Bytes{2}}));
  EXPECT_EQ(TransactionRoot({}), Sha256d(nullptr, 0));
}

TEST(DevchainBlockTest, CoinbaseRoundTripsAndRejectsOtherBytes) {
  const Bytes encoded = EncodeCoinbase(Coinbase{42, "alice"});
  const std::optional<Coinbase> decoded = DecodeCoinbase(encoded);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->height, 42u);
  EXPECT_EQ(decoded->miner, "alice");
  EXPECT_FALSE(DecodeCoinbase(Bytes{1, 2, 3}));
  Bytes trailing = encoded;
  trailing.push_back(0);
  EXPECT_FALSE(DecodeCoinbase(trailing));
}

TEST(DevchainBlockTest, ParseTargetNeedsSixtyFourHexDigits) {
  EXPECT_EQ(ParseTarget(ToHex(ChainParams::DefaultTarget())), ChainParams::DefaultTarget());
  EXPECT_FALSE(ParseTarget("00ff"));
  EXPECT_FALSE(ParseTarget(std::string(64, 'g')));
}

}  // namespace
}  // namespace metronome::devchain
