#include "server/store/retention_sweeper.h"

#include <algorithm>
#include <utility>

namespace intake::store {

RetentionSweeper::RetentionSweeper(Storage* storage, const Clock* clock, Options options)
    : storage_(*storage), clock_(*clock), options_(std::move(options)) {}

RetentionSweeper::~RetentionSweeper() { Stop(); }

template <typename Step>
bool RetentionSweeper::Drain(const Step& step, int64_t* total, Sweep* sweep) {
  while (true) {
    absl::StatusOr<SweepStep> done = step();
    if (!done.ok()) {
      sweep->status = done.status();
      return false;
    }
    ++sweep->steps;
    *total += done->count;
    sweep->longest_hold = std::max(sweep->longest_hold, done->held);
    sweep->total_hold += done->held;
    if (done->count < options_.step_rows) return true;
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.pause)) return false;
  }
}

RetentionSweeper::Sweep RetentionSweeper::SweepOnce() {
  Sweep sweep;
  bool finished = true;
  if (options_.pii_retention > absl::ZeroDuration()) {
    const absl::Time cutoff = clock_.Now() - options_.pii_retention;
    finished = Drain([&] { return storage_.EraseDataSubmittedBefore(cutoff, options_.step_rows); },
                     &sweep.erased_leads, &sweep);
  }
  if (finished) {
    Drain([&] { return storage_.DeleteExpiredQuarantine(options_.step_rows); },
          &sweep.deleted_quarantined, &sweep);
  }
  if (sweep.erased_leads + sweep.deleted_quarantined > 0) {
    absl::Status cleared = storage_.ClearOldCopies();
    if (sweep.status.ok()) sweep.status = std::move(cleared);
  }
  return sweep;
}

void RetentionSweeper::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void RetentionSweeper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void RetentionSweeper::Loop() {
  while (true) {
    const Sweep sweep = SweepOnce();
    const bool did_something = sweep.erased_leads + sweep.deleted_quarantined > 0;
    if ((did_something || !sweep.status.ok()) && options_.on_sweep) options_.on_sweep(sweep);
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval)) return;
  }
}

}  // namespace intake::store
