#include "client/bench/soak.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client/bench/admin_setup.h"
#include "client/bench/channels.h"
#include "client/bench/latency.h"
#include "client/bench/lead_subscriber.h"
#include "client/bench/load_loop.h"
#include "client/bench/open_loop.h"
#include "client/bench/spawned_intaked.h"
#include "client/bench/synthetic_submissions.h"
#include "grpcpp/create_channel.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"

namespace intake::bench {
namespace {

using Stubs = std::vector<std::unique_ptr<v1::IntakeService::Stub>>;
using SteadyClock = std::chrono::steady_clock;

constexpr int kChannels = 8;
constexpr absl::Duration kCallTimeout = absl::Seconds(10);
constexpr size_t kMaxPendingFeedback = 1000;
constexpr double kMiB = 1024.0 * 1024.0;

// A "Name:   1234 kB" line of /proc/<pid>/status, in MiB; 0 if absent.
double StatusMiB(pid_t pid, absl::string_view field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(absl::StrCat(field, ":"), 0) != 0) continue;
    std::istringstream value(line.substr(field.size() + 1));
    double kb = 0;
    value >> kb;
    return kb / 1024.0;
  }
  return 0;
}

double OpenFds(pid_t pid) {
  std::error_code error;
  double count = 0;
  for (auto it = std::filesystem::directory_iterator(absl::StrCat("/proc/", pid, "/fd"), error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++count;
  }
  return count;
}

double FileMiB(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) / kMiB : 0;
}

double Millis(std::optional<absl::Duration> d) { return d ? absl::ToDoubleMilliseconds(*d) : 0; }

// What happened in the current interval; the sampler takes it and starts a new one.
class IntervalCounters {
 public:
  void Submitted(bool ok, absl::Duration latency) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (ok) {
      latencies_.Record(latency);
    } else {
      ++errors_;
    }
  }
  void Event() {
    ++events_;
    ++total_events_;
  }
  void Feedback() { ++feedback_; }

  // Fills the interval's counts into *sample and starts the next interval.
  void Take(SoakSample* sample) ABSL_LOCKS_EXCLUDED(mu_) {
    LatencySamples latencies;
    {
      absl::MutexLock lock(&mu_);
      std::swap(latencies, latencies_);
      sample->errors = static_cast<double>(errors_);
      errors_ = 0;
    }
    sample->submits = static_cast<double>(latencies.count());
    sample->p50_ms = Millis(latencies.Percentile(0.50));
    sample->p99_ms = Millis(latencies.Percentile(0.99));
    sample->events = static_cast<double>(events_.exchange(0));
    sample->feedback = static_cast<double>(feedback_.exchange(0));
  }

  // Events received since the start, never reset.
  uint64_t total_events() const { return total_events_.load(); }

 private:
  absl::Mutex mu_;
  LatencySamples latencies_ ABSL_GUARDED_BY(mu_);
  uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> feedback_{0};
  std::atomic<uint64_t> total_events_{0};
};

// The provider's staff at work: acknowledges every other lead the first dashboard shows and
// records a contact attempt on every fourth, from a bounded queue (leads past it are skipped).
class ProviderStaff {
 public:
  ProviderStaff(std::shared_ptr<grpc::Channel> channel, std::string token,
                IntervalCounters* counters, int workers)
      : stub_(v1::ProviderService::NewStub(std::move(channel))),
        token_(std::move(token)),
        counters_(counters) {
    for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~ProviderStaff() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& t : workers_) t.join();
  }

  // Never blocks: called from a stream's callback.
  void Offer(const std::string& lead_id) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (++offered_ % 2 != 0 || pending_.size() >= kMaxPendingFeedback) return;
    pending_.push_back({lead_id, offered_ % 4 == 0});
  }

 private:
  struct Task {
    std::string lead_id;
    bool contact = false;
  };

  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !pending_.empty();
  }

  void Work() ABSL_LOCKS_EXCLUDED(mu_) {
    while (true) {
      Task task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &ProviderStaff::HasWorkOrStopping));
        if (stopping_) return;
        task = std::move(pending_.front());
        pending_.pop_front();
      }
      grpc::ClientContext ack_context;
      ack_context.set_deadline(DeadlineIn(kCallTimeout));
      ack_context.AddMetadata("authorization", "Bearer " + token_);
      v1::AcknowledgeLeadRequest ack;
      ack.set_lead_id(task.lead_id);
      v1::AcknowledgeLeadResponse acked;
      if (stub_->AcknowledgeLead(&ack_context, ack, &acked).ok()) counters_->Feedback();
      if (!task.contact) continue;
      grpc::ClientContext contact_context;
      contact_context.set_deadline(DeadlineIn(kCallTimeout));
      contact_context.AddMetadata("authorization", "Bearer " + token_);
      v1::RecordContactAttemptRequest contact;
      contact.set_lead_id(task.lead_id);
      contact.set_outcome(v1::CONTACT_OUTCOME_REACHED);
      v1::RecordContactAttemptResponse contacted;
      if (stub_->RecordContactAttempt(&contact_context, contact, &contacted).ok()) {
        counters_->Feedback();
      }
    }
  }

  const std::unique_ptr<v1::ProviderService::Stub> stub_;
  const std::string token_;
  IntervalCounters* const counters_;
  absl::Mutex mu_;
  std::deque<Task> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t offered_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

// The dashboards: streams of the provider's leads, each reconnecting from its own cursor in
// turn, as browsers do after a network change.
class Dashboards {
 public:
  Dashboards(const std::shared_ptr<grpc::Channel>& channel, std::string token, int count,
             IntervalCounters* counters, ProviderStaff* staff)
      : stub_(v1::ProviderService::NewStub(channel)),
        token_(std::move(token)),
        counters_(counters),
        staff_(staff),
        cursors_(count) {
    for (int i = 0; i < count; ++i) streams_.push_back(Open(i));
  }

  // Reconnects the next dashboard in turn.
  void ReconnectOne() {
    const size_t i = next_++ % streams_.size();
    streams_[i]->Stop();
    streams_[i] = Open(i);
    ++reconnects_;
  }

  // Ends every stream; returns how many ended early with an error.
  int Close() {
    int failed = 0;
    for (auto& stream : streams_) failed += !stream->Stop().ok();
    streams_.clear();
    return failed;
  }

  int reconnects() const { return reconnects_; }

 private:
  std::unique_ptr<LeadSubscriber> Open(size_t i) {
    auto stream = std::make_unique<LeadSubscriber>(
        [this, i](const v1::SubscribeLeadsResponse& event, LeadSubscriber::Clock::time_point) {
          cursors_[i] = std::max<uint64_t>(cursors_[i], event.sequence());
          counters_->Event();
          if (i == 0 && event.type() == v1::LEAD_EVENT_TYPE_ASSIGNED) {
            staff_->Offer(event.lead().lead_id());
          }
        });
    stream->Start(stub_.get(), token_, cursors_[i]);
    return stream;
  }

  const std::unique_ptr<v1::ProviderService::Stub> stub_;
  const std::string token_;
  IntervalCounters* const counters_;
  ProviderStaff* const staff_;
  // Written by each stream's callbacks; read when it is reopened, after Stop().
  std::vector<std::atomic<uint64_t>> cursors_;
  std::vector<std::unique_ptr<LeadSubscriber>> streams_;
  size_t next_ = 0;
  int reconnects_ = 0;
};

struct SubmitCall {
  grpc::ClientContext context;
  v1::SubmitCallbackRequest request;
  v1::SubmitCallbackResponse response;
  SteadyClock::time_point start;
};

// Starts SubmitCallback call `index` of `submissions` on one of `stubs`; reports to `counters`
// (if not null) and then `done`.
void StartSubmit(const Stubs& stubs, const SyntheticSubmissions& submissions, uint64_t index,
                 IntervalCounters* counters, CallDone done) {
  auto* call = new SubmitCall;
  call->context.set_deadline(DeadlineIn(kCallTimeout));
  submissions.Fill(index, &call->request);
  call->start = SteadyClock::now();
  stubs[index % stubs.size()]->async()->SubmitCallback(
      &call->context, &call->request, &call->response,
      [call, counters, done = std::move(done)](const grpc::Status& status) {
        if (counters != nullptr) {
          counters->Submitted(status.ok(), absl::FromChrono(SteadyClock::now() - call->start));
        }
        delete call;
        done(status.error_code());
      });
}

constexpr int kProbeInFlight = 64;

// What the capacity probe saw.
struct Probe {
  double submits_per_second = 0;
  // Events each dashboard received per second meanwhile (ASSIGNED ones, one per lead).
  double events_per_second_each = 0;
  // A rate is sustained only if the streams keep up with it too.
  double capacity() const { return std::min(submits_per_second, events_per_second_each); }
};

// Keeps kProbeInFlight submissions in flight for 2 s (not counted), then for `duration`,
// while whatever else runs (the dashboards, the staff) goes on.
Probe ProbeCapacity(const Stubs& stubs, const SyntheticSubmissions& submissions,
                    const IntervalCounters& counters, int subscribers, absl::Duration duration) {
  const auto start = [&](int, uint64_t index, CallDone done) {
    StartSubmit(stubs, submissions, index, nullptr, std::move(done));
  };
  RunClosedLoop(LoadOptions{kProbeInFlight, absl::ZeroDuration(), absl::Seconds(2)}, start);
  const uint64_t events_before = counters.total_events();
  const absl::Time begin = absl::Now();
  const LoadResult load =
      RunClosedLoop(LoadOptions{kProbeInFlight, absl::ZeroDuration(), duration}, start);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - begin);
  Probe probe;
  probe.submits_per_second = load.ok_per_second();
  probe.events_per_second_each = static_cast<double>(counters.total_events() - events_before) /
                                 seconds / std::max(1, subscribers);
  return probe;
}

// Returns once no event has arrived for a second (the dashboards have caught up), or after
// `timeout`.
void WaitUntilEventsStop(const IntervalCounters& counters, absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  uint64_t seen = counters.total_events();
  absl::Time last_change = absl::Now();
  while (absl::Now() < give_up && absl::Now() - last_change < absl::Seconds(1)) {
    absl::SleepFor(absl::Milliseconds(100));
    if (const uint64_t now = counters.total_events(); now != seen) {
      seen = now;
      last_change = absl::Now();
    }
  }
}

std::string CsvLine(const SoakSample& s) {
  return absl::StrFormat("%.2f,%.1f,%.1f,%.0f,%.2f,%.1f,%.0f,%.0f,%.3f,%.3f,%.0f,%.0f", s.minute,
                         s.rss_mib, s.anon_mib, s.fds, s.wal_mib, s.db_mib, s.submits, s.errors,
                         s.p50_ms, s.p99_ms, s.events, s.feedback);
}
constexpr char kCsvHeader[] =
    "minute,rss_mib,anon_mib,fds,wal_mib,db_mib,submits,errors,p50_ms,p99_ms,events,feedback";

// A gnuplot script drawing four panels from soak.csv: memory, fds, WAL and database, latency.
std::string GnuplotScript(const std::string& csv, const std::string& png, int rate) {
  return absl::StrFormat(R"gp(set terminal pngcairo noenhanced size 1400,1000 font ",10"
set output "%s"
set datafile separator ","
set key autotitle columnhead top left
set grid
set xlabel "minute"
set multiplot layout 2,2 title "intaked soak: %d submissions/s with streams, reconnects, acks and contacts"
set title "memory (MiB)"
plot "%s" using 1:2 with linespoints, "" using 1:3 with linespoints
set title "open file descriptors"
set yrange [0:*]
plot "%s" using 1:4 with linespoints
set title "WAL and database (MiB)"
set logscale y
set yrange [*:*]
plot "%s" using 1:5 with linespoints, "" using 1:6 with linespoints
unset logscale y
set title "submit latency (ms)"
set yrange [0:*]
plot "%s" using 1:9 with linespoints, "" using 1:10 with linespoints
unset multiplot
)gp",
                         png, rate, csv, csv, csv, csv);
}

std::vector<double> SecondHalf(const std::vector<double>& series) {
  return {series.begin() + static_cast<std::ptrdiff_t>(series.size() / 2), series.end()};
}

double Median(std::vector<double> series) {
  if (series.empty()) return 0;
  std::sort(series.begin(), series.end());
  return series[series.size() / 2];
}

std::vector<double> Series(const std::vector<SoakSample>& samples, double SoakSample::*field) {
  std::vector<double> out;
  out.reserve(samples.size());
  for (const SoakSample& s : samples) out.push_back(s.*field);
  return out;
}

}  // namespace

double SecondHalfGrowth(const std::vector<double>& samples) {
  const std::vector<double> half = SecondHalf(samples);
  if (half.size() < 2) return 0;
  // Theil-Sen: the median of the slopes between every pair of samples. One outlier (a p99
  // spike when the machine's other tenant compiles) moves it little; a steady climb, a leak,
  // moves every pair.
  std::vector<double> slopes;
  slopes.reserve(half.size() * (half.size() - 1) / 2);
  for (size_t i = 0; i < half.size(); ++i) {
    for (size_t j = i + 1; j < half.size(); ++j) {
      slopes.push_back((half[j] - half[i]) / static_cast<double>(j - i));
    }
  }
  std::sort(slopes.begin(), slopes.end());
  const size_t mid = slopes.size() / 2;
  const double slope = slopes.size() % 2 == 1 ? slopes[mid] : (slopes[mid - 1] + slopes[mid]) / 2;
  return slope * static_cast<double>(half.size() - 1);
}

bool IsFlat(const std::vector<double>& samples, double tolerance, double absolute) {
  if (samples.size() < 4) return true;
  const double median = Median(SecondHalf(samples));
  return SecondHalfGrowth(samples) <= std::max(tolerance * median, absolute);
}

std::vector<SoakCheck> JudgeSoak(const std::vector<SoakSample>& samples, int rate,
                                 int subscribers) {
  std::vector<SoakCheck> checks;
  checks.push_back(
      {"samples", samples.size() >= 4, absl::StrCat(samples.size(), " samples (at least 4)")});

  // Sums over the second half, and its length in seconds.
  const size_t half_start = samples.size() / 2;
  double seconds = 0;
  double submits = 0;
  double events = 0;
  for (size_t i = half_start; i < samples.size(); ++i) {
    seconds += 60 * (samples[i].minute - (i == 0 ? 0 : samples[i - 1].minute));
    submits += samples[i].submits;
    events += samples[i].events;
  }
  double errors = 0;
  for (const SoakSample& sample : samples) errors += sample.errors;
  const double per_second = seconds > 0 ? submits / seconds : 0;
  checks.push_back(
      {"load", per_second >= 0.9 * rate && errors == 0,
       absl::StrFormat("%.0f OK submissions/s in the second half (at least %.0f), %.0f failed",
                       per_second, 0.9 * rate, errors)});
  const double per_submission = submits > 0 ? events / submits : 0;
  checks.push_back(
      {"delivery", submits > 0 && per_submission >= 0.9 * subscribers,
       absl::StrFormat("%.2f events per OK submission in the second half (at least %.2f)",
                       per_submission, 0.9 * subscribers)});

  auto trend = [&](const char* name, double SoakSample::*field, double tolerance, double absolute) {
    const std::vector<double> series = Series(samples, field);
    const double allowed = std::max(tolerance * Median(SecondHalf(series)), absolute);
    const double growth = SecondHalfGrowth(series);
    checks.push_back(
        {name, growth <= allowed,
         absl::StrFormat("grew %.2f across the second half (at most %.2f)", growth, allowed)});
  };
  trend("anon_rss", &SoakSample::anon_mib, 0.10, 4);
  trend("fds", &SoakSample::fds, 0, 2);
  trend("wal", &SoakSample::wal_mib, 0.10, 1);

  const std::vector<double> p99 = Series(samples, &SoakSample::p99_ms);
  const std::vector<double> first_half(p99.begin(),
                                       p99.begin() + static_cast<std::ptrdiff_t>(half_start));
  const double before = Median(first_half);
  const double after = Median(SecondHalf(p99));
  const double growth = SecondHalfGrowth(p99);
  const double allowed = std::max(0.25 * after, 1.0);
  checks.push_back(
      {"p99", growth <= allowed && after <= 1.5 * before + 1,
       absl::StrFormat("median %.2f ms in the first half, %.2f ms in the second (at most %.2f); "
                       "grew %.2f ms across the second half (at most %.2f)",
                       before, after, 1.5 * before + 1, growth, allowed)});
  return checks;
}

int RunSoak(const SoakOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(options.out_dir, error);
  absl::StatusOr<std::unique_ptr<SpawnedIntaked>> server =
      // Every submission comes from this one client: no per-client limit. Metrics on, as in
      // production, on a port of its own: the default one may be another intaked's.
      SpawnedIntaked::Start(options.intaked, {"--client_rate=0", "--metrics_listen=127.0.0.1:0"},
                            absl::Seconds(30));
  if (!server.ok()) {
    std::cerr << "intake-soak: " << server.status().message() << "\n";
    return 2;
  }
  const pid_t pid = (*server)->pid();
  const std::string db = (*server)->data_dir() + "/intake.db";
  absl::StatusOr<std::string> admin_token = ReadAdminToken((*server)->admin_token_path());
  absl::StatusOr<BenchProvider> provider =
      admin_token.ok() ? SetUpBenchProvider(grpc::CreateChannel((*server)->admin_address(),
                                                                ChannelCredentialsFor({})),
                                            *admin_token, kCallTimeout)
                       : absl::StatusOr<BenchProvider>(admin_token.status());
  if (!provider.ok()) {
    std::cerr << "intake-soak: " << provider.status().message() << "\n";
    return 2;
  }
  const std::vector<std::shared_ptr<grpc::Channel>> channels =
      OpenChannels((*server)->listen_address(), kChannels + 2, {});
  if (!WaitUntilConnected(channels, absl::Now() + kConnectTimeout)) {
    std::cerr << "intake-soak: cannot connect to " << (*server)->listen_address() << "\n";
    return 2;
  }
  Stubs stubs;
  for (int i = 0; i < kChannels; ++i) stubs.push_back(v1::IntakeService::NewStub(channels[i]));
  std::mt19937_64 random(std::random_device{}());

  // The mixed load starts first, so that the probe measures what the server sustains with
  // it, not what submissions alone reach.
  IntervalCounters counters;
  ProviderStaff staff(channels[kChannels], provider->token, &counters, /*workers=*/2);
  Dashboards dashboards(channels[kChannels + 1], provider->token, options.subscribers, &counters,
                        &staff);
  absl::Notification stop;
  std::thread reconnector([&] {
    const absl::Duration every = options.reconnect_every / std::max(1, options.subscribers);
    while (!stop.WaitForNotificationWithTimeout(every)) dashboards.ReconnectOne();
  });

  int rate = options.rate;
  std::optional<Probe> probe;
  if (rate <= 0) {
    probe = ProbeCapacity(stubs, SyntheticSubmissions::ForNewRun(random, provider->listing_id),
                          counters, options.subscribers, options.probe);
    rate = std::max(1, static_cast<int>(probe->capacity() / 2));
    std::cerr << absl::StrFormat(
        "intake-soak: with %d dashboards, acks and contacts running, %d submissions in flight "
        "for %s completed %.0f/s and each dashboard received %.0f events/s: capacity %.0f/s; "
        "soaking at half, %d/s\n",
        options.subscribers, kProbeInFlight, absl::FormatDuration(options.probe),
        probe->submits_per_second, probe->events_per_second_each, probe->capacity(), rate);
    // The streams finish what the probe left them before the samples begin.
    WaitUntilEventsStop(counters, absl::Seconds(60));
  } else {
    std::cerr << absl::StrFormat("intake-soak: soaking at %d/s (--rate)\n", rate);
  }
  SoakSample discarded;
  counters.Take(&discarded);

  const std::string csv_path = options.out_dir + "/soak.csv";
  std::ofstream csv(csv_path, std::ios::trunc);
  csv << kCsvHeader << "\n";
  std::vector<SoakSample> samples;
  const absl::Time begin = absl::Now();
  std::thread sampler([&] {
    const auto take = [&] {
      SoakSample s;
      s.minute = absl::ToDoubleMinutes(absl::Now() - begin);
      s.rss_mib = StatusMiB(pid, "VmRSS");
      s.anon_mib = StatusMiB(pid, "RssAnon");
      s.fds = OpenFds(pid);
      s.wal_mib = FileMiB(db + "-wal");
      s.db_mib = FileMiB(db);
      counters.Take(&s);
      csv << CsvLine(s) << std::endl;
      std::cerr << "intake-soak: " << CsvLine(s) << "\n";
      samples.push_back(s);
    };
    // On a fixed schedule, so that the sample due as the load ends is not lost to drift; a
    // last, shorter interval counts if it is at least half a full one.
    absl::Time due = begin + options.sample_interval;
    while (!stop.WaitForNotificationWithDeadline(due)) {
      take();
      due += options.sample_interval;
    }
    if (absl::Now() - (due - options.sample_interval) >= options.sample_interval / 2) take();
  });

  const SyntheticSubmissions submissions =
      SyntheticSubmissions::ForNewRun(random, provider->listing_id);
  std::cerr << "intake-soak: " << kCsvHeader << "\n";
  const OpenLoopResult run =
      RunOpenLoop(OpenLoopOptions{rate, absl::ZeroDuration(), options.duration},
                  [&](uint64_t index, bool, CallDone done) {
                    StartSubmit(stubs, submissions, index, &counters, std::move(done));
                  });
  stop.Notify();
  sampler.join();
  reconnector.join();
  const int streams_failed = dashboards.Close();
  const absl::Status stopped = (*server)->Stop(absl::Seconds(30));
  csv.close();

  const std::string png = options.out_dir + "/soak.png";
  const std::string script = options.out_dir + "/soak.gp";
  std::ofstream(script, std::ios::trunc) << GnuplotScript(csv_path, png, rate);
  const bool plotted = std::system(absl::StrCat("gnuplot ", script).c_str()) == 0;

  std::vector<SoakCheck> checks = JudgeSoak(samples, rate, options.subscribers);
  checks.push_back({"streams", streams_failed == 0,
                    absl::StrCat(streams_failed, " dashboard streams ended with an error")});
  checks.push_back({"clean_exit", stopped.ok(), "intaked drained and exited 0 on SIGTERM"});
  const bool flat =
      std::all_of(checks.begin(), checks.end(), [](const SoakCheck& check) { return check.pass; });
  std::vector<std::string> judged;
  judged.reserve(checks.size());
  for (const SoakCheck& check : checks) {
    // Names and details are this file's own words: nothing to escape.
    judged.push_back(absl::StrFormat(R"("%s": {"pass": %s, "detail": "%s"})", check.name,
                                     check.pass ? "true" : "false", check.detail));
  }
  const std::string probed =
      probe ? absl::StrFormat(R"({"in_flight": %d, "seconds": %.0f, "submits_per_s": %.0f, )"
                              R"("events_per_s_per_dashboard": %.0f, "capacity_per_s": %.0f})",
                              kProbeInFlight, absl::ToDoubleSeconds(options.probe),
                              probe->submits_per_second, probe->events_per_second_each,
                              probe->capacity())
            : "null";
  std::cout << absl::StrFormat(
                   R"({"minutes": %.1f, "rate_per_s": %d, "rate_from": "%s", "probe": %s, )"
                   R"("subscribers": %d, "submitted_ok": %d, "submit_errors": %d, )"
                   R"("reconnects": %d, "checks": {%s}, "csv": "%s", "png": %s, "verdict": "%s"})",
                   absl::ToDoubleMinutes(absl::Now() - begin), rate,
                   probe ? "half the probed capacity" : "--rate", probed, options.subscribers,
                   run.calls.ok, run.calls.error_count(), dashboards.reconnects(),
                   absl::StrJoin(judged, ", "), csv_path,
                   plotted ? absl::StrCat("\"", png, "\"") : "null", flat ? "flat" : "not flat")
            << std::endl;
  if (!stopped.ok()) std::cerr << "intake-soak: " << stopped.message() << "\n";
  return flat ? 0 : 1;
}

}  // namespace intake::bench
