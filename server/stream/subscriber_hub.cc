#include "server/stream/subscriber_hub.h"

#include <utility>
#include <vector>

namespace intake::stream {

void SubscriberHub::Notify(uint64_t head) {
  std::vector<Wakeup> due;
  {
    absl::MutexLock lock(&mu_);
    if (head <= head_) return;
    head_ = head;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.cursor < head) {
        due.push_back(std::move(it->second.wakeup));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Wakeup& wakeup : due) std::move(wakeup)();
}

uint64_t SubscriberHub::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

SubscriberHub::WaitId SubscriberHub::WaitBeyond(uint64_t cursor, Wakeup wakeup) {
  WaitId id;
  {
    absl::MutexLock lock(&mu_);
    id = next_id_++;
    if (!closed_ && cursor >= head_) {
      waiters_.emplace(id, Waiter{cursor, std::move(wakeup)});
      return id;
    }
  }
  std::move(wakeup)();
  return id;
}

bool SubscriberHub::Cancel(WaitId id) {
  absl::MutexLock lock(&mu_);
  return waiters_.erase(id) > 0;
}

void SubscriberHub::Close() {
  std::map<WaitId, Waiter> due;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    due.swap(waiters_);
  }
  for (auto& [id, waiter] : due) std::move(waiter.wakeup)();
}

size_t SubscriberHub::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiters_.size();
}

}  // namespace intake::stream
