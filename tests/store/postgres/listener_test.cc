#include "server/store/postgres/listener.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/store/postgres/group_commit_writer.h"
#include "server/store/postgres/migrations.h"
#include "tests/testing/pg_test.h"

namespace intake::store::postgres {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(60);
// Long enough that only a test that wants the poll ever sees it.
constexpr absl::Duration kNoPoll = absl::Hours(1);

LeadEvent Event(const std::string& provider_id) {
  return LeadEvent{0, LeadEventType::kAssigned, "lead", provider_id, absl::Now()};
}

std::string Hash(char c) { return std::string(32, c); }

class ListenerTest : public ::intake::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    db_ = Connect();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(Migrate(*db_).ok());
    ASSERT_TRUE(db_->ExecScript("INSERT INTO providers (provider_id, display_name, state, "
                                "regions, daily_cap, time_zone, hours, create_time_us, "
                                "update_time_us) VALUES ('p1', 'P1', 1, '', 0, 'UTC', '', 0, 0)")
                    .ok());
    GroupCommitWriter::Options writer;
    writer.conninfo = uri_;
    auto started = GroupCommitWriter::Start(std::move(writer));
    ASSERT_TRUE(started.ok()) << started.status();
    writer_ = *std::move(started);
  }

  void TearDown() override { listener_.reset(); }

  std::unique_ptr<Connection> Connect() {
    auto conn = Connection::Open(uri_, "listener_test");
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  void StartListener(absl::Duration poll_interval = kNoPoll) {
    NotificationListener::Options options;
    options.conninfo = uri_;
    options.poll_interval = poll_interval;
    options.reconnect_delay = absl::Milliseconds(50);
    options.on_events = [this](uint64_t head, const std::vector<std::string>& providers) {
      absl::MutexLock lock(&mu_);
      events_.push_back({head, providers});
    };
    options.on_token_change = [this](TokenChange change, const std::string& hash) {
      absl::MutexLock lock(&mu_);
      tokens_.push_back({change, hash});
    };
    auto listener = NotificationListener::Start(std::move(options));
    ASSERT_TRUE(listener.ok()) << listener.status();
    listener_ = *std::move(listener);
  }

  // Commits `events` through the writer (as another replica would), returning once done.
  void Commit(std::vector<LeadEvent> events) {
    absl::Status s = writer_->Run([&](WriteTxn& txn) {
      for (LeadEvent& e : events) txn.AppendEvent(std::move(e));
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
  }

  // Waits until some on_events call reported `head`; returns every call so far.
  struct EventsCall {
    uint64_t head;
    std::vector<std::string> providers;
  };
  std::vector<EventsCall> WaitForHead(uint64_t head) {
    absl::MutexLock lock(&mu_);
    const auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !events_.empty() && events_.back().head >= head;
    };
    EXPECT_TRUE(mu_.AwaitWithTimeout(absl::Condition(&reached), kDeadline))
        << "head " << head << " was never reported";
    return events_;
  }

  struct TokenCall {
    TokenChange change;
    std::string hash;
  };
  std::vector<TokenCall> WaitForTokenCalls(size_t n) {
    absl::MutexLock lock(&mu_);
    const auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return tokens_.size() >= n; };
    EXPECT_TRUE(mu_.AwaitWithTimeout(absl::Condition(&reached), kDeadline));
    return tokens_;
  }

  absl::Mutex mu_;
  std::vector<EventsCall> events_ ABSL_GUARDED_BY(mu_);
  std::vector<TokenCall> tokens_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Connection> db_;
  std::unique_ptr<GroupCommitWriter> writer_;
  std::unique_ptr<NotificationListener> listener_;
};

TEST_F(ListenerTest, StartsFromTheCurrentHeadWithoutReportingIt) {
  Commit({Event("p1"), Event("p1")});
  StartListener();
  EXPECT_EQ(listener_->head(), 2u);
  Commit({Event("p1")});
  std::vector<EventsCall> calls = WaitForHead(3);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].providers, (std::vector<std::string>{"p1"}));
}

TEST_F(ListenerTest, ReportsEveryCommitOfAnyWriterInOrderWithItsProviders) {
  StartListener();
  std::unique_ptr<GroupCommitWriter> other;
  {
    GroupCommitWriter::Options options;
    options.conninfo = uri_;
    auto started = GroupCommitWriter::Start(std::move(options));
    ASSERT_TRUE(started.ok());
    other = *std::move(started);
  }
  constexpr int kCommits = 50;
  std::vector<std::thread> replicas;
  replicas.reserve(2);
  for (GroupCommitWriter* w : {writer_.get(), other.get()}) {
    replicas.emplace_back([w] {
      for (int i = 0; i < kCommits; ++i) {
        absl::Status s = w->Run([i](WriteTxn& txn) {
          txn.AppendEvent(Event(i % 2 ? "p1" : ""));
          return absl::OkStatus();
        });
        EXPECT_TRUE(s.ok()) << s;
      }
    });
  }
  for (std::thread& t : replicas) t.join();
  std::vector<EventsCall> calls = WaitForHead(uint64_t{2} * kCommits);
  uint64_t previous = 0;
  for (const EventsCall& c : calls) {
    EXPECT_GT(c.head, previous) << "heads only grow";
    previous = c.head;
    EXPECT_FALSE(c.providers.empty());
  }
  EXPECT_EQ(calls.back().head, 2u * kCommits);
}

TEST_F(ListenerTest, ACommitThatNotifiedNoOneIsFoundByThePoll) {
  StartListener(/*poll_interval=*/absl::Milliseconds(50));
  // Written by hand, without the NOTIFY: as if the notification had been lost.
  ASSERT_TRUE(db_->ExecScript("BEGIN; UPDATE lead_event_head SET last_sequence = 1; INSERT INTO "
                              "lead_events VALUES (1, 'lead', 'p1', 1, 0); COMMIT")
                  .ok());
  std::vector<EventsCall> calls = WaitForHead(1);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].providers, (std::vector<std::string>{"p1"}));
}

TEST_F(ListenerTest, ProvidersTooManyForTheNotificationAreReadFromTheLog) {
  StartListener();
  std::vector<LeadEvent> events;
  events.reserve(400);
  for (int i = 0; i < 400; ++i) {
    events.push_back(Event(absl::StrCat("provider-with-a-long-id-", i)));
  }
  Commit(events);
  std::vector<EventsCall> calls = WaitForHead(400);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].providers.size(), 400u);
}

TEST_F(ListenerTest, AfterLosingItsConnectionItReconnectsAndReportsWhatItMissed) {
  StartListener();
  ASSERT_TRUE(db_->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                        "application_name = 'intaked-listener' AND datname = current_database()")
                  .ok());
  Commit({Event("p1")});  // Perhaps while the listener is away: the resync reports it.
  Commit({Event("")});
  std::vector<EventsCall> calls = WaitForHead(2);
  EXPECT_EQ(calls.back().head, 2u);
  // And it listens again.
  Commit({Event("p1")});
  calls = WaitForHead(3);
  EXPECT_EQ(calls.back().head, 3u);
}

TEST_F(ListenerTest, TokenChangesThroughAnyReplicaAreReported) {
  StartListener();
  const std::string hash = Hash('a');
  ASSERT_TRUE(writer_
                  ->Run([&](WriteTxn& txn) {
                    return txn
                        .ExecAll({{"INSERT INTO provider_tokens VALUES ('tok-a', 'p1', $1, 0)",
                                   {Param::Bytes(hash)}},
                                  NotifyTokenChangeQuery(TokenChange::kIssued, hash)})
                        .status();
                  })
                  .ok());
  ASSERT_TRUE(writer_
                  ->Run([&](WriteTxn& txn) {
                    return txn
                        .ExecAll({{"UPDATE provider_tokens SET revoke_time_us = 1", {}},
                                  NotifyTokenChangeQuery(TokenChange::kRevoked, hash)})
                        .status();
                  })
                  .ok());
  std::vector<TokenCall> calls = WaitForTokenCalls(2);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].change, TokenChange::kIssued);
  EXPECT_EQ(calls[0].hash, hash);
  EXPECT_EQ(calls[1].change, TokenChange::kRevoked);
  EXPECT_EQ(calls[1].hash, hash);
}

TEST_F(ListenerTest, TokenChangesThatNotifiedNoOneAreFoundByThePoll) {
  ASSERT_TRUE(db_->Exec("INSERT INTO provider_tokens VALUES ('tok-a', 'p1', $1, 0)",
                        {Param::Bytes(Hash('a'))})
                  .ok());
  StartListener(/*poll_interval=*/absl::Milliseconds(50));
  ASSERT_TRUE(db_->Exec("INSERT INTO provider_tokens VALUES ('tok-b', 'p1', $1, 0)",
                        {Param::Bytes(Hash('b'))})
                  .ok());
  ASSERT_TRUE(db_->ExecScript("UPDATE provider_tokens SET revoke_time_us = 1 WHERE token_id = "
                              "'tok-a'")
                  .ok());
  std::vector<TokenCall> calls = WaitForTokenCalls(2);
  ASSERT_EQ(calls.size(), 2u);
  bool revoked_a = false, issued_b = false;
  for (const TokenCall& c : calls) {
    revoked_a |= c.change == TokenChange::kRevoked && c.hash == Hash('a');
    issued_b |= c.change == TokenChange::kIssued && c.hash == Hash('b');
  }
  EXPECT_TRUE(revoked_a);
  EXPECT_TRUE(issued_b);
}

TEST_F(ListenerTest, TheTokenNotificationCarriesItsHashNeverMoreThanThat) {
  const std::string hash(32, '\x01');
  Query q = NotifyTokenChangeQuery(TokenChange::kRevoked, hash);
  ASSERT_EQ(q.params.size(), 2u);
  EXPECT_EQ(q.params[0].value(), kTokensChannel);
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "01";
  EXPECT_EQ(q.params[1].value(), "revoked " + hex);
}

}  // namespace
}  // namespace intake::store::postgres
