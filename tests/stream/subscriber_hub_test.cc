#include "server/stream/subscriber_hub.h"

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace intake::stream {
namespace {

TEST(SubscriberHubTest, WakesOnlyWaitersBehindTheNewHead) {
  SubscriberHub hub(10);
  int woken_at_10 = 0, woken_at_12 = 0;
  hub.WaitBeyond(10, [&] { ++woken_at_10; });
  hub.WaitBeyond(12, [&] { ++woken_at_12; });
  EXPECT_EQ(hub.waiting(), 2u);

  hub.Notify(11);
  EXPECT_EQ(woken_at_10, 1);
  EXPECT_EQ(woken_at_12, 0);
  EXPECT_EQ(hub.head(), 11u);

  hub.Notify(13);
  EXPECT_EQ(woken_at_10, 1) << "a wakeup runs once";
  EXPECT_EQ(woken_at_12, 1);
  EXPECT_EQ(hub.waiting(), 0u);
}

TEST(SubscriberHubTest, CursorAlreadyBehindHeadWakesAtOnce) {
  SubscriberHub hub(5);
  bool woken = false;
  hub.WaitBeyond(4, [&] { woken = true; });
  EXPECT_TRUE(woken);
  EXPECT_EQ(hub.waiting(), 0u);
}

TEST(SubscriberHubTest, OldOrRepeatedHeadsAreIgnored) {
  SubscriberHub hub(5);
  int woken = 0;
  hub.WaitBeyond(5, [&] { ++woken; });
  hub.Notify(5);
  hub.Notify(3);
  EXPECT_EQ(woken, 0);
  EXPECT_EQ(hub.head(), 5u);
}

TEST(SubscriberHubTest, CancelledWaitNeverRuns) {
  SubscriberHub hub;
  bool woken = false;
  SubscriberHub::WaitId id = hub.WaitBeyond(0, [&] { woken = true; });
  EXPECT_TRUE(hub.Cancel(id));
  EXPECT_FALSE(hub.Cancel(id)) << "second cancel reports the wait is gone";
  hub.Notify(1);
  EXPECT_FALSE(woken);
}

TEST(SubscriberHubTest, CancelAfterWakeupReportsFalse) {
  SubscriberHub hub;
  SubscriberHub::WaitId id = hub.WaitBeyond(0, [] {});
  hub.Notify(1);
  EXPECT_FALSE(hub.Cancel(id));
}

TEST(SubscriberHubTest, CloseWakesEveryoneAndLaterWaitsRunAtOnce) {
  SubscriberHub hub;
  int woken = 0;
  hub.WaitBeyond(0, [&] { ++woken; });
  hub.WaitBeyond(100, [&] { ++woken; });
  hub.Close();
  EXPECT_EQ(woken, 2);
  hub.WaitBeyond(100, [&] { ++woken; });
  EXPECT_EQ(woken, 3);
}

TEST(SubscriberHubTest, WakeupMayWaitAgainFromInsideItself) {
  SubscriberHub hub;
  int woken = 0;
  std::function<void()> rearm = [&] {
    ++woken;
    hub.WaitBeyond(hub.head(), [&] { rearm(); });
  };
  hub.WaitBeyond(0, [&] { rearm(); });
  hub.Notify(1);
  hub.Notify(2);
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
    threads.emplace_back([&, i] { hub.WaitBeyond(i % 50, [&] { ++woken; }); });
  }
  std::thread notifier([&] {
    for (uint64_t head = 1; head <= 60; ++head) hub.Notify(head);
  });
  for (std::thread& t : threads) t.join();
  notifier.join();
  EXPECT_EQ(woken.load(), kWaiters);
  EXPECT_EQ(hub.waiting(), 0u);
}

}  // namespace
}  // namespace intake::stream
