// intake-soak end to end, briefly (make soak runs it for 30 minutes): the probe derives the
// rate under the mixed load, the samples reach soak.csv and soak.png, and the verdict names
// every check with its figures.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/temp_dir.h"
#include "tests/testing/text_file.h"

namespace intake::testing {
namespace {

using nlohmann::json;

TEST(SoakTest, AShortRunDerivesItsRateUnderMixedLoadAndWritesItsSamplesPlotAndVerdict) {
  TempDir dir;
  const std::string out_dir = dir.File("soak");
  // The spawned intaked's data directory on tmpfs where there is one: the disk's fsync stalls
  // are not what a short run should be about.
  const std::string tmpdir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : dir.path();
  const std::string command = absl::StrCat(
      "TMPDIR=", tmpdir, " ", INTAKE_SOAK_PATH,
      " --duration=20s --sample_interval=5s --probe=3s --subscribers=4 --out_dir=", out_dir, " >'",
      dir.File("out"), "' 2>'", dir.File("err"), "'");
  const int status = std::system(command.c_str());
  const std::string out = ReadTextFile(dir.File("out"));
  const std::string err = ReadTextFile(dir.File("err"));
  ASSERT_TRUE(WIFEXITED(status)) << err;
  // 0 flat, 1 not flat: a loaded test machine may make a short run either; 2 could not run.
  ASSERT_LT(WEXITSTATUS(status), 2) << err;
  SCOPED_TRACE(out + err);

  const json report = json::parse(out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_object()) << out;
  EXPECT_EQ(report.value("rate_from", ""), "half the probed capacity") << out;
  const json& probe = report["probe"];
  ASSERT_TRUE(probe.is_object()) << out;
  const double capacity = probe.value("capacity_per_s", 0.0);
  EXPECT_GT(capacity, 0) << out;
  EXPECT_LE(capacity, probe.value("submits_per_s", 0.0)) << out;
  EXPECT_LE(capacity, probe.value("events_per_s_per_dashboard", 0.0)) << out;
  // Half the capacity, which the report rounds to whole calls per second.
  EXPECT_NEAR(report.value("rate_per_s", 0), capacity / 2, 1) << out;
  EXPECT_GT(report.value("submitted_ok", 0), 0) << out;

  const json& checks = report["checks"];
  for (const char* name :
       {"samples", "load", "delivery", "anon_rss", "fds", "wal", "p99", "streams", "clean_exit"}) {
    ASSERT_TRUE(checks.contains(name)) << name << " missing: " << out;
    EXPECT_TRUE(checks[name]["pass"].is_boolean()) << name;
    EXPECT_FALSE(checks[name].value("detail", "").empty()) << name;
  }
  bool all_pass = true;
  for (const auto& [name, check] : checks.items()) {
    all_pass = all_pass && check.value("pass", false);
  }
  EXPECT_EQ(report.value("verdict", ""), all_pass ? "flat" : "not flat") << out;
  EXPECT_EQ(WEXITSTATUS(status), all_pass ? 0 : 1);
  EXPECT_TRUE(checks["samples"].value("pass", false)) << "20 s at 5 s: 4 samples";

  // The CSV: the header and one line per sample, each with every column.
  const std::vector<std::string> lines =
      absl::StrSplit(ReadTextFile(out_dir + "/soak.csv"), '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 5u);
  const size_t columns = std::vector<std::string>(absl::StrSplit(lines[0], ',')).size();
  EXPECT_EQ(columns, 12u) << lines[0];
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(std::vector<std::string>(absl::StrSplit(lines[i], ',')).size(), columns) << lines[i];
  }
  EXPECT_EQ(report.value("csv", ""), out_dir + "/soak.csv");

  // The plot: gnuplot is installed for make test (deploy/install-deps.sh).
  ASSERT_TRUE(report["png"].is_string()) << out;
  EXPECT_EQ(report["png"], out_dir + "/soak.png");
  const std::string png = ReadTextFile(out_dir + "/soak.png");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
}

}  // namespace
}  // namespace intake::testing
