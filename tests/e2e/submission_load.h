// Load for fault tests: lanes that submit new leads one after another against a real intaked,
// remembering every submission it acknowledged, and the check that a database holds each of
// those exactly once.
#ifndef INTAKE_TESTS_E2E_SUBMISSION_LOAD_H_
#define INTAKE_TESTS_E2E_SUBMISSION_LOAD_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/bench/synthetic_submissions.h"
#include "grpcpp/support/status.h"

namespace intake::testing {

// request_id -> submission_id of every submission a server answered OK.
using Acknowledged = std::map<std::string, std::string>;

class SubmissionLoad {
 public:
  // Starts `lanes` threads, each with its own connection to `address`, each submitting a new
  // lead (distinct caller, request_id "bench-<run_tag>-<n>") as soon as its last call ended,
  // until Stop(). `run_tag`: 16 characters of [a-z0-9], different for every load on one
  // database. Calls have a 5 s deadline; after a failed call a lane waits 10 ms.
  SubmissionLoad(const std::string& address, int lanes, const std::string& run_tag);
  // Stops the lanes.
  ~SubmissionLoad();
  SubmissionLoad(const SubmissionLoad&) = delete;
  SubmissionLoad& operator=(const SubmissionLoad&) = delete;

  // Waits for every lane's call in flight to end, and stops them. Repeating it does nothing.
  void Stop();

  // Waits until at least `n` submissions were acknowledged in all; false at `timeout`.
  bool WaitForAcknowledged(int64_t n, absl::Duration timeout) const;
  // Waits until at least `n` calls ended with `code`; false at `timeout`.
  bool WaitForCode(grpc::StatusCode code, int64_t n, absl::Duration timeout) const;

  Acknowledged acknowledged() const;
  // How many calls ended with each non-OK code.
  std::map<grpc::StatusCode, int64_t> failures() const;

 private:
  void Lane(const std::string& address);

  const bench::SyntheticSubmissions submissions_;
  std::atomic<uint64_t> next_call_{0};
  std::atomic<bool> stopping_{false};
  mutable absl::Mutex mu_;
  Acknowledged acknowledged_ ABSL_GUARDED_BY(mu_);
  std::map<grpc::StatusCode, int64_t> failures_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> lanes_;
};

// Checks the SQLite database at `db` (of a stopped or running intaked): PRAGMA integrity_check
// says ok, and every acknowledged submission is stored exactly once (adds test failures).
void ExpectIntactWithEveryAcknowledged(const std::string& db, const Acknowledged& acknowledged);

}  // namespace intake::testing

#endif  // INTAKE_TESTS_E2E_SUBMISSION_LOAD_H_
