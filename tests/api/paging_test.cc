#include "server/api/paging.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace intake::api {
namespace {

const std::string kKey(PageTokens::kKeyBytes, 'k');

TEST(PageSizeTest, DefaultsCapsAndRefusesNegatives) {
  EXPECT_EQ(PageSize(0).value(), kDefaultPageSize);
  EXPECT_EQ(PageSize(1).value(), 1);
  EXPECT_EQ(PageSize(kMaxPageSize).value(), kMaxPageSize);
  EXPECT_EQ(PageSize(kMaxPageSize + 1).value(), kMaxPageSize);
  EXPECT_EQ(PageSize(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PageTokenTest, RoundTripsWithinItsScopeOnly) {
  const PageTokens tokens(kKey);
  const std::string token = tokens.Encode("AdminService.ListProviders", "acme-1");
  EXPECT_EQ(token.find("acme"), std::string::npos) << "opaque";
  EXPECT_EQ(tokens.Decode("AdminService.ListProviders", token).value(), "acme-1");
  EXPECT_EQ(tokens.Decode("AdminService.ListListings/", token).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tokens.Decode("AdminService.ListProviders", "").value(), "");
  EXPECT_EQ(tokens.Encode("AdminService.ListProviders", ""), "");
}

TEST(PageTokenTest, AnotherKeyRefusesIt) {
  const std::string token = PageTokens(kKey).Encode("scope", "acme-1");
  const PageTokens other(std::string(PageTokens::kKeyBytes, 'o'));
  EXPECT_EQ(other.Decode("scope", token).status().code(), absl::StatusCode::kInvalidArgument);
}

// The forgery the contract rules out: a hand-made token (the unsigned "v1" format this server
// once issued, or any other) is refused, so a listing never resumes where a client chose.
TEST(PageTokenTest, HandMadeTokensAreRefused) {
  const PageTokens tokens(kKey);
  const std::string scope = "ProviderService.ListLeads/acme/0";
  std::vector<std::string> forged = {
      "garbage",
      "!!!",
      absl::WebSafeBase64Escape(absl::StrCat("v1\n", scope, "\n1767225600000000/lead-x")),
      absl::WebSafeBase64Escape(absl::StrCat("\x02", "1767225600000000/lead-x")),
      absl::WebSafeBase64Escape(
          absl::StrCat("\x02", "1767225600000000/lead-x", std::string(16, '\0'))),
      absl::WebSafeBase64Escape(std::string(17, '\x02')),
  };
  for (const std::string& token : forged) {
    const absl::Status status = tokens.Decode(scope, token).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << token;
    EXPECT_EQ(std::string(status.message()).find("lead-x"), std::string::npos) << "never echoed";
  }
}

TEST(PageTokenTest, EveryAlteredByteIsRefused) {
  const PageTokens tokens(kKey);
  const std::string token = tokens.Encode("scope", "1767225600000000/lead-0123");
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(token, &raw));
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string altered = raw;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    EXPECT_EQ(tokens.Decode("scope", absl::WebSafeBase64Escape(altered)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << "byte " << i;
  }
  EXPECT_EQ(tokens.Decode("scope", absl::WebSafeBase64Escape(raw.substr(0, raw.size() - 1)))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument)
      << "truncated";
  EXPECT_EQ(tokens.Decode("scope", token + "AA").status().code(),
            absl::StatusCode::kInvalidArgument)
      << "extended";
}

// The scope and the key are MACed with the scope's length, so moving bytes from one to the other
// (a token of scope "ab" for the key "c" passing as scope "a" with key "bc") is refused.
TEST(PageTokenTest, ScopeAndKeyCannotTradeBytes) {
  const PageTokens tokens(kKey);
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(tokens.Encode("leads/ab", "c"), &raw));
  raw.insert(1, "b");  // The same bytes after the version: "bc" + tag.
  EXPECT_EQ(tokens.Decode("leads/a", absl::WebSafeBase64Escape(raw)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace intake::api
