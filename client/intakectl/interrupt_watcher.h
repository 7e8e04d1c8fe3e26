// Turns SIGINT and SIGTERM into a clean stop for a command that runs until interrupted
// (`leads tail`): the call in progress is cancelled and the command returns normally. The
// signals are blocked in every thread and taken by sigwait() on a thread of its own, so no code
// runs in a signal handler.
#ifndef INTAKE_CLIENT_INTAKECTL_INTERRUPT_WATCHER_H_
#define INTAKE_CLIENT_INTAKECTL_INTERRUPT_WATCHER_H_

#include <signal.h>

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"

namespace intake::ctl {

class InterruptWatcher {
 public:
  // Blocks SIGINT, SIGTERM and SIGUSR1 in the calling thread and starts the watching thread.
  // Create it before the first gRPC object, so that gRPC's threads inherit the blocked signals.
  // A second interrupt ends the process at once (exit 128 + signal).
  InterruptWatcher();
  // Stops the watching thread (with SIGUSR1).
  ~InterruptWatcher();

  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

  bool interrupted() const { return stop_.HasBeenNotified(); }

  // Sleeps for `duration`, or less if interrupted meanwhile.
  void SleepFor(absl::Duration duration) { stop_.WaitForNotificationWithTimeout(duration); }

  // Makes `context` the call to cancel on interrupt (nullptr: none). Returns false, registering
  // nothing, once interrupted. `context` must outlive its registration. Thread-safe.
  bool SetCurrentCall(grpc::ClientContext* context) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  sigset_t signals_;
  absl::Notification stop_;
  absl::Mutex mu_;
  grpc::ClientContext* current_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_INTERRUPT_WATCHER_H_
