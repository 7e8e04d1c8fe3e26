#include "server/store/recent_events.h"

#include <algorithm>
#include <utility>

namespace intake::store {

void RecentEvents::PopOldest() {
  Kept& oldest = kept_.front();
  // The map's reference and this one: no other kept event needs the lead.
  if (oldest.lead.use_count() == 2) leads_.erase(oldest.event.lead_id);
  begin_ = oldest.event.sequence;
  kept_.pop_front();
}

void RecentEvents::Append(uint64_t from, uint64_t to, std::vector<EventWithLead> events) {
  absl::MutexLock lock(&mu_);
  if (!valid_ || from != end_ || to < from) {
    kept_.clear();
    leads_.clear();
    valid_ = to >= from;
    begin_ = from;
  }
  end_ = to;
  for (EventWithLead& item : events) {
    std::shared_ptr<std::optional<Lead>>& lead = leads_[item.event.lead_id];
    if (lead == nullptr) {
      lead = std::make_shared<std::optional<Lead>>(std::move(item.lead));
    } else {
      *lead = std::move(item.lead);
    }
    kept_.push_back(Kept{std::move(item.event), lead});
  }
  while (kept_.size() > capacity_) PopOldest();
}

bool RecentEvents::Holds(absl::string_view lead_id) const {
  absl::MutexLock lock(&mu_);
  return leads_.contains(lead_id);
}

void RecentEvents::Refresh(Lead lead) {
  absl::MutexLock lock(&mu_);
  if (auto it = leads_.find(lead.lead_id); it != leads_.end()) *it->second = std::move(lead);
}

void RecentEvents::Clear() {
  absl::MutexLock lock(&mu_);
  valid_ = false;
  kept_.clear();
  leads_.clear();
}

std::optional<RecentRead> RecentEvents::Read(uint64_t after, absl::string_view provider_id,
                                             int limit, uint64_t up_to) const {
  absl::MutexLock lock(&mu_);
  if (!valid_ || after < begin_ || after > end_) return std::nullopt;
  const uint64_t last = std::max(after, std::min(end_, up_to));
  RecentRead read;
  read.through = limit > 0 ? last : after;
  auto it = std::upper_bound(kept_.begin(), kept_.end(), after,
                             [](uint64_t s, const Kept& k) { return s < k.event.sequence; });
  for (; it != kept_.end() && it->event.sequence <= last; ++it) {
    if (!provider_id.empty() && it->event.provider_id != provider_id) continue;
    if (static_cast<int>(read.events.size()) >= limit) {
      if (!read.events.empty()) read.through = read.events.back().event.sequence;
      break;
    }
    EventWithLead& item = read.events.emplace_back(EventWithLead{it->event, std::nullopt});
    if (const std::optional<Lead>& lead = *it->lead; lead) {
      if (LeadVisibleTo(lead->provider_id, provider_id)) {
        item.lead = *lead;
      } else {
        Lead gone;  // No longer this provider's: the id only, never its data.
        gone.lead_id = lead->lead_id;
        item.lead = std::move(gone);
      }
    }
  }
  return read;
}

}  // namespace intake::store
