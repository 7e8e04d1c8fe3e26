// Threads on which RPC handlers may block (on SQLite), so that gRPC's own threads never do.
#ifndef INTAKE_SERVER_API_BLOCKING_EXECUTOR_H_
#define INTAKE_SERVER_API_BLOCKING_EXECUTOR_H_

#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace intake::api {

// A fixed pool of threads running queued tasks in order of arrival. Thread-safe.
class BlockingExecutor {
 public:
  explicit BlockingExecutor(int threads);
  // Shutdown().
  ~BlockingExecutor();
  BlockingExecutor(const BlockingExecutor&) = delete;
  BlockingExecutor& operator=(const BlockingExecutor&) = delete;

  // Queues `task`; after Shutdown it is dropped.
  void Run(absl::AnyInvocable<void() &&> task) ABSL_LOCKS_EXCLUDED(mu_);

  // Runs every task already queued, then joins the threads. Idempotent. Owners call it
  // before destroying what the tasks use.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || !tasks_.empty();
  }
  void Loop();

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool threads_stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_BLOCKING_EXECUTOR_H_
