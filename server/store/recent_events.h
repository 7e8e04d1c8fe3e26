// The newest committed events with their leads, kept in memory so that live streams take
// them from the writer instead of each reading them back from the database.
#ifndef INTAKE_SERVER_STORE_RECENT_EVENTS_H_
#define INTAKE_SERVER_STORE_RECENT_EVENTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/lead.h"
#include "server/store/storage.h"

namespace intake::store {

// Whether a reader of `reader_provider_id`'s events ("" for ops, who see everything) may see
// the data of a lead now owned by `owner_provider_id`. A provider never sees a lead that is
// no longer its own: for its REASSIGNED_AWAY events the lead carries only its id.
inline bool LeadVisibleTo(absl::string_view owner_provider_id,
                          absl::string_view reader_provider_id) {
  return reader_provider_id.empty() || owner_provider_id == reader_provider_id;
}

// Copies of the events of the last commits, one unbroken range of sequences (begin, end],
// each with its lead as the newest kept event of that lead left it. The event log on disk
// stays the outbox: this only ever holds what is already committed, and answers a read only
// when it holds every event the read asks for, so a reader that fell behind (or came before
// the range began) reads the disk. Memory: at most `capacity` events. Thread-safe.
class RecentEvents {
 public:
  explicit RecentEvents(size_t capacity) : capacity_(capacity) {}
  RecentEvents(const RecentEvents&) = delete;
  RecentEvents& operator=(const RecentEvents&) = delete;

  // Records that the log grew from sequence `from` (exclusive) to `to` (inclusive) with
  // `events`: every event of the log in that range, in sequence order. If the range kept so
  // far does not end at `from`, it is dropped first and the new range starts at `from`.
  // Each event's lead also becomes the lead of the kept events of that lead before it, so a
  // read shows a lead as it stands now, as a read of the disk does (a reassigned lead is no
  // longer shown to its old provider, in any event).
  void Append(uint64_t from, uint64_t to, std::vector<EventWithLead> events)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Whether an event of the lead with this id is kept.
  bool Holds(absl::string_view lead_id) const ABSL_LOCKS_EXCLUDED(mu_);

  // Gives the kept events of `lead` (by its id) this lead: for a change to a lead that appends
  // no event (an acknowledgement, a contact attempt). Does nothing if no event of it is kept.
  void Refresh(Lead lead) ABSL_LOCKS_EXCLUDED(mu_);

  // Drops everything: reads answer nothing until the next Append. For the writer when it
  // stops keeping events, or after a change to leads that appends no event.
  void Clear() ABSL_LOCKS_EXCLUDED(mu_);

  // What Store::ReadEvents(after, provider_id, limit) would return now, without the events
  // beyond `up_to`; or nullopt if the kept range does not hold every event after `after`
  // (`after` before the range's begin or beyond its end, or nothing kept). Never blocks on
  // I/O.
  std::optional<RecentRead> Read(uint64_t after, absl::string_view provider_id, int limit,
                                 uint64_t up_to) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Kept {
    LeadEvent event;
    // Shared by every kept event of the same lead; updated by the newest one.
    std::shared_ptr<std::optional<Lead>> lead;
  };

  // Drops the oldest kept event.
  void PopOldest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  bool valid_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t begin_ ABSL_GUARDED_BY(mu_) = 0;  // Exclusive.
  uint64_t end_ ABSL_GUARDED_BY(mu_) = 0;    // Inclusive.
  std::deque<Kept> kept_ ABSL_GUARDED_BY(mu_);
  // The shared lead of each lead id with kept events.
  absl::flat_hash_map<std::string, std::shared_ptr<std::optional<Lead>>> leads_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_RECENT_EVENTS_H_
