#include "server/store/postgres/event_log.h"

#include <poll.h>

#include <atomic>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/store/postgres/migrations.h"
#include "tests/testing/pg_test.h"

namespace intake::store::postgres {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(60);

LeadEvent Event(const std::string& lead_id, const std::string& provider_id,
                LeadEventType type = LeadEventType::kAssigned) {
  return LeadEvent{0, type, lead_id, provider_id, absl::FromUnixMicros(1'700'000'000'000'000)};
}

std::vector<uint64_t> Sequences(const std::vector<LeadEvent>& events) {
  std::vector<uint64_t> out;
  out.reserve(events.size());
  for (const LeadEvent& e : events) out.push_back(e.sequence);
  return out;
}

class EventLogTest : public ::intake::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    reader_ = Connect();
    ASSERT_NE(reader_, nullptr);
    ASSERT_TRUE(Migrate(*reader_).ok());
  }

  std::unique_ptr<Connection> Connect() {
    auto conn = Connection::Open(uri_, "event_log_test");
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  // Appends `events` as a transaction's last statement and commits, in one round trip, as
  // the writer does. Returns the new head.
  static absl::StatusOr<uint64_t> AppendAndCommit(Connection& conn,
                                                  const std::vector<LeadEvent>& events) {
    if (absl::Status s = conn.ExecScript("BEGIN"); !s.ok()) return s;
    absl::StatusOr<std::vector<Result>> results =
        conn.ExecAll({AppendEventsQuery(events), {"COMMIT", {}}});
    if (!results.ok()) {
      conn.ExecScript("ROLLBACK").IgnoreError();
      return results.status();
    }
    return AppendedHead((*results)[0]);
  }

  // What a stream reading after `*cursor` gets now; moves the cursor past it.
  std::vector<uint64_t> Read(uint64_t* cursor, const std::string& provider_id = "") {
    absl::StatusOr<std::vector<LeadEvent>> events =
        ReadEvents(*reader_, *cursor, provider_id, 1000);
    EXPECT_TRUE(events.ok()) << events.status();
    if (!events.ok() || events->empty()) return {};
    *cursor = events->back().sequence;
    return Sequences(*events);
  }

  // Waits until the backend `pid` waits for a lock.
  void WaitUntilBlocked(int pid) {
    std::unique_ptr<Connection> observer = Connect();
    ASSERT_NE(observer, nullptr);
    const absl::Time deadline = absl::Now() + kDeadline;
    while (absl::Now() < deadline) {
      auto waiting = observer->Exec(
          "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
          {pid});
      ASSERT_TRUE(waiting.ok()) << waiting.status();
      if (waiting->Int64(0, 0) == 1) return;
      absl::SleepFor(absl::Milliseconds(5));
    }
    FAIL() << "backend " << pid << " never waited for a lock";
  }

  std::unique_ptr<Connection> reader_;
};

TEST_F(EventLogTest, AppendNumbersEventsInTheirOrderFromTheHead) {
  std::unique_ptr<Connection> writer = Connect();
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(*HeadSequence(*reader_), 0u);
  EXPECT_EQ(*AppendAndCommit(*writer, {Event("l1", "p1"), Event("l2", ""), Event("l3", "p2")}), 3u);
  EXPECT_EQ(*AppendAndCommit(*writer, {Event("l1", "p1", LeadEventType::kResubmitted)}), 4u);
  EXPECT_EQ(*HeadSequence(*reader_), 4u);
  auto all = ReadEvents(*reader_, 0, "", 10);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ(Sequences(*all), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ((*all)[0].lead_id, "l1");
  EXPECT_EQ((*all)[1].provider_id, "") << "an unassigned lead's event";
  EXPECT_EQ((*all)[2].provider_id, "p2");
  EXPECT_EQ((*all)[3].type, LeadEventType::kResubmitted);
  EXPECT_EQ((*all)[3].event_time, absl::FromUnixMicros(1'700'000'000'000'000));
}

TEST_F(EventLogTest, ReadEventsKeepsToOneProviderAndToTheLimit) {
  std::unique_ptr<Connection> writer = Connect();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(AppendAndCommit(*writer, {Event("a", "p1"), Event("b", "p2"), Event("c", "p1"),
                                        Event("d", ""), Event("e", "p1")})
                  .ok());
  auto p1 = ReadEvents(*reader_, 0, "p1", 10);
  ASSERT_TRUE(p1.ok()) << p1.status();
  EXPECT_EQ(Sequences(*p1), (std::vector<uint64_t>{1, 3, 5}));
  auto page = ReadEvents(*reader_, 1, "p1", 1);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(Sequences(*page), (std::vector<uint64_t>{3}));
  auto providers = ProvidersBetween(*reader_, 1, 4);
  ASSERT_TRUE(providers.ok()) << providers.status();
  std::sort(providers->begin(), providers->end());
  EXPECT_EQ(*providers, (std::vector<std::string>{"", "p1", "p2"}));
}

TEST_F(EventLogTest, ARolledBackAppendLeavesNoGap) {
  std::unique_ptr<Connection> writer = Connect();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->ExecScript("BEGIN").ok());
  ASSERT_TRUE(writer->ExecAll({AppendEventsQuery({Event("x", "p1"), Event("y", "p1")})}).ok());
  ASSERT_TRUE(writer->ExecScript("ROLLBACK").ok());
  EXPECT_EQ(*AppendAndCommit(*writer, {Event("z", "p1")}), 1u)
      << "the numbers of a rolled-back batch, which no one saw, are taken again";
  uint64_t cursor = 0;
  EXPECT_EQ(Read(&cursor), (std::vector<uint64_t>{1}));
}

// The hazard itself, with a plain bigserial: the test below must be able to see a loss.
TEST_F(EventLogTest, ControlABigserialLogLosesAnEventWhenCommitsOvertakeEachOther) {
  ASSERT_TRUE(reader_->ExecScript("CREATE TABLE naive (sequence bigserial PRIMARY KEY)").ok());
  std::unique_ptr<Connection> t1 = Connect();
  std::unique_ptr<Connection> t2 = Connect();
  ASSERT_TRUE(t1->ExecScript("BEGIN; INSERT INTO naive DEFAULT VALUES").ok());          // Takes 1.
  ASSERT_TRUE(t2->ExecScript("BEGIN; INSERT INTO naive DEFAULT VALUES; COMMIT").ok());  // 2.
  auto first = reader_->Exec("SELECT max(sequence) FROM naive WHERE sequence > 0");
  ASSERT_TRUE(first.ok());
  const int64_t cursor = first->Int64(0, 0);
  EXPECT_EQ(cursor, 2) << "the reader saw 2 and moved its cursor past 1";
  ASSERT_TRUE(t1->ExecScript("COMMIT").ok());
  auto next = reader_->Exec("SELECT count(*) FROM naive WHERE sequence > $1", {cursor});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->Int64(0, 0), 0) << "1 is committed now, but behind the cursor: lost";
}

// Issue 17's deterministic out-of-order commit. T1 starts first and writes first (with a
// bigserial it would hold the lower number); T2 starts later and commits first; a stream
// reads in between and after: it gets both, in order, because numbers follow commits.
TEST_F(EventLogTest, ABatchThatWroteFirstButCommitsLastIsStillReadInOrder) {
  std::unique_ptr<Connection> t1 = Connect();
  std::unique_ptr<Connection> t2 = Connect();
  ASSERT_TRUE(
      t1->ExecScript("BEGIN; UPDATE counters SET value = value + 1 WHERE name = 'leads'").ok());
  ASSERT_TRUE(t2->ExecScript("BEGIN; UPDATE counters SET value = value + 1 WHERE name = "
                             "'submissions'")
                  .ok());
  ASSERT_TRUE(t2->ExecAll({AppendEventsQuery({Event("from-t2", "p1")}), {"COMMIT", {}}}).ok());
  uint64_t cursor = 0;
  EXPECT_EQ(Read(&cursor, "p1"), (std::vector<uint64_t>{1})) << "read between the commits";
  ASSERT_TRUE(t1->ExecAll({AppendEventsQuery({Event("from-t1", "p1")}), {"COMMIT", {}}}).ok());
  EXPECT_EQ(Read(&cursor, "p1"), (std::vector<uint64_t>{2})) << "T1's event, after the cursor";
  auto all = ReadEvents(*reader_, 0, "p1", 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].lead_id, "from-t2");
  EXPECT_EQ((*all)[1].lead_id, "from-t1");
}

// The other order: T1 has taken its number and not committed. T2 cannot take a higher one
// (let alone commit it) until T1 has committed, so no stream can pass T1's number.
TEST_F(EventLogTest, AnAppendWaitsUntilTheBatchHoldingLowerNumbersCommits) {
  std::unique_ptr<Connection> t1 = Connect();
  std::unique_ptr<Connection> t2 = Connect();
  ASSERT_TRUE(t1->ExecScript("BEGIN").ok());
  ASSERT_TRUE(t1->ExecAll({AppendEventsQuery({Event("from-t1", "p1")})}).ok());  // Holds 1.
  ASSERT_TRUE(t2->ExecScript("BEGIN").ok());
  absl::StatusOr<std::vector<Result>> t2_append = absl::UnknownError("not run");
  absl::Notification t2_appended;
  std::thread t2_thread([&] {
    t2_append = t2->ExecAll({AppendEventsQuery({Event("from-t2", "p1")})});
    t2_appended.Notify();
  });
  WaitUntilBlocked(t2->backend_pid());
  uint64_t cursor = 0;
  EXPECT_EQ(Read(&cursor, "p1"), std::vector<uint64_t>{}) << "nothing is committed yet";
  EXPECT_FALSE(t2_appended.HasBeenNotified());
  ASSERT_TRUE(t1->ExecScript("COMMIT").ok());
  t2_thread.join();
  ASSERT_TRUE(t2_append.ok()) << t2_append.status();
  EXPECT_EQ(*AppendedHead((*t2_append)[0]), 2u);
  EXPECT_EQ(Read(&cursor, "p1"), (std::vector<uint64_t>{1})) << "T2 took 2, not committed";
  ASSERT_TRUE(t2->ExecScript("COMMIT").ok());
  EXPECT_EQ(Read(&cursor, "p1"), (std::vector<uint64_t>{2}));
}

TEST_F(EventLogTest, AWaitingAppendTakesTheNumbersOfABatchThatRolledBack) {
  std::unique_ptr<Connection> t1 = Connect();
  std::unique_ptr<Connection> t2 = Connect();
  ASSERT_TRUE(t1->ExecScript("BEGIN").ok());
  ASSERT_TRUE(t1->ExecAll({AppendEventsQuery({Event("lost", "p1"), Event("lost", "p1")})}).ok());
  ASSERT_TRUE(t2->ExecScript("BEGIN").ok());
  absl::StatusOr<std::vector<Result>> t2_append = absl::UnknownError("not run");
  std::thread t2_thread([&] {
    t2_append = t2->ExecAll({AppendEventsQuery({Event("kept", "p1")}), {"COMMIT", {}}});
  });
  WaitUntilBlocked(t2->backend_pid());
  ASSERT_TRUE(t1->ExecScript("ROLLBACK").ok());
  t2_thread.join();
  ASSERT_TRUE(t2_append.ok()) << t2_append.status();
  EXPECT_EQ(*AppendedHead((*t2_append)[0]), 1u);
  uint64_t cursor = 0;
  EXPECT_EQ(Read(&cursor), (std::vector<uint64_t>{1}));
}

// Real concurrency: writers on their own connections commit batches whose statements are
// spread out at random (so commits overtake each other's starts), some roll back, while
// streams read all along. Every read of the whole log must continue exactly where the last
// one stopped, and each provider's stream must end with exactly that provider's events.
TEST_F(EventLogTest, ConcurrentWritersAndStreamsNeverSeeAGapOrLoseAnEvent) {
  constexpr int kWriters = 6, kBatchesPerWriter = 120;
  const std::vector<std::string> providers = {"p1", "p2", "p3", ""};
  std::vector<std::unique_ptr<Connection>> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.push_back(Connect());
    ASSERT_NE(writers.back(), nullptr);
  }
  std::atomic<bool> writing{true};
  std::atomic<int> committed_events{0};

  struct Stream {
    std::string provider_id;  // "" reads every event.
    std::unique_ptr<Connection> conn;
    std::vector<uint64_t> received;
    std::string failure;
  };
  std::vector<Stream> streams;
  streams.reserve(providers.size());
  for (const std::string& p : providers) streams.push_back(Stream{p, Connect(), {}, ""});

  std::vector<std::thread> threads;
  threads.reserve(kWriters + providers.size());
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 random(w);
      Connection& conn = *writers[w];
      for (int b = 0; b < kBatchesPerWriter; ++b) {
        ASSERT_TRUE(conn.ExecScript("BEGIN").ok());
        ASSERT_TRUE(conn.Exec("UPDATE counters SET value = value + 1 WHERE name = $1",
                              {std::string(b % 2 ? "leads" : "submissions")})
                        .ok());
        absl::SleepFor(absl::Microseconds(random() % 2000));
        std::vector<LeadEvent> events;
        const int n = 1 + static_cast<int>(random() % 3);
        events.reserve(n);
        for (int i = 0; i < n; ++i) {
          events.push_back(
              Event(absl::StrCat("w", w, "-", b, "-", i), providers[random() % providers.size()]));
        }
        if (random() % 10 == 0) {
          ASSERT_TRUE(conn.ExecAll({AppendEventsQuery(events)}).ok());
          absl::SleepFor(absl::Microseconds(random() % 1000));
          ASSERT_TRUE(conn.ExecScript("ROLLBACK").ok());
          continue;
        }
        ASSERT_TRUE(conn.ExecAll({AppendEventsQuery(events), {"COMMIT", {}}}).ok());
        committed_events += n;
      }
    });
  }
  for (Stream& s : streams) {
    threads.emplace_back([&] {
      uint64_t cursor = 0;
      bool last_round = false;
      while (true) {
        last_round = !writing.load();
        auto events = ReadEvents(*s.conn, cursor, s.provider_id, 500);
        if (!events.ok()) {
          s.failure = std::string(events.status().message());
          return;
        }
        for (const LeadEvent& e : *events) {
          const bool in_order =
              s.provider_id.empty() ? e.sequence == cursor + 1 : e.sequence > cursor;
          if (!in_order && s.failure.empty()) {
            s.failure = absl::StrCat("read ", e.sequence, " after ", cursor);
          }
          cursor = e.sequence;
          s.received.push_back(e.sequence);
        }
        if (last_round && events->empty()) return;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  writing = false;
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();

  EXPECT_EQ(*HeadSequence(*reader_), static_cast<uint64_t>(committed_events.load()));
  for (const Stream& s : streams) {
    EXPECT_EQ(s.failure, "") << "stream of '" << s.provider_id << "'";
    auto expected = ReadEvents(*reader_, 0, s.provider_id, 1'000'000);
    ASSERT_TRUE(expected.ok());
    EXPECT_EQ(s.received, Sequences(*expected)) << "stream of '" << s.provider_id << "'";
  }
  EXPECT_EQ(streams.back().received.size(), static_cast<size_t>(committed_events.load()));
}

TEST_F(EventLogTest, NotificationsArriveInCommitOrderWithTheirProviders) {
  ASSERT_TRUE(reader_->ExecScript(absl::StrCat("LISTEN ", kEventsChannel)).ok());
  constexpr int kWriters = 4, kBatches = 50;
  std::vector<std::thread> threads;
  threads.reserve(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::unique_ptr<Connection> conn = Connect();
      ASSERT_NE(conn, nullptr);
      for (int b = 0; b < kBatches; ++b) {
        ASSERT_TRUE(
            AppendAndCommit(*conn, {Event("l", absl::StrCat("p", w)), Event("l", "")}).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<EventsNotification> received;
  const absl::Time deadline = absl::Now() + kDeadline;
  while (received.size() < size_t{kWriters} * kBatches && absl::Now() < deadline) {
    pollfd fd{reader_->socket(), POLLIN, 0};
    poll(&fd, 1, 1000);
    auto batch = reader_->TakeNotifications();
    ASSERT_TRUE(batch.ok()) << batch.status();
    for (const Notification& n : *batch) {
      std::optional<EventsNotification> parsed = ParseEventsNotification(n.payload);
      ASSERT_TRUE(parsed.has_value()) << n.payload;
      received.push_back(*parsed);
    }
  }
  ASSERT_EQ(received.size(), static_cast<size_t>(kWriters * kBatches));
  uint64_t head = 0;
  for (const EventsNotification& n : received) {
    EXPECT_EQ(n.first, head + 1);
    EXPECT_EQ(n.last, n.first + 1);
    ASSERT_TRUE(n.providers.has_value());
    ASSERT_EQ(n.providers->size(), 2u);
    EXPECT_EQ((*n.providers)[0].substr(0, 1), "p");
    EXPECT_EQ((*n.providers)[1], "");
    head = n.last;
  }
}

TEST_F(EventLogTest, ANotificationWithTooManyProvidersSaysSoInsteadOfListingThem) {
  ASSERT_TRUE(reader_->ExecScript(absl::StrCat("LISTEN ", kEventsChannel)).ok());
  std::vector<LeadEvent> events;
  events.reserve(400);
  for (int i = 0; i < 400; ++i) {
    events.push_back(Event("l", absl::StrCat("provider-with-a-long-id-", i)));
  }
  std::unique_ptr<Connection> writer = Connect();
  ASSERT_TRUE(AppendAndCommit(*writer, events).ok());
  std::vector<Notification> received;
  const absl::Time deadline = absl::Now() + kDeadline;
  while (received.empty() && absl::Now() < deadline) {
    pollfd fd{reader_->socket(), POLLIN, 0};
    poll(&fd, 1, 1000);
    auto batch = reader_->TakeNotifications();
    ASSERT_TRUE(batch.ok());
    received = *std::move(batch);
  }
  ASSERT_EQ(received.size(), 1u);
  std::optional<EventsNotification> parsed = ParseEventsNotification(received[0].payload);
  ASSERT_TRUE(parsed.has_value()) << received[0].payload;
  EXPECT_EQ(parsed->first, 1u);
  EXPECT_EQ(parsed->last, 400u);
  EXPECT_FALSE(parsed->providers.has_value());
}

TEST(EventsNotificationTest, OnlyWellFormedPayloadsParse) {
  std::optional<EventsNotification> one = ParseEventsNotification("7 9\np1\n\np2");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->first, 7u);
  EXPECT_EQ(one->last, 9u);
  EXPECT_EQ(*one->providers, (std::vector<std::string>{"p1", "", "p2"}));
  EXPECT_FALSE(ParseEventsNotification("7 9 *")->providers.has_value());
  for (const char* bad : {"", "7", "7 9", "9 7\np", "0 1\np", "x 9\np", "7 9 *\np", "7 9 +"}) {
    EXPECT_FALSE(ParseEventsNotification(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace intake::store::postgres
