#include "server/api/in_flight_limit.h"

#include <optional>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace intake::api {
namespace {

TEST(InFlightLimitTest, HandsOutAtMostMaxPlacesAndTakesBackEachOnce) {
  InFlightLimit limit(2);
  std::optional<InFlightLimit::Place> kept = limit.TryTake();
  ASSERT_TRUE(kept.has_value());
  {
    std::optional<InFlightLimit::Place> first = limit.TryTake();
    ASSERT_TRUE(first.has_value());
    EXPECT_FALSE(limit.TryTake().has_value()) << "both places are taken";
    EXPECT_FALSE(limit.TryTake().has_value()) << "a refusal holds nothing";
    const InFlightLimit::Place moved = *std::move(first);
    EXPECT_FALSE(limit.TryTake().has_value()) << "a move hands the place over";
  }  // The moved-from and the moved-to place both end here: one place comes back.
  std::optional<InFlightLimit::Place> again = limit.TryTake();
  EXPECT_TRUE(again.has_value());
  EXPECT_FALSE(limit.TryTake().has_value()) << "only one place came back";
}

TEST(InFlightLimitTest, ZeroMeansNoBound) {
  InFlightLimit limit(0);
  std::vector<InFlightLimit::Place> places;
  for (int i = 0; i < 10'000; ++i) {
    std::optional<InFlightLimit::Place> place = limit.TryTake();
    ASSERT_TRUE(place.has_value());
    places.push_back(*std::move(place));
  }
}

}  // namespace
}  // namespace intake::api
