#include "common/bytes.h"

#include <gtest/gtest.h>

namespace metronome {
namespace {

TEST(BytesTest, HexRoundTrips) {
  const Bytes bytes = {0x00, 0x7f, 0x80, 0xff};
  EXPECT_EQ(ToHex(bytes), "007f80ff");
  EXPECT_EQ(FromHex("007F80ff"), bytes);
}

TEST(BytesTest, FromHexRejectsOddLengthAndNonHex) {
  EXPECT_FALSE(FromHex("abc").has_value());
  EXPECT_FALSE(FromHex("zz").has_value());
  EXPECT_FALSE(FromHex("0x00").has_value());
  EXPECT_TRUE(FromHex("").has_value());
}

TEST(BytesTest, FixedFromHexRequiresExactLength) {
  EXPECT_TRUE(FixedFromHex<2>("beef").has_value());
  EXPECT_FALSE(FixedFromHex<2>("beefaa").has_value());
  EXPECT_FALSE(FixedFromHex<2>("be").has_value());
}

}  // namespace
}  // namespace metronome
