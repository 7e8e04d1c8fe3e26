// Measures the PostgreSQL backend's write path on a private server (tests/testing/pg_server.h)
// and prints one line per measurement:
// - the server's round trip (SELECT 1 on one connection): the unit every statement pays;
// - group commit: one replica, N concurrent submitters each waiting for its own write;
// - the event log's cost: 1 to 3 replicas sharing the database, each write a lead with its
//   ASSIGNED event (numbered at commit under the head row), then the same writes without
//   events, which no head row serialises;
// - wake-ups across replicas: leads submitted at a fixed rate on replica A, reported by
//   replica B's listener: latency from A's reply (and from the submit) to B's wake-up.
// The cluster is on tmpfs unless --disk (then TMPDIR, with the disk's fdatasync floor).
//
// Usage: pg_writer_bench [--seconds=S] [--disk]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/store/postgres/connection.h"
#include "server/store/postgres/group_commit_writer.h"
#include "server/store/postgres/listener.h"
#include "server/store/postgres/migrations.h"
#include "tests/testing/pg_server.h"

namespace intake::store::postgres {
namespace {

struct Latencies {
  std::vector<absl::Duration> samples;
  void Add(absl::Duration d) { samples.push_back(d); }
  void Merge(const Latencies& other) {
    samples.insert(samples.end(), other.samples.begin(), other.samples.end());
  }
  // "p50 ... p99 ..." in milliseconds.
  std::string Summary() {
    if (samples.empty()) return "no samples";
    std::sort(samples.begin(), samples.end());
    const auto at = [&](double q) {
      return absl::ToDoubleMilliseconds(
          samples[static_cast<size_t>(q * static_cast<double>(samples.size() - 1))]);
    };
    return absl::StrFormat("p50 %.2f ms  p99 %.2f ms", at(0.5), at(0.99));
  }
};

void Die(const absl::Status& status) {
  std::fprintf(stderr, "pg_writer_bench: %s\n", status.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Check(absl::StatusOr<T> value) {
  if (!value.ok()) Die(value.status());
  return *std::move(value);
}

// A lead as the intake path writes it (a sealed blob the size of a real one, its submission
// row), with its ASSIGNED event if `events`.
absl::Status WriteLead(WriteTxn& txn, const std::string& id, bool events) {
  const int64_t now = absl::ToUnixMicros(absl::Now());
  const std::string sealed(240, 'x');
  absl::Status s =
      txn.ExecAll(
             {{"INSERT INTO leads (lead_id, state, phone_hash, target, provider_id, "
               "routing_reason, routing_detail, region, sealed, form_id, page_url, utm_source, "
               "utm_medium, utm_campaign, consent_sha256, advertisers, consent_time_us, "
               "create_time_us, last_submit_time_us, submission_count) VALUES ($1, 1, $2, '', "
               "'p1', 2, '', 'FL', $3, 'form', 'https://example.org/', '', '', '', 'consent', "
               "'', $4, $4, $4, 1)",
               {id, Param::Bytes(id), Param::Bytes(sealed), now}},
              {"INSERT INTO submissions (submission_id, request_id, payload_sha256, outcome, "
               "lead_id, create_time_us) VALUES ($1, $1, $2, 1, $1, $3)",
               {id, Param::Bytes(id), now}}})
          .status();
  if (s.ok() && events) {
    txn.AppendEvent(LeadEvent{0, LeadEventType::kAssigned, id, "p1", absl::FromUnixMicros(now)});
  }
  return s;
}

class Bench {
 public:
  Bench(testing::PgServer& server, absl::Duration duration)
      : server_(server), duration_(duration) {}

  // A fresh migrated database with one provider; returns its URI.
  std::string NewDatabase() {
    std::string uri = server_.Uri(Check(server_.CreateDatabase()));
    std::unique_ptr<Connection> conn = Check(Connection::Open(uri, "bench"));
    Check(Migrate(*conn));
    if (absl::Status s = conn->ExecScript(
            "INSERT INTO providers (provider_id, display_name, state, regions, daily_cap, "
            "time_zone, hours, create_time_us, update_time_us) VALUES ('p1', 'P1', 1, '', 0, "
            "'UTC', '', 0, 0); INSERT INTO consent_texts VALUES ('consent', 'shown')");
        !s.ok()) {
      Die(s);
    }
    return uri;
  }

  void RoundTrip() {
    std::unique_ptr<Connection> conn = Check(Connection::Open(NewDatabase(), "bench"));
    Latencies latencies;
    int n = 0;
    const absl::Time end = absl::Now() + duration_;
    while (absl::Now() < end) {
      const absl::Time start = absl::Now();
      Check(conn->Exec("SELECT 1"));
      latencies.Add(absl::Now() - start);
      ++n;
    }
    std::printf("round trip (SELECT 1, one connection): %.0f/s  %s\n",
                n / absl::ToDoubleSeconds(duration_), latencies.Summary().c_str());
  }

  // `replicas` writers on one database, `submitters` threads in all, spread over them.
  void Writers(int replicas, int submitters, bool events) {
    const std::string uri = NewDatabase();
    std::vector<std::unique_ptr<GroupCommitWriter>> writers;
    std::atomic<int64_t> commits{0};
    for (int r = 0; r < replicas; ++r) {
      GroupCommitWriter::Options options;
      options.conninfo = uri;
      options.after_commit = [&commits](uint64_t, const std::vector<std::string>&) { ++commits; };
      writers.push_back(Check(GroupCommitWriter::Start(std::move(options))));
    }
    std::atomic<int64_t> writes{0};
    std::vector<Latencies> latencies(submitters);
    std::vector<std::thread> threads;
    threads.reserve(submitters);
    const absl::Time end = absl::Now() + duration_;
    for (int t = 0; t < submitters; ++t) {
      threads.emplace_back([&, t] {
        GroupCommitWriter& writer = *writers[t % replicas];
        for (int i = 0; absl::Now() < end; ++i) {
          const std::string id = absl::StrCat("lead-", t, "-", i);
          const absl::Time start = absl::Now();
          absl::Status s = writer.Run([&](WriteTxn& txn) { return WriteLead(txn, id, events); });
          if (!s.ok()) Die(s);
          latencies[t].Add(absl::Now() - start);
          ++writes;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    Latencies all;
    for (const Latencies& l : latencies) all.Merge(l);
    const double per_second = static_cast<double>(writes.load()) / absl::ToDoubleSeconds(duration_);
    std::printf("%d replica(s), %2d submitters, %-9s %7.0f writes/s  %s", replicas, submitters,
                events ? "events:" : "no events:", per_second, all.Summary().c_str());
    if (events) {
      std::printf("  %.1f writes/commit",
                  static_cast<double>(writes.load()) / static_cast<double>(commits.load()));
    }
    std::printf("\n");
  }

  // Leads submitted on replica A at `rate` per second; B's listener wakes up for them.
  void Delivery(int rate) {
    const std::string uri = NewDatabase();
    struct Reply {
      uint64_t head;  // Of the write's batch.
      absl::Time submitted, replied;
    };
    struct Wakeup {
      uint64_t head;
      absl::Time time;
    };
    absl::Mutex mu;
    std::vector<Reply> replies;          // In commit order.
    std::vector<Wakeup> wakeups;         // Heads only grow.
    std::atomic<uint64_t> last_head{0};  // Set by after_commit, read by Done: writer thread.
    GroupCommitWriter::Options a_options;
    a_options.conninfo = uri;
    a_options.after_commit = [&](uint64_t head, const std::vector<std::string>&) {
      last_head = head;
    };
    std::unique_ptr<GroupCommitWriter> a = Check(GroupCommitWriter::Start(std::move(a_options)));
    NotificationListener::Options b_options;
    b_options.conninfo = uri;
    b_options.on_events = [&](uint64_t head, const std::vector<std::string>&) {
      const absl::Time now = absl::Now();
      absl::MutexLock lock(&mu);
      wakeups.push_back(Wakeup{head, now});
    };
    std::unique_ptr<NotificationListener> b =
        Check(NotificationListener::Start(std::move(b_options)));
    const absl::Duration interval = absl::Seconds(1) / rate;
    const absl::Time start = absl::Now();
    int n = 0;
    for (absl::Time next = start; next < start + duration_; next += interval, ++n) {
      absl::SleepFor(next - absl::Now());
      const absl::Time submitted = absl::Now();
      a->Submit([id = absl::StrCat("lead-", n)](WriteTxn& txn) { return WriteLead(txn, id, true); },
                [&, submitted](const absl::Status& s) {
                  if (!s.ok()) Die(s);
                  absl::MutexLock lock(&mu);
                  replies.push_back(Reply{last_head.load(), submitted, absl::Now()});
                });
    }
    a.reset();  // Every write has its reply.
    {
      absl::MutexLock lock(&mu);
      const uint64_t last = replies.empty() ? 0 : replies.back().head;
      const auto all_woken = [&]() { return !wakeups.empty() && wakeups.back().head >= last; };
      mu.AwaitWithTimeout(absl::Condition(&all_woken), absl::Seconds(30));
    }
    b.reset();
    Latencies from_reply, from_submit;
    size_t w = 0;
    for (const Reply& r : replies) {
      while (w < wakeups.size() && wakeups[w].head < r.head) ++w;
      if (w == wakeups.size()) break;
      // NOTIFY is delivered at commit, so B may wake before A has replied: that counts as 0.
      from_reply.Add(std::max(wakeups[w].time - r.replied, absl::ZeroDuration()));
      from_submit.Add(wakeups[w].time - r.submitted);
    }
    std::printf(
        "wake-up on replica B, %d leads/s on replica A (%zu of %zu woken): from A's "
        "reply %s; from the submit %s\n",
        rate, from_submit.samples.size(), replies.size(), from_reply.Summary().c_str(),
        from_submit.Summary().c_str());
  }

 private:
  testing::PgServer& server_;
  const absl::Duration duration_;
};

// fdatasync of one 4 KiB write in `dir`: what every commit on that disk costs at least.
void DiskFloor(const std::string& dir) {
  const std::string path = dir + "/floor";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return;
  const std::string page(4096, 'x');
  Latencies latencies;
  const absl::Time end = absl::Now() + absl::Seconds(3);
  while (absl::Now() < end) {
    const absl::Time start = absl::Now();
    if (pwrite(fd, page.data(), page.size(), 0) < 0 || fdatasync(fd) != 0) break;
    latencies.Add(absl::Now() - start);
  }
  close(fd);
  unlink(path.c_str());
  std::printf("disk floor (4 KiB write + fdatasync in %s): %s\n", dir.c_str(),
              latencies.Summary().c_str());
}

int Main(int argc, char** argv) {
  absl::Duration duration = absl::Seconds(5);
  bool disk = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    int seconds = 0;
    if (absl::ConsumePrefix(&arg, "--seconds=") && absl::SimpleAtoi(arg, &seconds)) {
      duration = absl::Seconds(seconds);
    } else if (arg == "--disk") {
      disk = true;
    } else {
      std::fprintf(stderr, "usage: pg_writer_bench [--seconds=S] [--disk]\n");
      return 2;
    }
  }
  testing::PgServer::Options options;
  if (disk) options.parent_dir = std::filesystem::temp_directory_path();
  std::unique_ptr<testing::PgServer> server = Check(testing::PgServer::Start(options));
  std::printf("PostgreSQL on %s, %s per measurement\n", disk ? options.parent_dir.c_str() : "tmpfs",
              absl::FormatDuration(duration).c_str());
  if (disk) DiskFloor(options.parent_dir);
  Bench bench(*server, duration);
  bench.RoundTrip();
  for (int submitters : {1, 8, 64}) bench.Writers(1, submitters, true);
  for (int replicas : {1, 2, 3}) {
    bench.Writers(replicas, 64, true);
    bench.Writers(replicas, 64, false);
  }
  bench.Delivery(1000);
  return 0;
}

}  // namespace
}  // namespace intake::store::postgres

int main(int argc, char** argv) { return intake::store::postgres::Main(argc, argv); }
