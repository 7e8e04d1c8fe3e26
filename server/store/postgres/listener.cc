#include "server/store/postgres/listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <iostream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace intake::store::postgres {
namespace {

constexpr absl::string_view kIssued = "issued ";
constexpr absl::string_view kRevoked = "revoked ";

}  // namespace

Query NotifyTokenChangeQuery(TokenChange change, absl::string_view token_sha256) {
  return Query{"SELECT pg_notify($1, $2)",
               {std::string(kTokensChannel),
                absl::StrCat(change == TokenChange::kIssued ? kIssued : kRevoked,
                             absl::BytesToHexString(token_sha256))}};
}

NotificationListener::NotificationListener(Options options, int wake_fd)
    : options_(std::move(options)), wake_fd_(wake_fd) {}

absl::StatusOr<std::unique_ptr<NotificationListener>> NotificationListener::Start(Options options) {
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) return absl::InternalError("eventfd failed");
  std::unique_ptr<NotificationListener> listener(
      new NotificationListener(std::move(options), wake_fd));
  if (absl::Status s = listener->Connect(/*report=*/false); !s.ok()) return s;
  listener->thread_ = std::thread([l = listener.get()] { l->Loop(); });
  return listener;
}

NotificationListener::~NotificationListener() {
  stopping_ = true;
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // The eventfd cannot be full after a single write; nothing else can fail here.
  }
  if (thread_.joinable()) thread_.join();
  close(wake_fd_);
}

absl::Status NotificationListener::Connect(bool report) {
  conn_.reset();
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      Connection::Open(options_.conninfo, "intaked-listener");
  if (!conn.ok()) return conn.status();
  // Listening first: whatever commits after the state is read is also notified.
  absl::Status listening =
      (*conn)->ExecScript(absl::StrCat("LISTEN ", kEventsChannel, "; LISTEN ", kTokensChannel));
  if (!listening.ok()) return listening;
  conn_ = *std::move(conn);
  absl::Status synced = Resync(report);
  if (!synced.ok()) conn_.reset();
  return synced;
}

absl::Status NotificationListener::Resync(bool report) {
  absl::StatusOr<uint64_t> head = HeadSequence(*conn_);
  if (!head.ok()) return head.status();
  if (!report) {
    head_ = *head;
  } else if (absl::Status s = CatchUpTo(*head); !s.ok()) {
    return s;
  }
  absl::StatusOr<Result> rows =
      conn_->Exec("SELECT token_sha256 FROM provider_tokens WHERE revoke_time_us IS NULL");
  if (!rows.ok()) return rows.status();
  absl::flat_hash_set<std::string> active;
  for (int i = 0; i < rows->rows(); ++i) active.insert(rows->Bytes(i, 0));
  if (report && options_.on_token_change) {
    for (const std::string& t : active_tokens_) {
      if (!active.contains(t)) options_.on_token_change(TokenChange::kRevoked, t);
    }
    for (const std::string& t : active) {
      if (!active_tokens_.contains(t)) options_.on_token_change(TokenChange::kIssued, t);
    }
  }
  active_tokens_ = std::move(active);
  return absl::OkStatus();
}

absl::Status NotificationListener::CatchUpTo(uint64_t head) {
  const uint64_t known = head_.load();
  if (head <= known) return absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> providers = ProvidersBetween(*conn_, known, head);
  if (!providers.ok()) return providers.status();
  head_ = head;
  if (options_.on_events) options_.on_events(head, *providers);
  return absl::OkStatus();
}

absl::Status NotificationListener::Handle(const Notification& notification) {
  if (notification.channel == kEventsChannel) {
    std::optional<EventsNotification> events = ParseEventsNotification(notification.payload);
    if (!events || events->last <= head_.load()) return absl::OkStatus();
    if (events->first != head_.load() + 1 || !events->providers) {
      // Notifications were missed (or the providers did not fit): read them from the log.
      return CatchUpTo(events->last);
    }
    head_ = events->last;
    if (options_.on_events) options_.on_events(events->last, *events->providers);
    return absl::OkStatus();
  }
  if (notification.channel == kTokensChannel) {
    absl::string_view payload = notification.payload;
    const bool issued = absl::ConsumePrefix(&payload, kIssued);
    if (!issued && !absl::ConsumePrefix(&payload, kRevoked)) return absl::OkStatus();
    const std::string hash = absl::HexStringToBytes(payload);
    if (issued) {
      if (active_tokens_.insert(hash).second && options_.on_token_change) {
        options_.on_token_change(TokenChange::kIssued, hash);
      }
    } else {
      active_tokens_.erase(hash);
      if (options_.on_token_change) options_.on_token_change(TokenChange::kRevoked, hash);
    }
  }
  return absl::OkStatus();
}

absl::Status NotificationListener::HandleBuffered() {
  while (true) {
    absl::StatusOr<std::vector<Notification>> notifications = conn_->TakeNotifications();
    if (!notifications.ok()) return notifications.status();
    if (notifications->empty()) return absl::OkStatus();
    for (const Notification& n : *notifications) {
      if (absl::Status s = Handle(n); !s.ok()) return s;
    }
  }
}

void NotificationListener::Loop() {
  absl::Time next_poll = absl::Now() + options_.poll_interval;
  bool logged_loss = false;
  while (!stopping_.load()) {
    absl::Status status;
    if (conn_ == nullptr) {
      pollfd wake{wake_fd_, POLLIN, 0};
      poll(&wake, 1, static_cast<int>(absl::ToInt64Milliseconds(options_.reconnect_delay)));
      if (stopping_.load()) return;
      status = Connect(/*report=*/true);
      if (status.ok()) {
        if (logged_loss) std::cerr << "intaked: the notification listener is connected again\n";
        logged_loss = false;
        next_poll = absl::Now() + options_.poll_interval;
      }
    } else {
      // libpq keeps notifications that arrive during a query in its own buffer, where poll()
      // cannot see them: take those first, and wait only when there are none.
      status = HandleBuffered();
      if (status.ok() && absl::Now() >= next_poll) {
        status = Resync(/*report=*/true);
        next_poll = absl::Now() + options_.poll_interval;
        if (status.ok()) continue;
      }
      if (status.ok()) {
        pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {conn_->socket(), POLLIN, 0}};
        const absl::Duration wait = std::max(next_poll - absl::Now(), absl::ZeroDuration());
        poll(fds, 2, static_cast<int>(absl::ToInt64Milliseconds(wait)) + 1);
        continue;
      }
      conn_.reset();
    }
    if (!status.ok() && !logged_loss) {
      // Once per outage; statuses from the store name no data.
      std::cerr << "intaked: the notification listener lost the database (" << status
                << "); reconnecting\n";
      logged_loss = true;
    }
  }
}

}  // namespace intake::store::postgres
