// Retention in the background: the personal data of leads last submitted longer ago than
// --pii_retention is erased (as EraseCaller erases it, events included), and quarantined
// submissions are deleted once expired. In small steps, each one transaction of a few rows,
// with a rest between them, so that a sweep never holds the writer for more than a few
// milliseconds and submissions keep most of it meanwhile.
#ifndef INTAKE_SERVER_STORE_RETENTION_SWEEPER_H_
#define INTAKE_SERVER_STORE_RETENTION_SWEEPER_H_

#include <cstdint>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/clock.h"
#include "server/store/storage.h"

namespace intake::store {

class RetentionSweeper {
 public:
  // What one sweep did.
  struct Sweep {
    int64_t erased_leads = 0;
    int64_t deleted_quarantined = 0;
    int steps = 0;
    // The longest time one step held the writer, and the time all steps held it together.
    absl::Duration longest_hold;
    absl::Duration total_hold;
    // The first failure; the sweep stops at it and the next one starts over.
    absl::Status status;
  };

  struct Options {
    // Leads last submitted longer ago than this lose their personal data. Zero: never.
    absl::Duration pii_retention = absl::Hours(24 * 90);
    // How often the background thread sweeps (it also sweeps as it starts).
    absl::Duration interval = absl::Minutes(1);
    // Rows per step (one transaction each).
    int step_rows = 32;
    // Rest between steps, in which the writer serves everyone else.
    absl::Duration pause = absl::Milliseconds(20);
    // Told of each background sweep that erased or deleted anything, or failed. Runs on the
    // sweeper's thread.
    std::function<void(const Sweep&)> on_sweep;
  };

  // Neither is owned; both must outlive the sweeper. `clock` should be the store's.
  RetentionSweeper(Storage* storage, const Clock* clock, Options options);
  // Stop().
  ~RetentionSweeper();
  RetentionSweeper(const RetentionSweeper&) = delete;
  RetentionSweeper& operator=(const RetentionSweeper&) = delete;

  // Sweeps once on the calling thread, until nothing is due: erases the data of the leads
  // last submitted before now - pii_retention, deletes the expired quarantined submissions,
  // step by step, and then, if anything went, clears the old copies of it
  // (Storage::ClearOldCopies). Blocks. Thread-compatible: not while the background thread
  // runs.
  Sweep SweepOnce() ABSL_LOCKS_EXCLUDED(mu_);

  // Sweeps on a thread of its own now and every `interval` until Stop.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the background thread after the step in progress. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Runs `step` until it reports fewer than step_rows rows; false if it failed or the sweeper
  // is stopping.
  template <typename Step>
  bool Drain(const Step& step, int64_t* total, Sweep* sweep) ABSL_LOCKS_EXCLUDED(mu_);
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  Storage& storage_;
  const Clock& clock_;
  const Options options_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_RETENTION_SWEEPER_H_
