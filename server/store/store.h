// The SQLite store as the rest of intaked sees it: opened once at start-up, migrated, and
// the owner of every connection to the database file. Writes go through the one
// GroupCommitWriter; reads through a pool of read-only connections.
//
// Every method blocks on SQLite, so callers run them on threads that may block (never a gRPC
// reactor). Thread-safe.
#ifndef INTAKE_SERVER_STORE_STORE_H_
#define INTAKE_SERVER_STORE_STORE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/domain/clock.h"
#include "server/domain/lead.h"
#include "server/domain/provider.h"
#include "server/domain/submission.h"
#include "server/store/checkpointer.h"
#include "server/store/connection.h"
#include "server/store/group_commit_writer.h"
#include "server/store/pii_cipher.h"
#include "server/store/reader_pool.h"

namespace intake::store {

// One page of a listing in key order.
template <typename T>
struct Page {
  std::vector<T> items;
  // The key to pass as `after` for the next page; empty on the last page.
  std::string next_after;
};

// A provider token as stored: its hash, never the token.
struct ProviderToken {
  std::string token_id;
  std::string provider_id;
  std::string token_sha256;  // 32 raw bytes.
  absl::Time create_time;
};

struct StoreOptions {
  ConnectionOptions connection;
  const Clock* clock = &SystemClock::Get();
  // Seals callers' personal data and keys the phone hash. Required.
  const PiiCipher* cipher = nullptr;
  // Same phone and target within this long after the lead's last submission: a duplicate.
  absl::Duration dedup_window = absl::Hours(24);
  // How often the background checkpointer copies the WAL into the database file.
  absl::Duration checkpoint_interval = absl::Seconds(1);
  // How long honeypot hits stay in quarantine.
  absl::Duration quarantine_retention = absl::Hours(24 * 7);
  // Called on the writer thread after each commit that grew the event log, with the new
  // head sequence, before any caller of that batch hears back. Must not block.
  std::function<void(uint64_t head)> on_events_committed;
};

class Store {
 public:
  // Opens (creating it if missing) the database at `path` and migrates it to this binary's
  // schema. Returns kFailedPrecondition for a database newer than this binary, kDataLoss for
  // a file that is not an Intake database, kUnavailable if it cannot be opened,
  // kInvalidArgument without a cipher.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     const StoreOptions& options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The database's random identity, fixed when it was created.
  const std::string& instance_id() const { return instance_id_; }
  int schema_version() const { return schema_version_; }
  const std::string& path() const { return path_; }

  // Providers. The caller validates (ValidateProvider) before storing.
  // Stores a new provider, stamping its create and update times. kAlreadyExists if the id is
  // taken.
  absl::StatusOr<Provider> CreateProvider(Provider provider);
  // Applies `change` to the stored provider inside the write transaction and stores the
  // result (update time stamped). `change` may refuse with a status, which is returned and
  // nothing is written. kNotFound for an unknown id.
  absl::StatusOr<Provider> UpdateProvider(const std::string& provider_id,
                                          std::function<absl::Status(Provider&)> change);
  // kNotFound for an unknown id.
  absl::StatusOr<Provider> GetProvider(const std::string& provider_id);
  // Up to `limit` providers with ids after `after`, in id order.
  absl::StatusOr<Page<Provider>> ListProviders(int limit, const std::string& after);

  // Listings. kAlreadyExists for a taken id, kNotFound if the provider does not exist.
  absl::StatusOr<Listing> CreateListing(Listing listing);
  // Up to `limit` listings with ids after `after`, in id order; only `provider_id`'s if it
  // is not empty.
  absl::StatusOr<Page<Listing>> ListListings(int limit, const std::string& after,
                                             const std::string& provider_id);

  // Tokens. Stores the hash of a new token of `provider_id` under a fresh token_id.
  // kNotFound if the provider does not exist.
  absl::StatusOr<ProviderToken> IssueProviderToken(const std::string& provider_id,
                                                   const std::string& token_sha256);
  // Revokes the token; revoking a revoked token is OK. kNotFound for an unknown token_id.
  // Returns the revoked token.
  absl::StatusOr<ProviderToken> RevokeProviderToken(const std::string& token_id);
  // Every token not revoked.
  absl::StatusOr<std::vector<ProviderToken>> ActiveProviderTokens();

  // The intake path.
  using SubmitDone = absl::AnyInvocable<void(absl::StatusOr<SubmitResult>) &&>;
  // Stores one validated, normalised submission (`bot`: the honeypot was filled) in the next
  // group commit, in this order: a known request_id replays its first result; a bot goes
  // to quarantine; a duplicate (same phone hash and target within the dedup window) merges
  // into its lead with a RESUBMITTED event; anything else becomes a lead routed by the
  // domain policy, with its ASSIGNED event. Never blocks: `done` runs on the writer thread
  // once the batch is on disk (or failed) and must not block. Errors: kNotFound for an
  // unknown listing, kInvalidArgument for a request_id already used with another payload,
  // kUnavailable if the commit failed (nothing was stored; retrying with the same
  // request_id is safe).
  void Submit(Submission submission, bool bot, SubmitDone done);

  // The sequence of the newest committed event (0 for none).
  uint64_t head_sequence() const { return head_sequence_.load(); }

 private:
  Store(std::string path, std::string instance_id, int schema_version,
        std::unique_ptr<SQLite::Database> writer, const StoreOptions& options);

  // Writer thread only: the body of Submit inside the batch transaction.
  absl::StatusOr<SubmitResult> ApplySubmission(SQLite::Database& db, const Submission& submission,
                                               bool bot);
  // Writer thread only: after each commit.
  void AfterCommit(SQLite::Database& db);

  const std::string path_;
  const std::string instance_id_;
  const int schema_version_;
  const StoreOptions options_;
  const Clock& clock_;
  const PiiCipher& cipher_;
  std::atomic<uint64_t> head_sequence_{0};
  ReaderPool readers_;
  GroupCommitWriter writer_;
  std::unique_ptr<Checkpointer> checkpointer_;
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_STORE_H_
