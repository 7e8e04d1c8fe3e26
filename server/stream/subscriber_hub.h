// server/stream: what makes lead streams live. The event log on disk is the outbox; this hub
// only tells waiting stream reactors that the log has grown past their cursor.
#ifndef INTAKE_SERVER_STREAM_SUBSCRIBER_HUB_H_
#define INTAKE_SERVER_STREAM_SUBSCRIBER_HUB_H_

#include <cstdint>
#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace intake::stream {

// Wakes waiters when the head sequence of the event log passes their cursor. It holds no
// events and no queues: a waiter that is woken reads what it needs from the store. Memory is
// one small entry per waiting stream. Thread-safe.
class SubscriberHub {
 public:
  using WaitId = uint64_t;
  using Wakeup = absl::AnyInvocable<void() &&>;

  explicit SubscriberHub(uint64_t head = 0) : head_(head) {}
  SubscriberHub(const SubscriberHub&) = delete;
  SubscriberHub& operator=(const SubscriberHub&) = delete;

  // Records that the log now ends at `head` (a smaller value than the current head is
  // ignored) and runs every waiter whose cursor is below it, on the calling thread and outside
  // the hub's lock. Called by the writer after each commit.
  void Notify(uint64_t head) ABSL_LOCKS_EXCLUDED(mu_);

  // The highest sequence notified so far.
  uint64_t head() const ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `wakeup` exactly once, as soon as the head is beyond `cursor`: at once on this thread
  // if it already is, or from the Notify (or Close) that gets it there. A wakeup must not
  // block: it hands work to the thread that owns it. Returns an id for Cancel.
  WaitId WaitBeyond(uint64_t cursor, Wakeup wakeup) ABSL_LOCKS_EXCLUDED(mu_);

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

  mutable absl::Mutex mu_;
  uint64_t head_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  WaitId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Keyed by id; Notify scans it. A few thousand idle streams make that scan cheap next to
  // the commit that caused it.
  std::map<WaitId, Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace intake::stream

#endif  // INTAKE_SERVER_STREAM_SUBSCRIBER_HUB_H_
