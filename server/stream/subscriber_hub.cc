#include "server/stream/subscriber_hub.h"

#include <utility>
#include <vector>

namespace intake::stream {

void SubscriberHub::TakeDue(WaiterMap& waiters, uint64_t head, std::vector<Wakeup>& due) {
  for (auto it = waiters.begin(); it != waiters.end();) {
    if (it->second.cursor < head) {
      due.push_back(std::move(it->second.wakeup));
      topic_of_.erase(it->first);
      it = waiters.erase(it);
    } else {
      ++it;
    }
  }
}

void SubscriberHub::Notify(uint64_t head, absl::Span<const std::string> topics) {
  std::vector<Wakeup> due;
  {
    absl::MutexLock lock(&mu_);
    if (head <= head_) return;
    head_ = head;
    if (auto all = waiters_.find(kAllEvents); all != waiters_.end()) {
      TakeDue(all->second, head, due);
    }
    for (const std::string& topic : topics) {
      if (topic == kAllEvents) continue;
      topic_head_[topic] = head;
      if (auto it = waiters_.find(topic); it != waiters_.end()) TakeDue(it->second, head, due);
    }
  }
  for (Wakeup& wakeup : due) std::move(wakeup)();
}

uint64_t SubscriberHub::head() const {
  absl::MutexLock lock(&mu_);
  return head_;
}

std::optional<SubscriberHub::WaitId> SubscriberHub::Register(uint64_t cursor,
                                                             absl::string_view topic,
                                                             Wakeup& wakeup) {
  absl::MutexLock lock(&mu_);
  uint64_t topic_head = head_;
  if (topic != kAllEvents) {
    auto it = topic_head_.find(topic);
    topic_head = it == topic_head_.end() ? 0 : it->second;
  }
  if (closed_ || cursor < topic_head) return std::nullopt;
  const WaitId id = next_id_++;
  waiters_[topic].emplace(id, Waiter{cursor, std::move(wakeup)});
  topic_of_.emplace(id, std::string(topic));
  return id;
}

SubscriberHub::WaitId SubscriberHub::WaitBeyond(uint64_t cursor, absl::string_view topic,
                                                Wakeup wakeup) {
  if (std::optional<WaitId> id = Register(cursor, topic, wakeup)) return *id;
  std::move(wakeup)();
  return 0;  // No wait of this id: Cancel returns false.
}

std::optional<SubscriberHub::WaitId> SubscriberHub::WaitBeyondLater(uint64_t cursor,
                                                                    absl::string_view topic,
                                                                    Wakeup wakeup) {
  return Register(cursor, topic, wakeup);
}

bool SubscriberHub::Cancel(WaitId id) {
  absl::MutexLock lock(&mu_);
  auto it = topic_of_.find(id);
  if (it == topic_of_.end()) return false;
  auto topic = waiters_.find(it->second);
  if (topic != waiters_.end()) {
    topic->second.erase(id);
    if (topic->second.empty()) waiters_.erase(topic);
  }
  topic_of_.erase(it);
  return true;
}

void SubscriberHub::Close() {
  std::vector<Wakeup> due;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    for (auto& [topic, waiters] : waiters_) {
      for (auto& [id, waiter] : waiters) due.push_back(std::move(waiter.wakeup));
    }
    waiters_.clear();
    topic_of_.clear();
  }
  for (Wakeup& wakeup : due) std::move(wakeup)();
}

size_t SubscriberHub::waiting() const {
  absl::MutexLock lock(&mu_);
  return topic_of_.size();
}

}  // namespace intake::stream
