#include "server/domain/status_macros.h"

#include <string>

#include "gtest/gtest.h"

namespace intake {
namespace {

absl::StatusOr<int> Parse(bool ok) {
  if (!ok) return absl::InvalidArgumentError("bad");
  return 7;
}

absl::Status Check(bool ok, int* seen) {
  INTAKE_RETURN_IF_ERROR(ok ? absl::OkStatus() : absl::NotFoundError("missing"));
  *seen = 1;
  return absl::OkStatus();
}

absl::StatusOr<std::string> Twice(bool ok) {
  INTAKE_ASSIGN_OR_RETURN(int n, Parse(ok));
  INTAKE_ASSIGN_OR_RETURN(const int m, Parse(true));  // Two uses in one scope.
  return std::to_string(n + m);
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtTheFirstError) {
  int seen = 0;
  EXPECT_EQ(Check(false, &seen).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(seen, 0);
  EXPECT_TRUE(Check(true, &seen).ok());
  EXPECT_EQ(seen, 1);
}

TEST(StatusMacrosTest, AssignOrReturnPassesValuesAndErrors) {
  EXPECT_EQ(Twice(true).value(), "14");
  EXPECT_EQ(Twice(false).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace intake
