#include "server/api/access_log.h"

#include "gtest/gtest.h"
#include "server/domain/clock.h"

namespace intake::api {
namespace {

TEST(EventLogTest, JsonLinesEscapeEveryValue) {
  FakeClock clock(absl::FromUnixMicros(1'767'225'600'123'456));
  const EventLog log(LogFormat::kJson, &clock);
  EXPECT_EQ(log.Format("access", {{"peer", "unix:/a \"b\"\n"},
                                  {"latency_ms", 1.5},
                                  {"schema_version", 9},
                                  {"bad_utf8", "\xff"}}),
            R"({"time":"2026-01-01T00:00:00.123456Z","msg":"access","peer":"unix:/a \"b\"\n",)"
            R"("latency_ms":1.5,"schema_version":9,"bad_utf8":")"
            "\xEF\xBF\xBD"
            R"("})");
}

TEST(EventLogTest, TextValuesThatCouldBeMisreadAreQuoted) {
  FakeClock clock(absl::FromUnixMicros(1'767'225'600'123'456));
  const EventLog log(LogFormat::kText, &clock);
  EXPECT_EQ(log.Format("access", {{"method", "/intake.v1.IntakeService/SubmitCallback"},
                                  {"peer", "a b=c"},
                                  {"empty", ""},
                                  {"latency_ms", 0.25},
                                  {"schema_version", 9}}),
            "intaked: access method=/intake.v1.IntakeService/SubmitCallback peer=\"a b=c\" "
            "empty=\"\" latency_ms=0.25 schema_version=9 time=2026-01-01T00:00:00.123456Z");
}

TEST(LogFormatTest, ParsesTextAndJsonOnly) {
  LogFormat format = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("json", &format));
  EXPECT_EQ(format, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("text", &format));
  EXPECT_EQ(format, LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("JSON", &format));
}

}  // namespace
}  // namespace intake::api
