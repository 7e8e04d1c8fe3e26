#include "client/intakectl/interrupt_watcher.h"

#include <pthread.h>
#include <unistd.h>

namespace intake::ctl {

InterruptWatcher::InterruptWatcher() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGUSR1);  // The destructor's wake-up.
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
  thread_ = std::thread([this] { Run(); });
}

InterruptWatcher::~InterruptWatcher() {
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
}

bool InterruptWatcher::SetCurrentCall(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  if (stop_.HasBeenNotified() && context != nullptr) return false;
  current_ = context;
  return true;
}

void InterruptWatcher::Run() {
  while (true) {
    int signal = 0;
    if (sigwait(&signals_, &signal) != 0) continue;
    if (signal == SIGUSR1) return;
    if (stop_.HasBeenNotified()) _exit(128 + signal);  // Asked twice: stop now.
    absl::MutexLock lock(&mu_);
    stop_.Notify();
    if (current_ != nullptr) current_->TryCancel();
  }
}

}  // namespace intake::ctl
