#include "server/store/disclosure_queue.h"

#include <algorithm>
#include <iostream>

namespace intake::store {

bool DisclosureQueue::Add(const Key& key, DisclosureChannel channel, absl::Time time) {
  absl::MutexLock lock(&mu_);
  if (auto it = pending_.find(key); it != pending_.end()) {
    if (time < it->second.time) it->second = Pending{channel, time};
    return false;
  }
  if (pending_.size() >= kMaxPending) {
    dropped_.fetch_add(1);
    if (!std::exchange(drop_logged_, true)) {
      // Counts only: nothing that names the caller.
      std::cerr << "intaked: " << kMaxPending
                << " disclosure records are waiting for the database writer, which is behind "
                   "or failing; new ones are dropped (intake_disclosures_dropped_total) until "
                   "it catches up\n";
    }
    return false;
  }
  pending_.emplace(key, Pending{channel, time});
  return !std::exchange(write_queued_, true);
}

std::vector<DisclosureQueue::Entry> DisclosureQueue::Take() {
  std::vector<Entry> taken;
  absl::MutexLock lock(&mu_);
  write_queued_ = false;
  taken.reserve(std::min(pending_.size(), kPerWrite));
  for (auto it = pending_.begin(); it != pending_.end() && taken.size() < kPerWrite;) {
    taken.emplace_back(it->first, it->second);
    pending_.erase(it++);
  }
  return taken;
}

bool DisclosureQueue::Written(const absl::Status& status, const std::vector<Entry>& taken) {
  absl::MutexLock lock(&mu_);
  if (!status.ok()) {
    // Back in the queue, keeping the earliest of a key; they were counted in its bound.
    for (const auto& [key, disclosure] : taken) {
      auto [it, inserted] = pending_.emplace(key, disclosure);
      if (!inserted && disclosure.time < it->second.time) it->second = disclosure;
    }
    write_queued_ = false;
    return false;
  }
  drop_logged_ = false;
  return !pending_.empty() && !std::exchange(write_queued_, true);
}

}  // namespace intake::store
