// The lead streams (ProviderService.SubscribeLeads, AdminService.WatchLeads): callback-API
// write reactors that replay the event log from a cursor, then stay live.
#ifndef INTAKE_SERVER_API_LEAD_STREAM_H_
#define INTAKE_SERVER_API_LEAD_STREAM_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/alarm.h"
#include "grpcpp/support/server_callback.h"
#include "server/api/blocking_executor.h"
#include "server/api/metrics.h"
#include "server/store/storage.h"
#include "server/stream/subscriber_hub.h"

namespace intake::api {

// A live stream that the server may have to end: on drain, or when its token is revoked.
class EndableStream {
 public:
  virtual ~EndableStream() = default;
  // Ends the stream with `status` (after the write in flight, if any).
  virtual void End(grpc::Status status) = 0;
};

// Every live stream, with the hash of the token it was opened with ("" for the admin
// token). Thread-safe.
class StreamRegistry {
 public:
  // At most `max_per_token` streams per token at once (0: no cap), so one leaked or
  // misbehaving dashboard cannot hold unbounded server resources.
  explicit StreamRegistry(int max_per_token = 0) : max_per_token_(max_per_token) {}

  // Registers `stream`, or refuses it (registering nothing): UNAVAILABLE once draining has
  // begun, UNAUTHENTICATED if its token has been revoked since the stream authenticated,
  // RESOURCE_EXHAUSTED if its token already holds max_per_token streams.
  grpc::Status Add(EndableStream* stream, const std::string& token_hash) ABSL_LOCKS_EXCLUDED(mu_);
  void Remove(EndableStream* stream) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends every stream with UNAVAILABLE (clients resume elsewhere from their cursor) and
  // refuses new ones from now on.
  void DrainAll() ABSL_LOCKS_EXCLUDED(mu_);
  // Ends the streams opened with the token of this hash with UNAUTHENTICATED, and refuses
  // the ones still opening: a revoked token stops receiving leads at once, not only on its
  // next call, even if it authenticated a stream an instant before the revocation.
  void Revoke(const std::string& token_hash) ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const int max_per_token_;
  mutable absl::Mutex mu_;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, int> per_token_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<EndableStream*, std::string> streams_ ABSL_GUARDED_BY(mu_);
  // Every token revoked while this server runs (32-byte hashes; the authenticator refuses
  // them on their next call too).
  absl::flat_hash_set<std::string> revoked_ ABSL_GUARDED_BY(mu_);
};

struct LeadStreamContext {
  store::Storage* store;
  stream::SubscriberHub* hub;
  BlockingExecutor* executor;  // Where event pages are read from SQLite.
  StreamRegistry* registry;
  absl::Duration heartbeat_interval;
  // Events read per page: what a slow consumer costs the server, besides its cursor.
  int page_size = 256;
  // Counts the messages written; null when metrics are off.
  Metrics* metrics = nullptr;
};

// Streams the events addressed to `provider_id` (every event when it is empty) with
// sequence > `after`, in order, then live ones as they commit; heartbeats when idle. One
// write in flight; reading, waiting and heartbeats never block a gRPC thread. Owns itself:
// deleted in OnDone once nothing it started is outstanding.
// `Response` is v1::SubscribeLeadsResponse or v1::WatchLeadsResponse.
template <typename Response>
class LeadStream final : public grpc::ServerWriteReactor<Response>, public EndableStream {
 public:
  // `token_hash`, `token_id`: of the provider token the stream was opened with; "" for the
  // admin token. Each event that carries a lead's personal data to a provider is recorded as
  // a disclosure to that token (Storage::RecordDisclosure) as it is written.
  LeadStream(const LeadStreamContext& context, std::string provider_id,
             const std::string& token_hash, std::string token_id, uint64_t after);
  ~LeadStream() override;
  LeadStream(const LeadStream&) = delete;
  LeadStream& operator=(const LeadStream&) = delete;

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  void End(grpc::Status status) override;

 private:
  // What to do with gRPC once the lock is released.
  struct Actions {
    bool cancel_heartbeat = false;
    const Response* write = nullptr;
    std::optional<grpc::Status> finish;
  };

  void ReadPage();  // On the executor.
  void OnWake();    // On the thread that committed the events (or drains the hub).
  // Takes the events after the cursor from the store's memory of the last commits, if it
  // holds them all; false if it does not (the stream fell behind: read the disk).
  bool TakeRecent() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues a read of the next page from the disk.
  void StartRead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnHeartbeat(bool fired);
  // Decides the next step after state changed: write, read, wait or finish.
  void Advance(Actions& actions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(grpc::Status status, Actions& actions) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ArmHeartbeat() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Performs `actions` outside the lock, then releases the count on outstanding_ that its
  // caller took (so this stays alive meanwhile) and deletes this if it is done and nothing
  // is outstanding.
  void Act(const Actions& actions);

  const LeadStreamContext context_;
  const std::string provider_id_;
  const std::string token_id_;
  const std::string topic_;

  absl::Mutex mu_;
  uint64_t cursor_ ABSL_GUARDED_BY(mu_);
  std::deque<Response> pending_ ABSL_GUARDED_BY(mu_);
  Response in_flight_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool more_to_read_ ABSL_GUARDED_BY(mu_) = true;
  // Whether the first read has checked that the cursor is not beyond the newest event.
  bool cursor_checked_ ABSL_GUARDED_BY(mu_) = false;
  stream::SubscriberHub::WaitId wait_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<grpc::Status> finish_ ABSL_GUARDED_BY(mu_);  // Decided; sent after writes.
  bool finish_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  // Started operations whose callbacks are still to come: a read, a hub wait, the alarm.
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Alarm heartbeat_;
};

// A stream reactor that only finishes with `status`: how a refused stream call ends.
template <typename Response>
grpc::ServerWriteReactor<Response>* RefusedStream(const grpc::Status& status) {
  class Refused final : public grpc::ServerWriteReactor<Response> {
   public:
    explicit Refused(const grpc::Status& s) { this->Finish(s); }
    void OnDone() override { delete this; }
  };
  return new Refused(status);
}

}  // namespace intake::api

#endif  // INTAKE_SERVER_API_LEAD_STREAM_H_
