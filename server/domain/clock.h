// server/domain: Intake's rules as pure C++ (validation, dedup keys, routing, stats), with
// no gRPC, protobuf or SQLite. This header holds the clock every rule reads time from.
#ifndef INTAKE_SERVER_DOMAIN_CLOCK_H_
#define INTAKE_SERVER_DOMAIN_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace intake {

// The source of "now". Injected everywhere time matters so tests can control it; nothing in
// Intake calls absl::Now() directly except SystemClock. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The real clock.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }

  // A process-wide instance; SystemClock has no state, so sharing it is safe.
  static const Clock& Get() {
    static const SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'767'225'600))  // 2026-01-01Z
      : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace intake

#endif  // INTAKE_SERVER_DOMAIN_CLOCK_H_
