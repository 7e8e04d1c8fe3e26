#include "server/api/response_figures_cache.h"

#include <utility>
#include <vector>

namespace intake::api {

absl::StatusOr<std::shared_ptr<const ResponseFiguresCache::Snapshot>>
ResponseFiguresCache::Compute() {
  const absl::Time now = clock_.Now();
  absl::StatusOr<std::vector<store::LeadTimes>> leads = store_.LeadTimesSince(now - policy_.window);
  if (!leads.ok()) return leads.status();
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->computed = now;
  absl::flat_hash_map<std::string, std::vector<ResponseSample>> samples;
  std::vector<ResponseSample> all;
  for (const store::LeadTimes& lead : *leads) {
    if (lead.provider_id.empty()) continue;  // Unassigned: nobody's response to measure.
    const ResponseSample sample{lead.create_time, lead.first_contact_time};
    samples[lead.provider_id].push_back(sample);
    all.push_back(sample);
    ProviderFigures& p = snapshot->providers[lead.provider_id];
    ++p.assigned;
    if (lead.acknowledge_time) ++p.acknowledged;
    if (lead.first_contact_time) ++p.contacted;
  }
  for (auto& [provider_id, provider_samples] : samples) {
    snapshot->providers[provider_id].figures =
        ComputeResponseFigures(provider_samples, policy_, now);
  }
  snapshot->general = ComputeResponseFigures(all, policy_, now);
  snapshot->no_leads = ComputeResponseFigures({}, policy_, now);
  std::string after;
  do {
    absl::StatusOr<store::Page<Listing>> page = store_.ListListings(1000, after, "");
    if (!page.ok()) return page.status();
    for (const Listing& l : page->items) snapshot->listing_owner[l.listing_id] = l.provider_id;
    after = page->next_after;
  } while (!after.empty());
  {
    absl::MutexLock lock(&mu_);
    snapshot_ = snapshot;
  }
  return snapshot;
}

absl::StatusOr<std::shared_ptr<const ResponseFiguresCache::Snapshot>>
ResponseFiguresCache::Fresh() {
  // One computation at a time: callers queued behind it get its result.
  absl::MutexLock computing(&compute_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (snapshot_ != nullptr && !stale_ && clock_.Now() - snapshot_->computed < max_age_) {
      return snapshot_;
    }
  }
  stale_ = false;  // Before computing: a change during the computation marks it stale again.
  return Compute();
}

std::shared_ptr<const ResponseFiguresCache::Snapshot> ResponseFiguresCache::Latest() {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

const ResponseFigures* ResponseFiguresCache::ForTarget(const Snapshot& snapshot,
                                                       const std::string& listing_id) {
  if (listing_id.empty()) return &snapshot.general;
  auto owner = snapshot.listing_owner.find(listing_id);
  if (owner == snapshot.listing_owner.end()) return nullptr;
  return &ForProvider(snapshot, owner->second);
}

const ResponseFigures& ResponseFiguresCache::ForProvider(const Snapshot& snapshot,
                                                         const std::string& provider_id) {
  auto provider = snapshot.providers.find(provider_id);
  return provider == snapshot.providers.end() ? snapshot.no_leads : provider->second.figures;
}

}  // namespace intake::api
