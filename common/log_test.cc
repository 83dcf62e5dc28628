#include "common/log.h"

#include <gtest/gtest.h>

namespace metronome {
namespace {

TEST(LogTest, LineIsOneJsonObjectWithFields) {
  const std::string line = FormatLogLine(LogLevel::kWarn, "bft", "view change",
                                         {{"view", 12}, {"peer", "m2"}}, 1795492348123);
  const nlohmann::json json = nlohmann::json::parse(line);
  EXPECT_EQ(json["ts"], "2026-11-24T03:52:28.123Z");
  EXPECT_EQ(json["level"], "warn");
  EXPECT_EQ(json["service"], "bft");
  EXPECT_EQ(json["msg"], "view change");
  EXPECT_EQ(json["view"], 12);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogTest, InvalidUtf8DoesNotBreakTheLine) {
  const std::string line =
      FormatLogLine(LogLevel::kInfo, "bft", std::string("bad \xff byte"), {}, 0);
  EXPECT_TRUE(nlohmann::json::accept(line));
}

TEST(LogTest, ParsesLevels) {
  LogLevel level;
  EXPECT_TRUE(ParseLogLevel("debug", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("loud", &level));
}

}  // namespace
}  // namespace metronome
