// Running intake-bench from a test, and reading figures out of its one-line JSON report.
#ifndef INTAKE_TESTS_TESTING_BENCH_RUN_H_
#define INTAKE_TESTS_TESTING_BENCH_RUN_H_

#include <sys/wait.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/text_file.h"

namespace intake::testing {

struct BenchRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the intake-bench at INTAKE_BENCH_PATH (a compile definition of the test) with `args`,
// its output kept in `dir`.
inline BenchRun RunBench(const TempDir& dir, const std::string& args) {
  const std::string command = absl::StrCat(INTAKE_BENCH_PATH, " ", args, " >'", dir.File("out"),
                                           "' 2>'", dir.File("err"), "'");
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ReadTextFile(dir.File("out")),
          ReadTextFile(dir.File("err"))};
}

// The text of the value of the first `"key": ` after `from` in the report: a string's contents
// without its quotes, an array's without its brackets, or a number (null, true and false as
// written); nullopt if absent.
inline std::optional<std::string> Field(absl::string_view json, absl::string_view from,
                                        absl::string_view key) {
  const size_t start = json.find(from);
  if (start == absl::string_view::npos) return std::nullopt;
  const std::string quoted = absl::StrCat("\"", key, "\": ");
  const size_t at = json.find(quoted, start);
  if (at == absl::string_view::npos) return std::nullopt;
  absl::string_view value = json.substr(at + quoted.size());
  if (absl::ConsumePrefix(&value, "\"")) return std::string(value.substr(0, value.find('"')));
  if (absl::ConsumePrefix(&value, "[")) return std::string(value.substr(0, value.find(']')));
  return std::string(value.substr(0, value.find_first_of(",}")));
}

// `text` as a number; a failed expectation (and 0) if it is absent or not one.
inline double Number(const std::optional<std::string>& text) {
  double value = 0;
  EXPECT_TRUE(text && absl::SimpleAtod(*text, &value)) << text.value_or("(absent)");
  return value;
}

}  // namespace intake::testing

#endif  // INTAKE_TESTS_TESTING_BENCH_RUN_H_
