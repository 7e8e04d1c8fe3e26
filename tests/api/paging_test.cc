#include "server/api/paging.h"

#include "gtest/gtest.h"

namespace intake::api {
namespace {

TEST(PageSizeTest, DefaultsCapsAndRefusesNegatives) {
  EXPECT_EQ(PageSize(0).value(), kDefaultPageSize);
  EXPECT_EQ(PageSize(1).value(), 1);
  EXPECT_EQ(PageSize(kMaxPageSize).value(), kMaxPageSize);
  EXPECT_EQ(PageSize(kMaxPageSize + 1).value(), kMaxPageSize);
  EXPECT_EQ(PageSize(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PageTokenTest, RoundTripsWithinItsScopeOnly) {
  const std::string token = EncodePageToken("providers", "acme-1");
  EXPECT_NE(token.find("acme"), 0u) << "opaque";
  EXPECT_EQ(DecodePageToken("providers", token).value(), "acme-1");
  EXPECT_EQ(DecodePageToken("listings/", token).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodePageToken("providers", "").value(), "");
  EXPECT_EQ(EncodePageToken("providers", ""), "");
  for (const char* bad : {"garbage", "!!!", "djEKcHJvdmlkZXJzCg"}) {
    EXPECT_EQ(DecodePageToken("providers", bad).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace intake::api
