#include "server/api/tokens.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace intake::api {
namespace {

TEST(NewBearerTokenTest, Is43UrlSafeCharactersCarrying256Bits) {
  const std::string token = NewBearerToken();
  EXPECT_EQ(token.size(), 43u);
  for (char c : token) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
        << "unexpected character in token";
  }
}

TEST(NewBearerTokenTest, NeverRepeats) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(NewBearerToken());
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace intake::api
