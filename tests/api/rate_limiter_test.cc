#include "server/api/rate_limiter.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "server/domain/clock.h"

namespace intake::api {
namespace {

RateLimiter::Options Limits(double client_rate, double client_burst, double global_rate = 0) {
  RateLimiter::Options options;
  options.client_rate = client_rate;
  options.client_burst = client_burst;
  options.global_rate = global_rate;
  return options;
}

// How many calls `client` gets admitted in a row before the first refusal (at most `limit`).
int AdmittedInARow(RateLimiter& limiter, const std::string& client, int limit = 1000) {
  int admitted = 0;
  while (admitted < limit && !limiter.Acquire(client).has_value()) ++admitted;
  return admitted;
}

TEST(ClientKeyTest, IsTheAddressWithoutSchemeOrPort) {
  EXPECT_EQ(ClientKey("ipv4:203.0.113.7:51234"), "203.0.113.7");
  EXPECT_EQ(ClientKey("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(ClientKey("ipv6:[::ffff:203.0.113.7]:443"), "203.0.113.7")
      << "an IPv4-mapped address is its IPv4 client";
}

TEST(ClientKeyTest, AnIpv6ClientIsItsSlash64) {
  EXPECT_EQ(ClientKey("ipv6:[2001:db8:1:2:aaaa::1]:443"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientKey("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
  EXPECT_EQ(ClientKey("fe80::1%eth0"), "fe80::/64");
}

TEST(ClientKeyTest, AnythingElseIsKeptButBounded) {
  EXPECT_EQ(ClientKey("unix:/run/intake.sock"), "unix:/run/intake.sock");
  EXPECT_EQ(ClientKey(std::string(500, 'x')).size(), 64u);
}

TEST(RateLimiterTest, AClientGetsItsBurstThenItsRate) {
  FakeClock clock;
  RateLimiter limiter(Limits(/*client_rate=*/1, /*client_burst=*/10), &clock);
  EXPECT_EQ(AdmittedInARow(limiter, "203.0.113.7"), 10);
  const std::optional<absl::Duration> retry = limiter.Acquire("203.0.113.7");
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(*retry, absl::Seconds(1));

  clock.Advance(absl::Milliseconds(400));
  ASSERT_TRUE(limiter.Acquire("203.0.113.7").has_value());
  EXPECT_EQ(*limiter.Acquire("203.0.113.7"), absl::Milliseconds(600))
      << "the wait shrinks as the bucket refills";
  clock.Advance(absl::Milliseconds(600));
  EXPECT_EQ(AdmittedInARow(limiter, "203.0.113.7"), 1);
  clock.Advance(absl::Hours(1));
  EXPECT_EQ(AdmittedInARow(limiter, "203.0.113.7"), 10) << "a bucket holds no more than its burst";
}

TEST(RateLimiterTest, ClientsHaveTheirOwnBuckets) {
  FakeClock clock;
  RateLimiter limiter(Limits(1, 3), &clock);
  EXPECT_EQ(AdmittedInARow(limiter, "203.0.113.7"), 3);
  EXPECT_EQ(AdmittedInARow(limiter, "203.0.113.8"), 3);
  EXPECT_TRUE(limiter.Acquire("203.0.113.7").has_value());
}

TEST(RateLimiterTest, TheGlobalCeilingHoldsAcrossClients) {
  FakeClock clock;
  RateLimiter limiter(Limits(/*client_rate=*/0, /*client_burst=*/1, /*global_rate=*/5), &clock);
  int admitted = 0;
  for (int i = 0; i < 20; ++i) {
    if (!limiter.Acquire("198.51.100." + std::to_string(i)).has_value()) ++admitted;
  }
  EXPECT_EQ(admitted, 5) << "one second's worth at once";
  EXPECT_EQ(*limiter.Acquire("198.51.100.99"), absl::Milliseconds(200));
  clock.Advance(absl::Milliseconds(200));
  EXPECT_FALSE(limiter.Acquire("198.51.100.99").has_value());
}

// A call refused by the global bucket takes nothing from its client's bucket.
TEST(RateLimiterTest, ARefusalTakesNoToken) {
  FakeClock clock;
  RateLimiter limiter(Limits(/*client_rate=*/1, /*client_burst=*/2, /*global_rate=*/1), &clock);
  EXPECT_FALSE(limiter.Acquire("203.0.113.7").has_value());
  EXPECT_TRUE(limiter.Acquire("203.0.113.7").has_value()) << "the global bucket is empty";
  clock.Advance(absl::Seconds(1));
  EXPECT_FALSE(limiter.Acquire("203.0.113.7").has_value())
      << "the client still had its second token";
}

TEST(RateLimiterTest, ZeroRatesAdmitEverything) {
  FakeClock clock;
  RateLimiter limiter(Limits(0, 1, 0), &clock);
  EXPECT_EQ(AdmittedInARow(limiter, "203.0.113.7"), 1000);
}

// A flood of distinct clients stays within max_clients, and a client forgotten on the way
// gets at most a fresh burst, never more.
TEST(RateLimiterTest, ClientsRememberedAreBounded) {
  FakeClock clock;
  RateLimiter::Options options = Limits(1, 2);
  options.max_clients = 160;
  RateLimiter limiter(options, &clock);
  EXPECT_EQ(AdmittedInARow(limiter, "victim"), 2);
  for (int i = 0; i < 10'000; ++i) limiter.Acquire("flood-" + std::to_string(i));
  EXPECT_LE(limiter.remembered_clients(), 160u);
  EXPECT_LE(limiter.Acquire("victim").has_value() ? 0 : 1 + AdmittedInARow(limiter, "victim"), 2);
}

}  // namespace
}  // namespace intake::api
