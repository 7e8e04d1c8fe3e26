// Wake-ups across replicas: a replica learns with LISTEN/NOTIFY, within milliseconds, that
// any replica (itself included) has committed events or changed a provider token, and turns
// that into the same calls the SQLite store makes after its own commits.
//
// Two channels: kEventsChannel (event_log.h: the range a commit numbered and the providers
// it addressed) and kTokensChannel (a token issued or revoked: its SHA-256, never the token).
// Notifications are sent inside the committing transaction, so they are delivered only if
// it commits, and in commit order. What LISTEN cannot promise is delivery across a dropped
// connection, so the listener resynchronises from the tables whenever it (re)connects, and
// on a slow poll as well, in case anything else went astray.
//
// A replica on PostgreSQL should feed its SubscriberHub from this listener alone, not also
// from its own writer: notifications arrive in commit order, so the heads it reports only
// grow, which the hub relies on (a head below the hub's is ignored, with its providers).
// A replica's own commits reach its streams one notification later (well under a
// millisecond on a local server).
#ifndef INTAKE_SERVER_STORE_POSTGRES_LISTENER_H_
#define INTAKE_SERVER_STORE_POSTGRES_LISTENER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/store/postgres/connection.h"
#include "server/store/postgres/event_log.h"

namespace intake::store::postgres {

// The channel of token changes: "issued <hex sha256>" or "revoked <hex sha256>".
inline constexpr absl::string_view kTokensChannel = "intake_tokens";

enum class TokenChange { kIssued, kRevoked };

// The statement that tells every replica, once the transaction that runs it commits, that
// the token whose SHA-256 (32 raw bytes) is `token_sha256` was issued or revoked.
Query NotifyTokenChangeQuery(TokenChange change, absl::string_view token_sha256);

class NotificationListener {
 public:
  struct Options {
    // libpq URI of the database (Connection::Open).
    std::string conninfo;
    // How often the listener checks the tables as well, whatever it was told.
    absl::Duration poll_interval = absl::Seconds(5);
    // How long it waits before connecting again after losing its connection.
    absl::Duration reconnect_delay = absl::Seconds(1);
    // The event log has grown to `head`, with events for `providers` ("" for unassigned
    // leads) since the previous call: the contract of StoreOptions::on_events_committed.
    // Heads only grow from one call to the next. Runs on the listener thread; must not block.
    std::function<void(uint64_t head, const std::vector<std::string>& providers)> on_events;
    // A token was issued or revoked (32 raw bytes of its SHA-256), through any replica, or
    // the poll found that the active tokens changed. A revocation may be reported more than
    // once; handling must be idempotent. Runs on the listener thread; must not block.
    std::function<void(TokenChange change, const std::string& token_sha256)> on_token_change;
  };

  // Connects (the session is named "intaked-listener"), listens on both channels, then
  // reads the current head and active tokens, which it reports no change for: the caller
  // reads its starting state from the store. kUnavailable if the database cannot be
  // reached. Afterwards connection losses are handled by reconnecting, then resynchronising
  // (every event and token change missed meanwhile is reported).
  static absl::StatusOr<std::unique_ptr<NotificationListener>> Start(Options options);
  // Stops the thread at once (it is woken from any wait) and disconnects.
  ~NotificationListener();
  NotificationListener(const NotificationListener&) = delete;
  NotificationListener& operator=(const NotificationListener&) = delete;

  // The highest head reported so far (or read at start). Thread-safe.
  uint64_t head() const { return head_.load(); }

 private:
  NotificationListener(Options options, int wake_fd);
  // Connects, listens and reads the state; reports what changed since the last state if
  // `report` (after a reconnection), nothing at start.
  absl::Status Connect(bool report);
  void Loop();
  // Reports the events between the last reported head and `head`, reading their providers.
  absl::Status CatchUpTo(uint64_t head);
  absl::Status Handle(const Notification& notification);
  // Handles every notification libpq has received, until there are none.
  absl::Status HandleBuffered();
  // Reads the head and the active tokens and reports every difference.
  absl::Status Resync(bool report);

  const Options options_;
  const int wake_fd_;  // An eventfd: written to stop the thread.
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> head_{0};
  // Listener thread only, after Start.
  std::unique_ptr<Connection> conn_;
  absl::flat_hash_set<std::string> active_tokens_;
  std::thread thread_;
};

}  // namespace intake::store::postgres

#endif  // INTAKE_SERVER_STORE_POSTGRES_LISTENER_H_
