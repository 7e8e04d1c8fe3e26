// The records of the accounting of disclosures waiting in memory for a backend's writer, so
// that noting one never waits for the database: merged by (lead, provider, token), bounded,
// taken a write's worth at a time and given back if that write fails. Both backends use it.
#ifndef INTAKE_SERVER_STORE_DISCLOSURE_QUEUE_H_
#define INTAKE_SERVER_STORE_DISCLOSURE_QUEUE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/domain/disclosure.h"

namespace intake::store {

class DisclosureQueue {
 public:
  struct Key {
    std::string lead_id, provider_id, token_id;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.lead_id, k.provider_id, k.token_id);
    }
    friend bool operator==(const Key& a, const Key& b) {
      return a.lead_id == b.lead_id && a.provider_id == b.provider_id && a.token_id == b.token_id;
    }
  };
  struct Pending {
    DisclosureChannel channel;
    absl::Time time;
  };
  using Entry = std::pair<Key, Pending>;

  // At most this many wait: past it (the writer failing or far behind) a new record is
  // dropped, counted and logged once per run of drops.
  static constexpr size_t kMaxPending = 50000;
  // A write takes at most this many, so that it holds the writer for about a millisecond.
  static constexpr size_t kPerWrite = 256;

  // Notes a record (keeping the earliest of a key). True if the caller must queue a write
  // that will Take: none is queued yet.
  bool Add(const Key& key, DisclosureChannel channel, absl::Time time) ABSL_LOCKS_EXCLUDED(mu_);
  // Up to kPerWrite of the waiting records, out of the queue; records noted from now on need
  // a write of their own.
  std::vector<Entry> Take() ABSL_LOCKS_EXCLUDED(mu_);
  // The end of a write of `taken`. On failure they wait again (the next record queues the
  // next write: not at once, the writer may have stopped) and this returns false; on
  // success, true if records are still waiting and no write is queued: the caller queues one.
  bool Written(const absl::Status& status, const std::vector<Entry>& taken)
      ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t dropped() const { return dropped_.load(); }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<Key, Pending> pending_ ABSL_GUARDED_BY(mu_);
  bool write_queued_ ABSL_GUARDED_BY(mu_) = false;
  bool drop_logged_ ABSL_GUARDED_BY(mu_) = false;  // Whether this run of drops was logged.
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_DISCLOSURE_QUEUE_H_
