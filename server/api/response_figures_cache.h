// Response figures for every provider, the general helpline and each listing, computed from
// the store at most every `max_age`, so asking often costs a map look-up, and kept fresh in the
// background so that the intake path, which never computes, shows current figures.
#ifndef INTAKE_SERVER_API_RESPONSE_FIGURES_CACHE_H_
#define INTAKE_SERVER_API_RESPONSE_FIGURES_CACHE_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/clock.h"
#include "server/domain/response_stats.h"
#include "server/store/storage.h"

namespace intake::api {

class ResponseFiguresCache {
 public:
  struct ProviderFigures {
    ResponseFigures figures;
    // Leads assigned in the window, and how many of them were acknowledged and contacted.
    uint32_t assigned = 0;
    uint32_t acknowledged = 0;
    uint32_t contacted = 0;
  };
  struct Snapshot {
    absl::Time computed;
    ResponseFigures general;   // All providers together: the general helpline.
    ResponseFigures no_leads;  // For a provider with no lead in the window.
    absl::flat_hash_map<std::string, ProviderFigures> providers;
    absl::flat_hash_map<std::string, std::string> listing_owner;
  };

  // The refresher's share of its thread's time, at most: a computation scans every lead in
  // the window, so its cost grows with the window's leads, and scans back to back would take
  // a core.
  static constexpr double kMaxWorkShare = 0.1;
  // The leads a computation reads at a time: each page a short read of its own.
  static constexpr int kScanPage = 4096;

  // Neither is owned; both must outlive the cache. `max_work_share` (in (0, 1]) is for tests.
  ResponseFiguresCache(store::Storage* store, const Clock* clock, ResponsePolicy policy,
                       absl::Duration max_age, double max_work_share = kMaxWorkShare)
      : store_(*store),
        clock_(*clock),
        policy_(policy),
        max_age_(max_age),
        max_work_share_(max_work_share) {}
  // Stops refreshing (see StopRefreshing).
  ~ResponseFiguresCache();
  ResponseFiguresCache(const ResponseFiguresCache&) = delete;
  ResponseFiguresCache& operator=(const ResponseFiguresCache&) = delete;

  // A snapshot at most max_age old, computing one now if needed. Blocks on SQLite: for
  // executor threads. Thread-safe.
  absl::StatusOr<std::shared_ptr<const Snapshot>> Fresh() ABSL_LOCKS_EXCLUDED(mu_);

  // Marks the snapshot stale: the next Fresh computes anew, and the refresher soon. Called
  // after changes the figures must show at once (a contact attempt, a reassignment).
  // Thread-safe.
  void Invalidate() ABSL_LOCKS_EXCLUDED(mu_);

  // The latest snapshot, possibly stale or null, without blocking or computing: for the
  // intake path, which must never pay for (or trigger) a scan of the window. With the
  // refresher running it is at most about max_age old, and follows an Invalidate() within
  // about a second (both longer when a computation takes long: see StartRefreshing).
  // Thread-safe.
  std::shared_ptr<const Snapshot> Latest() ABSL_LOCKS_EXCLUDED(mu_);

  // Computes a snapshot (before returning, so Latest() has one from then on), then starts the
  // refresher: a thread of its own that computes again whenever the snapshot is max_age old
  // or Invalidate() was called, but never sooner than a second (at most max_age) after its
  // previous computation, so a stream of contact attempts costs one scan a second at most,
  // nor sooner than keeps its computing within kMaxWorkShare of its time (after a scan of
  // 100 ms, 900 ms later), so a window of millions of leads costs a bounded share of a core
  // and its figures age past max_age instead. A failed computation (the database busy) keeps the
  // previous snapshot and is tried again at the next turn. Call at most once.
  void StartRefreshing() ABSL_LOCKS_EXCLUDED(mu_);
  // Stops the refresher, waiting for a computation in progress. Idempotent; also done by the
  // destructor.
  void StopRefreshing() ABSL_LOCKS_EXCLUDED(mu_);

  // The figures for a submission's target: its listing's provider, or the general helpline
  // for an empty listing_id; nullptr if `snapshot` does not know the listing.
  static const ResponseFigures* ForTarget(const Snapshot& snapshot, const std::string& listing_id);
  // The figures of one provider (those of no leads if it had none in the window).
  static const ResponseFigures& ForProvider(const Snapshot& snapshot,
                                            const std::string& provider_id);

 private:
  absl::StatusOr<std::shared_ptr<const Snapshot>> Compute();
  void RefreshLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits for the refresher's next computation to be due; false once it must stop.
  bool AwaitNextTurn() ABSL_LOCKS_EXCLUDED(mu_);
  bool StaleOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stale_ || stopping_; }

  store::Storage& store_;
  const Clock& clock_;
  const ResponsePolicy policy_;
  const absl::Duration max_age_;
  const double max_work_share_;
  absl::Mutex compute_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // Held while computing.
  absl::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
  bool stale_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // How long the last computation took, in real time.
  absl::Duration last_compute_ ABSL_GUARDED_BY(mu_);
  std::thread refresher_;
};

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_RESPONSE_FIGURES_CACHE_H_
