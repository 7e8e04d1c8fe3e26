#include "server/store/postgres/locks.h"

#include <string>

#include "gtest/gtest.h"

namespace intake::store::postgres {
namespace {

TEST(DedupLockKeyTest, OnePhoneAndTargetAlwaysGetTheSameKey) {
  const std::string hash(32, '\x07');
  EXPECT_EQ(DedupLockKey(hash, "listing-1"), DedupLockKey(hash, "listing-1"));
  EXPECT_EQ(DedupLockKey(hash, ""), DedupLockKey(std::string(32, '\x07'), ""));
}

TEST(DedupLockKeyTest, AnotherPhoneOrTargetGetsAnotherKey) {
  const std::string hash(32, '\x07');
  EXPECT_NE(DedupLockKey(hash, "listing-1"), DedupLockKey(hash, "listing-2"));
  EXPECT_NE(DedupLockKey(hash, ""), DedupLockKey(hash, "listing-1"));
  EXPECT_NE(DedupLockKey(hash, ""), DedupLockKey(std::string(32, '\x08'), ""));
  // The phone hash's length is part of the input: no pair reads as another.
  EXPECT_NE(DedupLockKey("ab", "c"), DedupLockKey("a", "bc"));
}

}  // namespace
}  // namespace intake::store::postgres
