// Intake's promises across replicas, proven at the SQL level on the real schema: several
// GroupCommitWriters (one per replica) on one database, driven by a prototype of the intake
// path's concurrency control (request_id, dedup under an advisory key, rotation under the
// routing lock). Phase 2's PostgreSQL Store::Submit keeps exactly these mechanisms; its
// domain rules (validation, the real routing policy, sealing) are not what is tested here.
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/store/postgres/event_log.h"
#include "server/store/postgres/group_commit_writer.h"
#include "server/store/postgres/locks.h"
#include "server/store/postgres/migrations.h"
#include "tests/testing/pg_test.h"

namespace intake::store::postgres {
namespace {

constexpr absl::Duration kDeadline = absl::Seconds(60);
constexpr absl::Duration kDedupWindow = absl::Hours(24);

struct Submission {
  std::string request_id;  // Empty: none.
  std::string phone;       // Stands for the keyed phone hash.
  std::string listing_id;  // Empty: the general helpline, routed by rotation.
};

struct Outcome {
  std::string submission_id;
  std::string lead_id;
  bool merged = false;
  bool replayed = false;
};

// One replica's intake path: its writer, its clock, and which locks it takes (the controls
// turn them off to show what they prevent).
class PrototypeReplica {
 public:
  struct Options {
    absl::Duration clock_skew = absl::ZeroDuration();
    bool dedup_lock = true;
    bool routing_lock = true;
    // Runs inside the write once it has written everything, before its batch commits.
    std::function<void()> before_commit = nullptr;
  };

  PrototypeReplica(std::string name, std::unique_ptr<GroupCommitWriter> writer, Options options)
      : name_(std::move(name)), writer_(std::move(writer)), options_(std::move(options)) {}

  absl::StatusOr<Outcome> Submit(const Submission& s) {
    Outcome outcome;
    std::vector<int64_t> keys;
    if (options_.dedup_lock) keys.push_back(DedupLockKey(s.phone, s.listing_id));
    absl::Status status = writer_->Run(
        [&](WriteTxn& txn) -> absl::Status {
          for (int attempt = 0;; ++attempt) {
            outcome = Outcome();
            absl::Status applied = Apply(txn, s, outcome);
            // Lost a race on request_id to another replica: read its result instead.
            if (applied.code() != absl::StatusCode::kAlreadyExists || attempt > 0) {
              return applied;
            }
            txn.Restart();
          }
        },
        keys);
    if (!status.ok()) return status;
    return outcome;
  }

 private:
  absl::Status Apply(WriteTxn& txn, const Submission& s, Outcome& out) {
    const int64_t now = absl::ToUnixMicros(absl::Now() + options_.clock_skew);
    const std::string payload = absl::StrCat(s.phone, "/", s.listing_id);
    if (!s.request_id.empty()) {
      absl::StatusOr<Result> seen = txn.Exec(
          "SELECT submission_id, payload_sha256, coalesce(lead_id, '') FROM submissions "
          "WHERE request_id = $1",
          {s.request_id});
      if (!seen.ok()) return seen.status();
      if (seen->rows() == 1) {
        if (seen->Bytes(0, 1) != payload) {
          return absl::InvalidArgumentError("request_id was already used for another submission");
        }
        out = Outcome{std::string(seen->Text(0, 0)), std::string(seen->Text(0, 2)), false, true};
        return absl::OkStatus();
      }
    }
    out.submission_id = NewId("sub");
    absl::StatusOr<Result> duplicate = txn.Exec(
        "SELECT lead_id, coalesce(provider_id, '') FROM leads WHERE phone_hash = $1 AND "
        "target = $2 AND last_submit_time_us >= $3 ORDER BY last_submit_time_us DESC LIMIT 1",
        {Param::Bytes(s.phone), s.listing_id, now - absl::ToInt64Microseconds(kDedupWindow)});
    if (!duplicate.ok()) return duplicate.status();
    if (duplicate->rows() == 1) {
      out.lead_id = std::string(duplicate->Text(0, 0));
      out.merged = true;
      absl::Status merged =
          txn.Exec(
                 "UPDATE leads SET submission_count = submission_count + 1, "
                 "last_submit_time_us = greatest(last_submit_time_us, $1) WHERE lead_id = $2",
                 {now, out.lead_id})
              .status();
      if (!merged.ok()) return merged;
      txn.AppendEvent(LeadEvent{0, LeadEventType::kResubmitted, out.lead_id,
                                std::string(duplicate->Text(0, 1)), absl::FromUnixMicros(now)});
    } else {
      absl::StatusOr<std::string> provider = Route(txn, s, now);
      if (!provider.ok()) return provider.status();
      out.lead_id = NewId("lead");
      absl::StatusOr<std::vector<Result>> inserted = txn.ExecAll({
          // Read first: a plain INSERT ... ON CONFLICT of a text another replica has inserted
          // and not committed yet waits for that replica's whole batch. Every lead of one
          // form shows the same text, so only its very first insert may contend.
          {"INSERT INTO consent_texts (sha256, text) SELECT $1, 'shown' WHERE NOT EXISTS "
           "(SELECT 1 FROM consent_texts WHERE sha256 = $1) ON CONFLICT DO NOTHING",
           {Param::Bytes("consent")}},
          {"INSERT INTO leads (lead_id, state, phone_hash, target, provider_id, routing_reason, "
           "routing_detail, region, form_id, page_url, utm_source, utm_medium, utm_campaign, "
           "consent_sha256, advertisers, consent_time_us, create_time_us, last_submit_time_us, "
           "submission_count) VALUES ($1, 1, $2, $3, $4, 1, '', 'FL', '', '', '', '', '', $5, "
           "'', $6, $6, $6, 1)",
           {out.lead_id, Param::Bytes(s.phone), s.listing_id, *provider, Param::Bytes("consent"),
            now}},
      });
      if (!inserted.ok()) return inserted.status();
      txn.AppendEvent(LeadEvent{0, LeadEventType::kAssigned, out.lead_id, *provider,
                                absl::FromUnixMicros(now)});
    }
    absl::Status recorded =
        txn.Exec(
               "INSERT INTO submissions (submission_id, request_id, payload_sha256, outcome, "
               "lead_id, create_time_us) VALUES ($1, nullif($2, ''), $3, 1, $4, $5)",
               {out.submission_id, s.request_id, Param::Bytes(payload), out.lead_id, now})
            .status();
    if (recorded.ok() && options_.before_commit) options_.before_commit();
    return recorded;
  }

  // The listing's owner, or the ACTIVE provider assigned a lead least recently (ties by id).
  absl::StatusOr<std::string> Route(WriteTxn& txn, const Submission& s, int64_t now) {
    if (!s.listing_id.empty()) {
      absl::StatusOr<Result> owner =
          txn.Exec("SELECT provider_id FROM listings WHERE listing_id = $1", {s.listing_id});
      if (!owner.ok()) return owner.status();
      if (owner->rows() != 1) return absl::NotFoundError("listing not found");
      return std::string(owner->Text(0, 0));
    }
    if (options_.routing_lock) {
      absl::Status locked =
          txn.Exec("SELECT pg_advisory_xact_lock($1, $2)", {kLockClass, kRoutingLock}).status();
      if (!locked.ok()) return locked;
    }
    absl::StatusOr<Result> least = txn.Exec(
        "SELECT provider_id FROM providers WHERE state = 1 "
        "ORDER BY last_assigned_us NULLS FIRST, provider_id LIMIT 1");
    if (!least.ok()) return least.status();
    const std::string provider(least->Text(0, 0));
    // Under the routing lock, stamps only grow, whatever this replica's clock says: the
    // order of assignments is the order the lock was taken in.
    absl::Status stamped =
        txn.Exec(
               "UPDATE providers SET last_assigned_us = greatest($1::bigint, (SELECT "
               "coalesce(max(last_assigned_us), 0) + 1 FROM providers)) WHERE provider_id = $2",
               {now, provider})
            .status();
    if (!stamped.ok()) return stamped;
    return provider;
  }

  std::string NewId(absl::string_view kind) { return absl::StrCat(kind, "-", name_, "-", ++ids_); }

  const std::string name_;
  const std::unique_ptr<GroupCommitWriter> writer_;
  const Options options_;
  std::atomic<int> ids_{0};
};

class ReplicasTest : public ::intake::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    db_ = Connect();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(Migrate(*db_).ok());
    ASSERT_TRUE(
        db_->ExecScript("INSERT INTO providers (provider_id, display_name, state, regions, "
                        "daily_cap, time_zone, hours, create_time_us, update_time_us) VALUES "
                        "('p1', 'P1', 1, '', 0, 'America/New_York', '', 0, 0), "
                        "('p2', 'P2', 1, '', 0, 'America/New_York', '', 0, 0), "
                        "('p3', 'P3', 1, '', 0, 'America/New_York', '', 0, 0), "
                        "('p4', 'P4', 1, '', 0, 'America/New_York', '', 0, 0); "
                        "INSERT INTO listings VALUES ('l1', 'p1', 'L1', 'FL', 0); "
                        "INSERT INTO consent_texts VALUES ('consent', 'shown')")
            .ok());
  }

  std::unique_ptr<Connection> Connect() {
    auto conn = Connection::Open(uri_, "replicas_test");
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? *std::move(conn) : nullptr;
  }

  std::unique_ptr<PrototypeReplica> StartReplica(const std::string& name,
                                                 PrototypeReplica::Options options = {}) {
    GroupCommitWriter::Options writer_options;
    writer_options.conninfo = uri_;
    auto writer = GroupCommitWriter::Start(std::move(writer_options));
    EXPECT_TRUE(writer.ok()) << writer.status();
    if (!writer.ok()) return nullptr;
    return std::make_unique<PrototypeReplica>(name, *std::move(writer), std::move(options));
  }

  int64_t QueryInt(const std::string& sql) {
    auto result = db_->Exec(sql);
    EXPECT_TRUE(result.ok()) << sql << ": " << result.status();
    return result.ok() && result->rows() == 1 ? result->Int64(0, 0) : -1;
  }

  // Waits until some writer session of this database waits for a lock of `locktype`.
  void WaitForAWriterBlockedOn(const std::string& locktype) {
    const absl::Time deadline = absl::Now() + kDeadline;
    while (absl::Now() < deadline) {
      if (QueryInt(absl::StrCat("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING "
                                "(pid) WHERE NOT l.granted AND l.locktype = '",
                                locktype,
                                "' AND a.application_name = 'intaked-writer' AND a.datname = "
                                "current_database()")) > 0) {
        return;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    FAIL() << "no writer waited for a lock of type " << locktype;
  }

  std::unique_ptr<Connection> db_;
};

// Two replicas get the same phone at the same instant: replica A has written its new lead
// (not committed) when replica B starts its dedup check. With the dedup key B waits for A's
// commit and then merges; the control, without it, makes a second lead.
TEST_F(ReplicasTest, TwoReplicasReceivingOnePhoneAtOnceMakeOneLead) {
  absl::Notification a_wrote, release_a;
  std::unique_ptr<PrototypeReplica> a = StartReplica("a", {.before_commit = [&] {
                                                       a_wrote.Notify();
                                                       release_a.WaitForNotification();
                                                     }});
  std::unique_ptr<PrototypeReplica> b = StartReplica("b");
  absl::StatusOr<Outcome> from_a = absl::UnknownError("not run");
  std::thread a_thread([&] { from_a = a->Submit({"", "+13055550123", ""}); });
  a_wrote.WaitForNotification();
  absl::StatusOr<Outcome> from_b = absl::UnknownError("not run");
  std::thread b_thread([&] { from_b = b->Submit({"", "+13055550123", ""}); });
  WaitForAWriterBlockedOn("advisory");
  release_a.Notify();
  a_thread.join();
  b_thread.join();
  ASSERT_TRUE(from_a.ok()) << from_a.status();
  ASSERT_TRUE(from_b.ok()) << from_b.status();
  EXPECT_FALSE(from_a->merged);
  EXPECT_TRUE(from_b->merged);
  EXPECT_EQ(from_b->lead_id, from_a->lead_id);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM leads"), 1);
  EXPECT_EQ(QueryInt("SELECT submission_count FROM leads"), 2);
  auto events = ReadEvents(*db_, 0, "", 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].type, LeadEventType::kAssigned);
  EXPECT_EQ((*events)[1].type, LeadEventType::kResubmitted);
}

TEST_F(ReplicasTest, ControlWithoutTheDedupKeyTwoReplicasMakeTwoLeads) {
  absl::Notification a_wrote, release_a;
  std::unique_ptr<PrototypeReplica> a =
      StartReplica("a", {.dedup_lock = false, .before_commit = [&] {
                           a_wrote.Notify();
                           release_a.WaitForNotification();
                         }});
  std::unique_ptr<PrototypeReplica> b = StartReplica("b", {.dedup_lock = false});
  absl::StatusOr<Outcome> from_a = absl::UnknownError("not run");
  std::thread a_thread([&] { from_a = a->Submit({"", "+13055550123", "l1"}); });
  a_wrote.WaitForNotification();
  absl::StatusOr<Outcome> from_b = b->Submit({"", "+13055550123", "l1"});  // Does not wait.
  release_a.Notify();
  a_thread.join();
  ASSERT_TRUE(from_a.ok()) << from_a.status();
  ASSERT_TRUE(from_b.ok()) << from_b.status();
  EXPECT_EQ(QueryInt("SELECT count(*) FROM leads"), 2) << "the race the dedup key closes";
}

TEST_F(ReplicasTest, FiftySimultaneousDuplicatesAcrossThreeReplicasMakeOneLead) {
  std::vector<std::unique_ptr<PrototypeReplica>> replicas;
  for (const char* name : {"a", "b", "c"}) replicas.push_back(StartReplica(name));
  // The 50 duplicates of one phone, amid duplicates of 10 other phones (5 each), so that
  // batches hold several dedup keys and replicas take overlapping sets of them.
  std::vector<Submission> submissions;
  submissions.reserve(100);
  for (int i = 0; i < 50; ++i) submissions.push_back({"", "+13055550100", ""});
  for (int p = 0; p < 10; ++p) {
    for (int i = 0; i < 5; ++i) submissions.push_back({"", absl::StrCat("+1305555020", p), ""});
  }
  constexpr int kThreads = 25;
  absl::Barrier start(kThreads);
  std::vector<absl::Status> failures(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.Block();
      for (size_t i = t; i < submissions.size(); i += kThreads) {
        absl::StatusOr<Outcome> o = replicas[i % replicas.size()]->Submit(submissions[i]);
        if (!o.ok()) failures[t] = o.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const absl::Status& f : failures) EXPECT_TRUE(f.ok()) << f;
  EXPECT_EQ(QueryInt("SELECT count(*) FROM leads"), 11);
  EXPECT_EQ(QueryInt("SELECT submission_count FROM leads WHERE phone_hash = "
                     "convert_to('+13055550100', 'UTF8')"),
            50);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM leads WHERE submission_count = 5"), 10);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM lead_events WHERE type = 1"), 11);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM lead_events WHERE type = 2"), 89);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM submissions"), 100);
}

TEST_F(ReplicasTest, OneRequestIdOnSeveralReplicasIsStoredOnceAndRepliedAlike) {
  std::vector<std::unique_ptr<PrototypeReplica>> replicas;
  for (const char* name : {"a", "b", "c"}) replicas.push_back(StartReplica(name));
  constexpr int kRequests = 10;
  absl::Barrier start(kRequests * 3);
  std::vector<std::vector<absl::StatusOr<Outcome>>> outcomes(
      kRequests, std::vector<absl::StatusOr<Outcome>>(3, absl::UnknownError("not run")));
  std::vector<std::thread> threads;
  threads.reserve(size_t{kRequests} * 3);
  for (int r = 0; r < kRequests; ++r) {
    for (int replica = 0; replica < 3; ++replica) {
      threads.emplace_back([&, r, replica] {
        start.Block();
        outcomes[r][replica] = replicas[replica]->Submit(
            {absl::StrCat("req-", r), absl::StrCat("+1305555030", r), ""});
      });
    }
  }
  for (std::thread& t : threads) t.join();
  for (int r = 0; r < kRequests; ++r) {
    for (int replica = 0; replica < 3; ++replica) {
      ASSERT_TRUE(outcomes[r][replica].ok()) << outcomes[r][replica].status();
      EXPECT_EQ(outcomes[r][replica]->submission_id, outcomes[r][0]->submission_id);
    }
  }
  EXPECT_EQ(QueryInt("SELECT count(*) FROM submissions"), kRequests);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM leads"), kRequests);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM lead_events"), kRequests);
}

// One request_id, two different payloads (so two different dedup keys, and a listing: no
// lock in common): B's
// insert of the request_id waits on A's uncommitted row, then loses the unique key; it starts
// over, finds A's submission, and refuses the reuse.
TEST_F(ReplicasTest, ARequestIdReusedWithAnotherPayloadOnAnotherReplicaIsRefused) {
  absl::Notification a_wrote, release_a;
  std::unique_ptr<PrototypeReplica> a = StartReplica("a", {.before_commit = [&] {
                                                       a_wrote.Notify();
                                                       release_a.WaitForNotification();
                                                     }});
  std::unique_ptr<PrototypeReplica> b = StartReplica("b");
  absl::StatusOr<Outcome> from_a = absl::UnknownError("not run");
  std::thread a_thread([&] { from_a = a->Submit({"req", "+13055550401", "l1"}); });
  a_wrote.WaitForNotification();
  absl::StatusOr<Outcome> from_b = absl::UnknownError("not run");
  std::thread b_thread([&] { from_b = b->Submit({"req", "+13055550402", "l1"}); });
  WaitForAWriterBlockedOn("transactionid");  // B's insert, behind A's uncommitted row.
  release_a.Notify();
  a_thread.join();
  b_thread.join();
  ASSERT_TRUE(from_a.ok()) << from_a.status();
  EXPECT_EQ(from_b.status().code(), absl::StatusCode::kInvalidArgument) << from_b.status();
  EXPECT_EQ(QueryInt("SELECT count(*) FROM submissions"), 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM leads"), 1) << "B's lead went with its restart";
}

TEST_F(ReplicasTest, RotationStaysFairWhenReplicasWithSkewedClocksRouteAtOnce) {
  std::vector<std::unique_ptr<PrototypeReplica>> replicas;
  replicas.push_back(StartReplica("a", {.clock_skew = -absl::Hours(1)}));
  replicas.push_back(StartReplica("b"));
  replicas.push_back(StartReplica("c", {.clock_skew = absl::Hours(1)}));
  constexpr int kLeads = 120, kThreads = 12;
  absl::Barrier start(kThreads);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.Block();
      for (int i = t; i < kLeads; i += kThreads) {
        absl::StatusOr<Outcome> o =
            replicas[i % replicas.size()]->Submit({"", absl::StrCat("+1305556", 1000 + i), ""});
        EXPECT_TRUE(o.ok()) << o.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto events = ReadEvents(*db_, 0, "", kLeads + 1);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), static_cast<size_t>(kLeads));
  // Routing order is commit order (the lock is held to COMMIT), which is sequence order.
  std::map<std::string, int> per_provider;
  for (size_t i = 0; i < events->size(); ++i) {
    EXPECT_EQ((*events)[i].provider_id, absl::StrCat("p", 1 + i % 4)) << "assignment " << i;
    ++per_provider[(*events)[i].provider_id];
  }
  for (const auto& [provider, n] : per_provider) EXPECT_EQ(n, kLeads / 4) << provider;
}

TEST_F(ReplicasTest, ControlWithoutTheRoutingLockTwoReplicasPickTheSameProvider) {
  absl::Notification a_routed, release_a;
  std::unique_ptr<PrototypeReplica> a =
      StartReplica("a", {.routing_lock = false, .before_commit = [&] {
                           a_routed.Notify();
                           release_a.WaitForNotification();
                         }});
  std::unique_ptr<PrototypeReplica> b = StartReplica("b", {.routing_lock = false});
  absl::StatusOr<Outcome> from_a = absl::UnknownError("not run");
  std::thread a_thread([&] { from_a = a->Submit({"", "+13055550501", ""}); });
  a_routed.WaitForNotification();
  // B routes while A's stamp of p1 is uncommitted: it picks p1 too, waits only to stamp it
  // (A's row lock), and stamps it again once A commits.
  absl::StatusOr<Outcome> from_b = absl::UnknownError("not run");
  std::thread b_thread([&] { from_b = b->Submit({"", "+13055550502", ""}); });
  WaitForAWriterBlockedOn("transactionid");
  release_a.Notify();
  a_thread.join();
  b_thread.join();
  ASSERT_TRUE(from_a.ok()) << from_a.status();
  ASSERT_TRUE(from_b.ok()) << from_b.status();
  EXPECT_EQ(QueryInt("SELECT count(DISTINCT provider_id) FROM leads"), 1)
      << "both leads went to p1: the unfairness the routing lock prevents";
}

}  // namespace
}  // namespace intake::store::postgres
