#include "server/api/response_figures_cache.h"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "server/domain/status_macros.h"

namespace intake::api {

absl::StatusOr<std::shared_ptr<const ResponseFiguresCache::Snapshot>>
ResponseFiguresCache::Compute() {
  // The computation's cost paces the refresher: real time, not the injected Clock.
  const auto start = std::chrono::steady_clock::now();
  const absl::Time now = clock_.Now();
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->computed = now;
  // Each provider's counts and samples: one look-up per lead.
  struct Gathered {
    ProviderFigures counts;
    std::vector<ResponseSample> samples;
  };
  absl::flat_hash_map<std::string, Gathered> gathered;
  std::vector<ResponseSample> all;
  std::string after;
  do {
    absl::StatusOr<store::Page<store::LeadTimes>> page =
        store_.ListLeadTimesSince(now - policy_.window, kScanPage, after);
    if (!page.ok()) return page.status();
    for (const store::LeadTimes& lead : page->items) {
      if (lead.provider_id.empty()) continue;  // Unassigned: nobody's response to measure.
      Gathered& provider = gathered[lead.provider_id];
      const ResponseSample sample{lead.create_time, lead.first_contact_time};
      provider.samples.push_back(sample);
      all.push_back(sample);
      ++provider.counts.assigned;
      if (lead.acknowledge_time) ++provider.counts.acknowledged;
      if (lead.first_contact_time) ++provider.counts.contacted;
    }
    after = std::move(page->next_after);
  } while (!after.empty());
  for (auto& [provider_id, provider] : gathered) {
    provider.counts.figures = ComputeResponseFigures(provider.samples, policy_, now);
    snapshot->providers.emplace(provider_id, provider.counts);
  }
  snapshot->general = ComputeResponseFigures(all, policy_, now);
  snapshot->no_leads = ComputeResponseFigures({}, policy_, now);
  do {
    absl::StatusOr<store::Page<Listing>> page = store_.ListListings(1000, after, "");
    if (!page.ok()) return page.status();
    for (const Listing& l : page->items) snapshot->listing_owner[l.listing_id] = l.provider_id;
    after = page->next_after;
  } while (!after.empty());
  {
    absl::MutexLock lock(&mu_);
    snapshot_ = snapshot;
    last_compute_ = absl::FromChrono(std::chrono::steady_clock::now() - start);
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
    stale_ = false;  // Before computing: a change during the computation marks it stale again.
  }
  return Compute();
}

void ResponseFiguresCache::Invalidate() {
  absl::MutexLock lock(&mu_);
  stale_ = true;
}

ResponseFiguresCache::~ResponseFiguresCache() { StopRefreshing(); }

void ResponseFiguresCache::StartRefreshing() {
  (void)Fresh();  // Here, so that replies carry figures from the first one on.
  refresher_ = std::thread([this] { RefreshLoop(); });
}

void ResponseFiguresCache::StopRefreshing() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (refresher_.joinable()) refresher_.join();
}

void ResponseFiguresCache::RefreshLoop() {
  // On failure the previous snapshot stays; the next turn tries again.
  while (AwaitNextTurn()) (void)Fresh();
}

bool ResponseFiguresCache::AwaitNextTurn() {
  absl::MutexLock lock(&mu_);
  const absl::Duration gap = std::max(std::min(absl::Seconds(1), max_age_),
                                      last_compute_ * ((1 - max_work_share_) / max_work_share_));
  // When the snapshot (the refresher's, or one a Fresh() caller made) reaches max_age.
  const absl::Duration due =
      snapshot_ == nullptr ? gap : max_age_ - (clock_.Now() - snapshot_->computed);
  // A quiet gap first, then until the snapshot is due or stale. The waits are in real time:
  // they pace work and measure nothing.
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), gap);
  if (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(this, &ResponseFiguresCache::StaleOrStopping), due - gap);
  }
  return !stopping_;
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
