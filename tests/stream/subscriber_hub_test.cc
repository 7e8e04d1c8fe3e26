#include "server/stream/subscriber_hub.h"

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace intake::stream {
namespace {

constexpr absl::string_view kAll = SubscriberHub::kAllEvents;
const std::vector<std::string> kAcme = {"acme"};

TEST(SubscriberHubTest, WakesOnlyWaitersBehindTheNewHead) {
  SubscriberHub hub(10);
  int woken_at_10 = 0, woken_at_12 = 0;
  hub.WaitBeyond(10, kAll, [&] { ++woken_at_10; });
  hub.WaitBeyond(12, kAll, [&] { ++woken_at_12; });
  EXPECT_EQ(hub.waiting(), 2u);

  hub.Notify(11, {});
  EXPECT_EQ(woken_at_10, 1);
  EXPECT_EQ(woken_at_12, 0);
  EXPECT_EQ(hub.head(), 11u);

  hub.Notify(13, {});
  EXPECT_EQ(woken_at_10, 1) << "a wakeup runs once";
  EXPECT_EQ(woken_at_12, 1);
  EXPECT_EQ(hub.waiting(), 0u);
}

TEST(SubscriberHubTest, TopicWaitersWakeOnlyForTheirTopic) {
  SubscriberHub hub;
  int acme = 0, beta = 0, all = 0;
  hub.WaitBeyond(0, "acme", [&] { ++acme; });
  hub.WaitBeyond(0, "beta", [&] { ++beta; });
  hub.WaitBeyond(0, kAll, [&] { ++all; });
  hub.Notify(1, kAcme);
  EXPECT_EQ(acme, 1);
  EXPECT_EQ(beta, 0) << "no events for beta: an idle stream costs nothing";
  EXPECT_EQ(all, 1);
  EXPECT_EQ(hub.waiting(), 1u);
}

TEST(SubscriberHubTest, CursorBehindTheTopicsHeadWakesAtOnce) {
  SubscriberHub hub;
  hub.Notify(5, kAcme);
  hub.Notify(9, {});
  bool woken = false;
  hub.WaitBeyond(4, "acme", [&] { woken = true; });
  EXPECT_TRUE(woken) << "acme's events reach 5";
  woken = false;
  hub.WaitBeyond(5, "acme", [&] { woken = true; });
  EXPECT_FALSE(woken) << "events 6..9 were not acme's";
  bool all_woken = false;
  hub.WaitBeyond(8, kAll, [&] { all_woken = true; });
  EXPECT_TRUE(all_woken);
  bool unknown = false;
  hub.WaitBeyond(0, "never-notified", [&] { unknown = true; });
  EXPECT_FALSE(unknown);
}

TEST(SubscriberHubTest, OldOrRepeatedHeadsAreIgnored) {
  SubscriberHub hub(5);
  int woken = 0;
  hub.WaitBeyond(5, kAll, [&] { ++woken; });
  hub.Notify(5, {});
  hub.Notify(3, {});
  EXPECT_EQ(woken, 0);
  EXPECT_EQ(hub.head(), 5u);
}

TEST(SubscriberHubTest, CancelledWaitNeverRuns) {
  SubscriberHub hub;
  bool woken = false;
  SubscriberHub::WaitId id = hub.WaitBeyond(0, "acme", [&] { woken = true; });
  EXPECT_TRUE(hub.Cancel(id));
  EXPECT_FALSE(hub.Cancel(id)) << "second cancel reports the wait is gone";
  hub.Notify(1, kAcme);
  EXPECT_FALSE(woken);
  EXPECT_EQ(hub.waiting(), 0u);
}

TEST(SubscriberHubTest, CancelAfterWakeupReportsFalse) {
  SubscriberHub hub;
  SubscriberHub::WaitId id = hub.WaitBeyond(0, kAll, [] {});
  hub.Notify(1, {});
  EXPECT_FALSE(hub.Cancel(id));
}

TEST(SubscriberHubTest, CloseWakesEveryoneAndLaterWaitsRunAtOnce) {
  SubscriberHub hub;
  int woken = 0;
  hub.WaitBeyond(0, kAll, [&] { ++woken; });
  hub.WaitBeyond(100, "acme", [&] { ++woken; });
  hub.Close();
  EXPECT_EQ(woken, 2);
  hub.WaitBeyond(100, "acme", [&] { ++woken; });
  EXPECT_EQ(woken, 3);
  EXPECT_EQ(hub.waiting(), 0u);
}

TEST(SubscriberHubTest, WaitBeyondLaterNeverRunsTheWakeupOnTheCallersThread) {
  SubscriberHub hub;
  hub.Notify(5, kAcme);
  int woken = 0;
  EXPECT_EQ(hub.WaitBeyondLater(4, "acme", [&] { ++woken; }), std::nullopt)
      << "acme has events beyond 4: the caller reads them itself";
  EXPECT_EQ(woken, 0);
  EXPECT_EQ(hub.waiting(), 0u);

  const std::optional<SubscriberHub::WaitId> wait =
      hub.WaitBeyondLater(5, "acme", [&] { ++woken; });
  ASSERT_NE(wait, std::nullopt);
  EXPECT_EQ(hub.waiting(), 1u);
  hub.Notify(6, kAcme);
  EXPECT_EQ(woken, 1);
  EXPECT_FALSE(hub.Cancel(*wait)) << "it ran";

  hub.Close();
  EXPECT_EQ(hub.WaitBeyondLater(100, "acme", [&] { ++woken; }), std::nullopt);
  EXPECT_EQ(woken, 1);
}

TEST(SubscriberHubTest, WakeupMayWaitAgainFromInsideItself) {
  SubscriberHub hub;
  int woken = 0;
  std::function<void()> rearm = [&] {
    ++woken;
    hub.WaitBeyond(hub.head(), "acme", [&] { rearm(); });
  };
  hub.WaitBeyond(0, "acme", [&] { rearm(); });
  hub.Notify(1, kAcme);
  hub.Notify(2, kAcme);
  EXPECT_EQ(woken, 2);
  EXPECT_EQ(hub.waiting(), 1u);
}

TEST(SubscriberHubTest, ConcurrentWaitersAndNotifiersLoseNoWakeup) {
  SubscriberHub hub;
  constexpr int kWaiters = 200;
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  threads.reserve(kWaiters);
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      hub.WaitBeyond(i % 50, i % 2 == 0 ? kAll : absl::string_view("acme"), [&] { ++woken; });
    });
  }
  std::thread notifier([&] {
    for (uint64_t head = 1; head <= 60; ++head) hub.Notify(head, kAcme);
  });
  for (std::thread& t : threads) t.join();
  notifier.join();
  EXPECT_EQ(woken.load(), kWaiters);
  EXPECT_EQ(hub.waiting(), 0u);
}

}  // namespace
}  // namespace intake::stream
