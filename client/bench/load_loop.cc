#include "client/bench/load_loop.h"

#include <array>
#include <atomic>
#include <chrono>
#include <vector>

#include "absl/synchronization/notification.h"

namespace intake::bench {
namespace {

using Clock = std::chrono::steady_clock;

// grpc::StatusCode runs from OK (0) to UNAUTHENTICATED (16).
constexpr int kStatusCodes = grpc::StatusCode::UNAUTHENTICATED + 1;

// One run of the loop. Each lane's state is touched only by the call chain of that lane (one
// call at a time, ordered by gRPC's start-to-completion guarantees) and, once every lane has
// stopped, by the thread that merges them; so no lock is needed on the hot path.
class ClosedLoop {
 public:
  ClosedLoop(const LoadOptions& options, const CallStarter& start_call)
      : options_(options), start_call_(start_call), lanes_(options.concurrency) {}

  LoadResult Run() {
    const Clock::time_point begin = Clock::now();
    measure_start_ = begin + absl::ToChronoNanoseconds(options_.warmup);
    measure_end_ = measure_start_ + absl::ToChronoNanoseconds(options_.duration);
    lanes_running_.store(static_cast<int>(lanes_.size()));
    for (int lane = 0; lane < static_cast<int>(lanes_.size()); ++lane) Start(lane);
    all_stopped_.WaitForNotification();

    LoadResult result;
    result.measured = options_.duration;
    result.started = next_call_.load();
    for (const Lane& lane : lanes_) {
      result.ok += lane.codes[grpc::StatusCode::OK];
      for (int code = 1; code < kStatusCodes; ++code) {
        if (lane.codes[code] != 0) {
          result.errors[static_cast<grpc::StatusCode>(code)] += lane.codes[code];
        }
      }
      result.ok_latencies.Merge(lane.latencies);
    }
    return result;
  }

 private:
  // Cache-line aligned so that lanes completing on different threads do not share a line.
  struct alignas(64) Lane {
    Clock::time_point started;
    std::array<uint64_t, kStatusCodes> codes{};
    LatencySamples latencies;
  };

  void Start(int lane) {
    lanes_[lane].started = Clock::now();
    start_call_(lane, next_call_.fetch_add(1, std::memory_order_relaxed),
                [this, lane](grpc::StatusCode code) { Finish(lane, code); });
  }

  void Finish(int lane_index, grpc::StatusCode code) {
    const Clock::time_point now = Clock::now();
    Lane& lane = lanes_[lane_index];
    if (now >= measure_start_ && now <= measure_end_) {
      // A code outside the enum (a broken peer) is counted as UNKNOWN.
      const int slot = code >= 0 && code < kStatusCodes ? code : grpc::StatusCode::UNKNOWN;
      ++lane.codes[slot];
      if (code == grpc::StatusCode::OK) lane.latencies.Record(absl::FromChrono(now - lane.started));
    }
    if (now < measure_end_) {
      Start(lane_index);
      return;
    }
    if (lanes_running_.fetch_sub(1, std::memory_order_acq_rel) == 1) all_stopped_.Notify();
  }

  const LoadOptions options_;
  const CallStarter& start_call_;
  Clock::time_point measure_start_;
  Clock::time_point measure_end_;
  std::vector<Lane> lanes_;
  std::atomic<uint64_t> next_call_{0};
  std::atomic<int> lanes_running_{0};
  absl::Notification all_stopped_;
};

}  // namespace

double LoadResult::ok_per_second() const {
  const double seconds = absl::ToDoubleSeconds(measured);
  return seconds > 0 ? static_cast<double>(ok) / seconds : 0;
}

uint64_t LoadResult::error_count() const {
  uint64_t n = 0;
  for (const auto& [code, count] : errors) n += count;
  return n;
}

LoadResult RunClosedLoop(const LoadOptions& options, const CallStarter& start_call) {
  ClosedLoop loop(options, start_call);
  return loop.Run();
}

}  // namespace intake::bench
