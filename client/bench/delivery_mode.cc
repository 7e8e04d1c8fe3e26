#include "client/bench/delivery_mode.h"

#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/bench/admin_setup.h"
#include "client/bench/channels.h"
#include "client/bench/delivery_tracker.h"
#include "client/bench/disk_floor.h"
#include "client/bench/echo_phase.h"
#include "client/bench/first_error_log.h"
#include "client/bench/lead_subscriber.h"
#include "client/bench/open_loop.h"
#include "client/bench/report.h"
#include "client/bench/server_under_test.h"
#include "client/bench/synthetic_submissions.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/provider_service.grpc.pb.h"

namespace intake::bench {
namespace {

// How long the measured leads still on their way get once the last submission has completed.
constexpr absl::Duration kDrainWait = absl::Seconds(5);
// Deadline of each AdminService call of the set-up.
constexpr absl::Duration kAdminTimeout = absl::Seconds(10);

using Stubs = std::vector<std::unique_ptr<v1::IntakeService::Stub>>;

struct DeliverySubmit {
  grpc::ClientContext context;
  v1::SubmitCallbackRequest request;
  v1::SubmitCallbackResponse response;
  // The caller's E.164 phone for a measured call; empty otherwise.
  std::string phone;
};

// SubmitCallback calls, call i from caller i, spread over `stubs` in turn; a measured one is
// handed to `tracker` just before it starts. The pointers must outlive the loop.
OpenLoopCallStarter DeliverySubmits(const Stubs* stubs, const SyntheticSubmissions* submissions,
                                    absl::Duration timeout, DeliveryTracker* tracker,
                                    FirstErrorLog* errors) {
  return [=](uint64_t call_index, bool measured, CallDone done) {
    auto* call = new DeliverySubmit;
    call->context.set_deadline(DeadlineIn(timeout));
    submissions->Fill(call_index, &call->request);
    if (measured) {
      call->phone = submissions->E164Phone(call_index);
      tracker->RecordSent(call->phone, DeliveryTracker::Clock::now());
    }
    (*stubs)[call_index % stubs->size()]->async()->SubmitCallback(
        &call->context, &call->request, &call->response,
        [call, tracker, errors, done = std::move(done)](const grpc::Status& status) {
          if (!status.ok() && !call->phone.empty()) tracker->RecordSubmitFailed(call->phone);
          delete call;
          errors->Note(status);
          done(status.error_code());
        });
  };
}

// Opens `count` channels to `address` and waits for them; logs and returns an empty vector if
// they do not connect in time.
std::vector<std::shared_ptr<grpc::Channel>> ConnectedChannels(const std::string& address, int count,
                                                              const BenchTls& tls) {
  std::vector<std::shared_ptr<grpc::Channel>> channels = OpenChannels(address, count, tls);
  if (WaitUntilConnected(channels, absl::Now() + kConnectTimeout)) return channels;
  std::cerr << "intake-bench: cannot connect to " << address << " within "
            << absl::FormatDuration(kConnectTimeout) << "\n";
  return {};
}

// The provider, listing and token of the run, made on the server's admin listener.
absl::StatusOr<BenchProvider> SetUp(const ServerUnderTest& server, const BenchTls& tls) {
  if (server.admin_address().empty() || server.admin_token_file().empty()) {
    return absl::InvalidArgumentError(
        "the delivery mode needs --admin_target and --admin_token_file with --target");
  }
  absl::StatusOr<std::string> admin_token = ReadAdminToken(server.admin_token_file());
  if (!admin_token.ok()) return admin_token.status();
  const std::shared_ptr<grpc::Channel> admin_channel =
      grpc::CreateChannel(server.admin_address(), ChannelCredentialsFor(tls));
  return SetUpBenchProvider(admin_channel, *admin_token, kAdminTimeout);
}

std::string StreamErrorJson(const grpc::Status& status) {
  if (status.ok()) return "null";
  return JsonString(
      absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                   ": ", status.error_message()));
}

// The disk floor in `directory`, on the delivery phase's schedule; progress on stderr.
absl::StatusOr<DiskFloorResult> RunDiskFloorPhase(const BenchConfig& config,
                                                  const std::string& directory) {
  std::cerr << absl::StrFormat(
      "intake-bench: disk floor: %d leads/s, %d bytes per fdatasync, in %s\n", config.rate,
      config.floor_commit_bytes, directory);
  DiskFloorOptions options;
  options.directory = directory;
  options.rate = config.rate;
  options.warmup = config.warmup;
  options.duration = config.duration;
  options.commit_bytes = config.floor_commit_bytes;
  absl::StatusOr<DiskFloorResult> floor = MeasureDiskFloor(options);
  if (floor.ok()) {
    std::cerr << absl::StrFormat("intake-bench: disk floor: p99 %s ms over %d fdatasyncs\n",
                                 MillisJson(floor->lead_latencies.Percentile(0.99)),
                                 floor->fdatasync_latencies.count());
  }
  return floor;
}

// The "disk_floor" object of the report; null when the floor was not measured. Not const:
// computing percentiles sorts the samples.
std::string DiskFloorJson(const std::string& directory, const std::string& file_system,
                          int commit_bytes, std::optional<DiskFloorResult>& floor) {
  if (!floor) return "null";
  LatencySamples& leads = floor->lead_latencies;
  LatencySamples& syncs = floor->fdatasync_latencies;
  return absl::StrFormat(
      R"({"dir": %s, "fs": %s, "commit_bytes": %d, "p50_ms": %s, "p99_ms": %s, "max_ms": %s, )"
      R"("fdatasyncs": %d, "fdatasync_p50_ms": %s, "fdatasync_p99_ms": %s, )"
      R"("fdatasync_max_ms": %s})",
      JsonString(directory), JsonString(file_system), commit_bytes,
      MillisJson(leads.Percentile(0.50)), MillisJson(leads.Percentile(0.99)),
      MillisJson(leads.Percentile(1.0)), syncs.count(), MillisJson(syncs.Percentile(0.50)),
      MillisJson(syncs.Percentile(0.99)), MillisJson(syncs.Percentile(1.0)));
}

}  // namespace

int RunDeliveryMode(const BenchConfig& config) {
  absl::StatusOr<std::unique_ptr<ServerUnderTest>> server = ServerUnderTest::Acquire(config);
  if (!server.ok()) {
    std::cerr << "intake-bench: " << server.status().message() << "\n";
    return 1;
  }
  const std::string address = (*server)->address();
  const bool spawned = (*server)->spawned();
  std::cerr << "intake-bench: delivery: " << address << (spawned ? " (spawned intaked)" : "")
            << "\n";
  absl::StatusOr<BenchProvider> provider = SetUp(**server, config.tls);
  if (!provider.ok()) {
    std::cerr << "intake-bench: " << provider.status().message() << "\n";
    return 1;
  }

  std::mt19937_64 random(std::random_device{}());
  const SyntheticSubmissions submissions =
      SyntheticSubmissions::ForNewRun(random, provider->listing_id);
  v1::SubmitCallbackRequest sample;
  submissions.Fill(0, &sample);
  const size_t message_bytes = sample.ByteSizeLong();

  const std::vector<std::shared_ptr<grpc::Channel>> channels =
      ConnectedChannels(address, config.channels, config.tls);
  // The dashboard's own connection, as a provider's would be.
  const std::vector<std::shared_ptr<grpc::Channel>> stream_channel =
      ConnectedChannels(address, 1, config.tls);
  if (channels.empty() || stream_channel.empty()) return 1;

  const LoadOptions echo_load{config.concurrency, config.warmup, config.duration};
  absl::StatusOr<LoadResult> echo = RunEchoPhase(config, echo_load, submissions);
  if (!echo.ok()) {
    std::cerr << "intake-bench: " << echo.status().message() << "\n";
    return 1;
  }

  // On the disk the spawned intaked commits to, unless told otherwise; a --target server's
  // disk is unknown.
  const std::string floor_dir = config.floor_dir.empty() ? (*server)->data_dir() : config.floor_dir;
  std::optional<DiskFloorResult> floor;
  const std::string floor_fs = floor_dir.empty() ? "" : FileSystemName(floor_dir);
  if (floor_dir.empty()) {
    std::cerr << "intake-bench: disk floor: skipped (--target without --floor_dir)\n";
  } else {
    absl::StatusOr<DiskFloorResult> measured = RunDiskFloorPhase(config, floor_dir);
    if (!measured.ok()) {
      std::cerr << "intake-bench: " << measured.status().message() << "\n";
      return 1;
    }
    floor = *std::move(measured);
  }

  DeliveryTracker tracker;
  const std::unique_ptr<v1::ProviderService::Stub> provider_stub =
      v1::ProviderService::NewStub(stream_channel.front());
  LeadSubscriber subscriber(
      [&tracker](const v1::SubscribeLeadsResponse& event, LeadSubscriber::Clock::time_point read) {
        if (event.type() == v1::LEAD_EVENT_TYPE_ASSIGNED) {
          tracker.RecordAssigned(event.lead().caller().phone(), read);
        }
      });
  subscriber.Start(provider_stub.get(), provider->token, /*after_sequence=*/0);

  Stubs stubs;
  stubs.reserve(channels.size());
  for (const auto& channel : channels) stubs.push_back(v1::IntakeService::NewStub(channel));
  FirstErrorLog errors("submit");
  std::cerr << absl::StrFormat("intake-bench: delivery: %d leads/s to listing %s\n", config.rate,
                               provider->listing_id);
  OpenLoopResult submit =
      RunOpenLoop({config.rate, config.warmup, config.duration},
                  DeliverySubmits(&stubs, &submissions, config.call_timeout, &tracker, &errors));
  LogPhase("submit", submit.calls);
  tracker.WaitUntilSettled(absl::Now() + kDrainWait);
  const grpc::Status stream_status = subscriber.Stop();
  if (!stream_status.ok()) {
    std::cerr << "intake-bench: delivery: the stream ended early: " << stream_status.error_message()
              << "\n";
  }
  DeliveryTracker::Result delivery = tracker.Take();
  std::cerr << absl::StrFormat("intake-bench: delivery: %d of %d leads received\n",
                               delivery.received, delivery.sent);
  const std::string server_json = (*server)->Json();
  (*server)->Release();
  const std::optional<absl::Duration> delivery_p99 = delivery.latencies.Percentile(0.99);
  const std::optional<absl::Duration> floor_p99 =
      floor ? floor->lead_latencies.Percentile(0.99) : std::nullopt;
  // What Intake adds to the disk's own tail; null without a floor.
  const std::optional<absl::Duration> over_floor =
      delivery_p99 && floor_p99 ? std::optional(*delivery_p99 - *floor_p99) : std::nullopt;

  std::cout << absl::StrFormat(
                   R"({"mode": "delivery", "delivery": {"rate_per_s": %d, "sent": %d, )"
                   R"("received": %d, "lost": %d, "p50_ms": %s, "p99_ms": %s, "max_ms": %s, )"
                   R"("max_send_lag_ms": %s, "stream_error": %s, "p99_minus_floor_p99_ms": %s}, )"
                   R"("disk_floor": %s, "submit": %s, )"
                   R"("echo": %s, )"
                   R"("concurrency": %d, "channels": %d, "warmup_s": %g, "duration_s": %g, )"
                   R"("message_bytes": %d, "listing_id": %s, )"
                   R"("server": %s, "machine": {"cpus": %d}})",
                   config.rate, delivery.sent, delivery.received, delivery.sent - delivery.received,
                   MillisJson(delivery.latencies.Percentile(0.50)), MillisJson(delivery_p99),
                   MillisJson(delivery.latencies.Percentile(1.0)), MillisJson(submit.max_start_lag),
                   StreamErrorJson(stream_status), MillisJson(over_floor),
                   DiskFloorJson(floor_dir, floor_fs, config.floor_commit_bytes, floor),
                   LoadResultJson(submit.calls), LoadResultJson(*echo), config.concurrency,
                   config.channels, absl::ToDoubleSeconds(config.warmup),
                   absl::ToDoubleSeconds(config.duration), message_bytes,
                   JsonString(provider->listing_id), server_json, AvailableCpus())
            << std::endl;
  return 0;
}

}  // namespace intake::bench
