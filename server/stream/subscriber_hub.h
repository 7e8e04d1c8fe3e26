// server/stream: what makes lead streams live. The event log on disk is the outbox; this hub
// only tells waiting stream reactors that the log has grown past their cursor.
#ifndef INTAKE_SERVER_STREAM_SUBSCRIBER_HUB_H_
#define INTAKE_SERVER_STREAM_SUBSCRIBER_HUB_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace intake::stream {

// Wakes waiters when the event log grows past their cursor. Waiters wait on a topic: a
// provider id (woken only when that provider's events are committed) or kAllEvents (woken by
// every commit). It holds no events and no queues: a woken waiter reads what it needs from
// the store. Memory is one small entry per waiting stream and per topic. Thread-safe.
class SubscriberHub {
 public:
  using WaitId = uint64_t;
  using Wakeup = absl::AnyInvocable<void() &&>;
  static constexpr absl::string_view kAllEvents = "";

  explicit SubscriberHub(uint64_t head = 0) : head_(head) {}
  SubscriberHub(const SubscriberHub&) = delete;
  SubscriberHub& operator=(const SubscriberHub&) = delete;

  // Records that the log now ends at `head` (a head below the current one is ignored) and
  // that it holds new events for `topics`, then runs, on the calling thread and outside the
  // hub's lock, every kAllEvents waiter and every waiter of those topics whose cursor is
  // below `head`. Called by the writer after each commit.
  void Notify(uint64_t head, absl::Span<const std::string> topics) ABSL_LOCKS_EXCLUDED(mu_);

  // The highest head notified so far: every event up to it is committed.
  uint64_t head() const ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `wakeup` exactly once, as soon as `topic` has events beyond `cursor`: at once on
  // this thread if a Notify for the topic already passed the cursor, else from the Notify (or
  // Close) that does. A waiter that has read everything up to head() should pass a cursor of
  // at least head(), or it is woken at once. A wakeup must not block. Returns an id for
  // Cancel (0, which no wait has, if the wakeup ran at once).
  WaitId WaitBeyond(uint64_t cursor, absl::string_view topic, Wakeup wakeup)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Like WaitBeyond, except where WaitBeyond would run `wakeup` at once: then it drops
  // `wakeup` unrun and returns nullopt, and the caller reads again itself. For a caller that
  // holds a lock its wakeup takes.
  std::optional<WaitId> WaitBeyondLater(uint64_t cursor, absl::string_view topic, Wakeup wakeup)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Drops a pending wait without running it. Returns false if the wakeup already ran or is
  // running, so the caller knows to expect (or not) its call.
  bool Cancel(WaitId id) ABSL_LOCKS_EXCLUDED(mu_);

  // Runs every pending wakeup and from then on runs new ones at once: used on drain so that
  // streams notice the server is going away.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

  // Number of pending waits.
  size_t waiting() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Waiter {
    uint64_t cursor;
    Wakeup wakeup;
  };
  using WaiterMap = std::map<WaitId, Waiter>;

  // Registers the wait and returns its id, or nullopt (leaving `wakeup` untouched) if it is
  // due at once.
  std::optional<WaitId> Register(uint64_t cursor, absl::string_view topic, Wakeup& wakeup)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Moves the waiters of `waiters` whose cursor is below `head` into `due`.
  void TakeDue(WaiterMap& waiters, uint64_t head, std::vector<Wakeup>& due)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  uint64_t head_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  WaitId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Per topic: the head of the last Notify that named it, and its waiters.
  absl::flat_hash_map<std::string, uint64_t> topic_head_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, WaiterMap> waiters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<WaitId, std::string> topic_of_ ABSL_GUARDED_BY(mu_);
};

}  // namespace intake::stream

#endif  // INTAKE_SERVER_STREAM_SUBSCRIBER_HUB_H_
