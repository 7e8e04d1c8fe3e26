// intake-bench --mode=submit end to end, briefly: the ratio's baseline.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/testing/bench_run.h"
#include "tests/testing/temp_dir.h"

namespace intake::testing {
namespace {

TEST(BenchSubmitTest, TheRatioIsToTheFasterOfTheEchoPhasesBeforeAndAfter) {
  TempDir dir;
  const BenchRun run = RunBench(dir, "--warmup=0s --duration=1s --concurrency=4 --channels=2");
  ASSERT_EQ(run.exit_code, 0) << run.err;

  const std::optional<std::string> rates = Field(run.out, "{", "echo_calls_per_s");
  ASSERT_TRUE(rates.has_value()) << run.out;
  const std::vector<std::string> both = absl::StrSplit(*rates, ", ");
  ASSERT_EQ(both.size(), 2u) << run.out;
  const double before = Number(both[0]);
  const double after = Number(both[1]);
  EXPECT_GT(before, 0) << run.out;
  EXPECT_GT(after, 0) << run.out;

  // "echo" is the faster phase, and the ratio is the submissions' rate over its rate.
  const double echo = Number(Field(run.out, "\"echo\": {", "calls_per_s"));
  EXPECT_DOUBLE_EQ(echo, std::max(before, after)) << run.out;
  const double submit = Number(Field(run.out, "\"submit\": {", "calls_per_s"));
  EXPECT_GT(submit, 0) << run.out;
  // Rates are printed to 0.1 call/s and the ratio to 4 decimals, each rounded on its own.
  EXPECT_NEAR(Number(Field(run.out, "{", "ratio")), submit / echo, 0.0002) << run.out;
  EXPECT_EQ(Field(run.out, "\"echo\": {", "errors"), "0") << run.out;
  EXPECT_EQ(Field(run.out, "\"submit\": {", "errors"), "0") << run.out;
}

}  // namespace
}  // namespace intake::testing
