#include "common/canonical.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace metronome {
namespace {

TEST(CanonicalTest, IntegersAreBigEndianFixedWidth) {
  Writer writer;
  writer.U16(0x0102);
  writer.U32(0x03040506);
  writer.U64(0x0708090a0b0c0d0eULL);
  EXPECT_EQ(ToHex(writer.bytes()), "0102030405060708090a0b0c0d0e");
}

TEST(CanonicalTest, LengthPrefixIsU32) {
  Writer writer;
  writer.String("ab");
  EXPECT_EQ(ToHex(writer.bytes()), "000000026162");
}

TEST(CanonicalTest, TruncatedInputFailsWithReasonAndZeroValues) {
  const Bytes bytes = {0x00, 0x01};
  Reader reader(bytes);
  EXPECT_EQ(reader.U32(), 0u);
  EXPECT_FALSE(reader.ok());
  EXPECT_NE(reader.error().find("truncated"), std::string::npos);
  EXPECT_EQ(reader.U8(), 0u);  // Later reads are no-ops.
}

TEST(CanonicalTest, LengthAboveBoundFailsBeforeAllocating) {
  Writer writer;
  writer.U32(0xffffffff);
  Reader reader(writer.bytes());
  EXPECT_TRUE(reader.LengthPrefixed(1024).empty());
  EXPECT_NE(reader.error().find("exceeds the maximum"), std::string::npos);
}

TEST(CanonicalTest, WrongKindIsRejected) {
  Writer writer;
  writer.Kind(ArtefactKind::kHeader);
  Reader reader(writer.bytes());
  reader.ExpectKind(ArtefactKind::kVote);
  EXPECT_FALSE(reader.ok());
}

TEST(CanonicalTest, TrailingBytesAreRejected) {
  const Bytes bytes = {0x01, 0x02};
  Reader reader(bytes);
  reader.U8();
  reader.ExpectEnd();
  EXPECT_NE(reader.error().find("trailing"), std::string::npos);
}

RC_GTEST_PROP(CanonicalProperty, WriterReaderRoundTrip,
              (uint8_t a, uint16_t b, uint32_t c, uint64_t d, std::string text)) {
  RC_PRE(text.size() < 1000);
  Writer writer;
  writer.U8(a);
  writer.U16(b);
  writer.U32(c);
  writer.U64(d);
  writer.String(text);
  Reader reader(writer.bytes());
  RC_ASSERT(reader.U8() == a);
  RC_ASSERT(reader.U16() == b);
  RC_ASSERT(reader.U32() == c);
  RC_ASSERT(reader.U64() == d);
  RC_ASSERT(reader.String(1000) == text);
  reader.ExpectEnd();
  RC_ASSERT(reader.ok());
}

}  // namespace
}  // namespace metronome
