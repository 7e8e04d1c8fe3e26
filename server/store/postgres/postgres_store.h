// The PostgreSQL backend of Storage (storage.h): one of a fleet of stateless intaked replicas
// sharing one database. Writes go through this replica's GroupCommitWriter (group commit,
// dedup keys and the routing lock across replicas, events numbered at commit: see
// group_commit_writer.h, locks.h and event_log.h); reads through a small pool of connections;
// wake-ups and token changes of every replica arrive through a NotificationListener.
//
// What it does not do, answering kUnimplemented: Backup (PostgreSQL's own pg_basebackup and
// pg_dump do backups). What it does less of than SQLite: erasure (see EraseCaller).
#ifndef INTAKE_SERVER_STORE_POSTGRES_POSTGRES_STORE_H_
#define INTAKE_SERVER_STORE_POSTGRES_POSTGRES_STORE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/clock.h"
#include "server/store/disclosure_queue.h"
#include "server/store/pii_cipher.h"
#include "server/store/postgres/connection.h"
#include "server/store/postgres/group_commit_writer.h"
#include "server/store/postgres/listener.h"
#include "server/store/storage.h"

namespace intake::store::postgres {

struct PostgresStoreOptions {
  // libpq URI of the database (postgresql://...); a password comes from PGPASSWORD or
  // PGPASSFILE, never from here.
  std::string conninfo;
  const Clock* clock = &SystemClock::Get();
  // Seals callers' personal data and keys the phone hash. Required; every replica of one
  // database must hold the same key.
  const PiiCipher* cipher = nullptr;
  // Same phone and target within this long after the lead's last submission: a duplicate.
  absl::Duration dedup_window = absl::Hours(24);
  // How long honeypot hits stay in quarantine.
  absl::Duration quarantine_retention = absl::Hours(24 * 7);
  // How often the listener re-reads the head and the tokens whatever it was told.
  absl::Duration poll_interval = absl::Seconds(5);
  // The event log grew to `head`, through any replica: StoreOptions::on_events_committed,
  // except that it runs on the listener thread, a moment after the commit (heads only grow).
  std::function<void(uint64_t head, const std::vector<std::string>& providers)> on_events_committed;
  // A provider token was issued (the whole token as stored) or revoked (token_sha256 set;
  // token_id and provider_id may be empty), through any replica, this one included. Runs on
  // the listener thread; must not block. May repeat a revocation.
  std::function<void(TokenChange change, const ProviderToken& token)> on_token_change;
};

class PostgresStore : public Storage {
 public:
  // Connects, migrates the database to this binary's schema (replicas starting at once
  // migrate once) and starts the writer and the listener. The first replica to open a
  // database claims it for its data key; one with another key is refused
  // (kFailedPrecondition), as is a database newer than this binary. kUnavailable if the
  // database cannot be reached, kInvalidArgument without a cipher or for a malformed URI.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(PostgresStoreOptions options);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  const std::string& instance_id() const override { return instance_id_; }
  int schema_version() const override { return schema_version_; }
  std::string location() const override { return location_; }

  absl::StatusOr<Provider> CreateProvider(Provider provider) override;
  absl::StatusOr<Provider> UpdateProvider(const std::string& provider_id,
                                          std::function<absl::Status(Provider&)> change) override;
  absl::StatusOr<Provider> GetProvider(const std::string& provider_id) override;
  absl::StatusOr<Page<Provider>> ListProviders(int limit, const std::string& after) override;

  absl::StatusOr<Listing> CreateListing(Listing listing) override;
  absl::StatusOr<Listing> GetListing(const std::string& listing_id) override;
  absl::StatusOr<Page<Listing>> ListListings(int limit, const std::string& after,
                                             const std::string& provider_id) override;

  // Issue and revocation also tell every replica (on_token_change), through the listener.
  absl::StatusOr<ProviderToken> IssueProviderToken(const std::string& provider_id,
                                                   const std::string& token_sha256) override;
  absl::StatusOr<ProviderToken> RevokeProviderToken(const std::string& token_id) override;
  absl::StatusOr<std::vector<ProviderToken>> ActiveProviderTokens() override;

  // Two replicas receiving one phone and target at once make one lead (a dedup key held for
  // the whole batch); two with one request_id store it once (the unique index, then the
  // loser replays the winner's result); rotation routes under one lock across replicas.
  using Storage::Submit;
  void Submit(Submission submission, bool bot, absl::Time deadline, SubmitDone done) override;
  void CountRefusedSubmission(RefusedSubmission kind) override;

  absl::StatusOr<Lead> GetLead(const std::string& lead_id,
                               const std::string& provider_scope) override;
  absl::StatusOr<Page<Lead>> ListLeads(const LeadFilter& filter, int limit,
                                       const std::string& after) override;
  absl::StatusOr<LeadEvidence> GetLeadEvidence(const std::string& lead_id) override;
  absl::StatusOr<std::vector<EventWithLead>> ReadEvents(uint64_t after,
                                                        const std::string& provider_id,
                                                        int limit) override;

  absl::StatusOr<Lead> AcknowledgeLead(const std::string& provider_id,
                                       const std::string& lead_id) override;
  absl::StatusOr<Lead> RecordContactAttempt(const std::string& provider_id,
                                            const std::string& lead_id, ContactOutcome outcome,
                                            const std::string& note) override;
  absl::StatusOr<Lead> ReassignLead(const std::string& lead_id,
                                    const std::string& provider_id) override;

  // Privacy requests (see Storage), each one write through the writer with its events, so
  // that streams on every replica hear them (the batch's notification).
  //
  // What erasure reaches on PostgreSQL. In the committing transaction the lead's sealed
  // personal data, region and keyed phone hash, its contact notes and its submissions'
  // payload hashes are overwritten, and the caller's quarantined submissions deleted. Then
  // (ClearOldCopies) the tables are vacuumed, outside any transaction, so that the old row
  // versions that still held the data become dead space, ready for reuse. That is all a
  // client of PostgreSQL can do, and it falls short of SQLite's promise that no file holds a
  // copy: a vacuum cannot remove a row version that a transaction still open anywhere in the
  // cluster may see (it stays until a later vacuum, autovacuum included); freed space is
  // reused, not zeroed, so the bytes may linger in the data files until overwritten; and the
  // old data remains in the WAL until its segments are recycled, in WAL archives, in base
  // backups and dumps, and on standbys as on the primary. Those are the operator's to expire
  // (the README says how). EraseCaller returns kUnavailable if the vacuum failed, after the
  // erasure itself committed (retrying is safe).
  absl::StatusOr<uint32_t> OptOutCaller(absl::string_view e164) override;
  absl::StatusOr<uint32_t> EraseCaller(absl::string_view e164) override;
  absl::StatusOr<int> PurgeLeadBatch(absl::Time older_than, int limit) override;
  // See Storage. A record waits in memory (DisclosureQueue: merged by lead, provider and
  // token, bounded) for a write of its own through the writer, which rides in whatever batch
  // the writer commits next: never a wait for the reply that disclosed. INSERT ... ON
  // CONFLICT DO NOTHING keeps the first committed record of a key, across replicas too. A
  // crash may lose the records not yet committed; a clean shutdown writes them. A record for
  // a lead that is not (or no longer) stored is not written.
  void RecordDisclosure(const std::string& lead_id, const std::string& provider_id,
                        const std::string& token_id, DisclosureChannel channel) override;
  absl::StatusOr<std::vector<Disclosure>> ListLeadDisclosures(const std::string& lead_id) override;
  absl::StatusOr<std::vector<LeadDisclosures>> ListCallerDisclosures(
      absl::string_view e164) override;
  uint64_t disclosures_dropped() const override { return disclosures_.dropped(); }
  // Quarantine and retention (see Storage). A release takes the dedup key of its caller and
  // target, as a submission does. SweepStep::held is the step's own time in its batch (its
  // statements), not the batch's commit.
  absl::StatusOr<Page<QuarantinedSubmission>> ListQuarantined(int limit,
                                                              const std::string& after) override;
  absl::StatusOr<Lead> ReleaseQuarantined(const std::string& submission_id) override;
  absl::StatusOr<SweepStep> EraseDataSubmittedBefore(absl::Time cutoff, int limit) override;
  absl::StatusOr<SweepStep> DeleteExpiredQuarantine(int limit) override;
  // VACUUMs the tables that erasure and purges change (see EraseCaller for what that does and
  // does not reach). kUnavailable if the vacuum failed.
  absl::Status ClearOldCopies() override;

  absl::StatusOr<Page<LeadTimes>> ListLeadTimesSince(absl::Time since, int limit,
                                                     const std::string& after) override;
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> Counters() override;
  absl::StatusOr<absl::Time> CreateTime() override;
  // database_bytes is pg_database_size(); the WAL and file-system figures are the database
  // server's own to report, and stay 0.
  absl::StatusOr<StoreGauges> Gauges() override;

  // The newest head any replica's commit has been reported with (by the listener).
  uint64_t head_sequence() const override { return listener_->head(); }
  absl::StatusOr<uint64_t> CommittedHeadSequence() override;

  // kUnimplemented: back a PostgreSQL database up with pg_basebackup or pg_dump.
  absl::StatusOr<std::unique_ptr<BackupFile>> Backup(const BackupOptions& options) override;

 private:
  PostgresStore(PostgresStoreOptions options, std::string instance_id, int schema_version,
                std::unique_ptr<Connection> first_reader);

  // Runs `read` on a pooled read connection (opened if none is idle; dropped if lost).
  template <typename T>
  absl::StatusOr<T> WithReader(const std::function<absl::StatusOr<T>(Connection&)>& read)
      ABSL_LOCKS_EXCLUDED(readers_mu_);
  // The lead in `row` of `rows`, whose lead columns (kLeadColumns) start at `first`.
  absl::StatusOr<Lead> ReadLead(const Result& rows, int row, int first = 0) const;
  // Writer thread: the body of Submit inside the batch.
  absl::StatusOr<SubmitResult> ApplySubmission(WriteTxn& txn, const Submission& s, bool bot,
                                               const std::string& phone_hash);
  // What became of a submission that is neither a replay nor a bot.
  struct Placement {
    SubmissionOutcome outcome;  // kNewLead or kMerged.
    std::string lead_id;
    std::optional<RoutingReason> routing;  // kNewLead only.
  };
  // Writer thread: the provider owning `listing_id`; nullopt for "" (the general helpline).
  // kNotFound for an unknown listing.
  absl::StatusOr<std::optional<Provider>> ListingOwner(WriteTxn& txn,
                                                       const std::string& listing_id);
  // Writer thread, under the dedup key of the caller and target: merges `s` into the caller's
  // open lead for the same target within the dedup window (RESUBMITTED), or stores it as a
  // new lead routed by the domain policy (ASSIGNED), created at `now` with consent given at
  // `consent_time`; counts it. The submission's own record is the caller's to write.
  absl::StatusOr<Placement> PlaceLead(WriteTxn& txn, const Submission& s,
                                      const std::string& phone_hash,
                                      const std::optional<Provider>& owner, absl::Time now,
                                      absl::Time consent_time);
  // Writer thread: a `type` event for every provider that ever received each of `lead_ids`
  // (each one its events were addressed to), or one for admin watchers only if none did.
  static absl::Status AppendEventForEveryRecipient(WriteTxn& txn,
                                                   const std::vector<std::string>& lead_ids,
                                                   LeadEventType type, absl::Time now);
  // Writer thread: erases the personal data of `lead_ids` (none ERASED yet; see EraseCaller)
  // and appends their ERASED events.
  static absl::Status EraseLeadData(WriteTxn& txn, const std::vector<std::string>& lead_ids,
                                    absl::Time now);
  // A quarantined submission from `row` of `rows` (kQuarantineColumns), opened. kDataLoss
  // if it does not open with the data key.
  absl::StatusOr<QuarantinedSubmission> ReadQuarantined(const Result& rows, int row) const;
  // Open only: gives quarantined rows from before migration 4 their phone hash.
  static absl::Status FillQuarantinePhoneHashes(Connection& conn, const PiiCipher& cipher);
  // Writer thread: the lead for feedback (scoped, not OPTED_OUT or ERASED).
  absl::StatusOr<Lead> LeadForFeedback(WriteTxn& txn, const std::string& provider_id,
                                       const std::string& lead_id);
  // Queues a write of the disclosures waiting.
  void FlushDisclosures();
  // Writer thread: inserts `taken` in one round trip.
  static absl::Status InsertDisclosures(WriteTxn& txn,
                                        const std::vector<DisclosureQueue::Entry>& taken);
  // Listener thread: a token change, told on with the stored token when it was issued.
  void OnTokenChange(TokenChange change, const std::string& token_sha256);

  const PostgresStoreOptions options_;
  const std::string instance_id_;
  const int schema_version_;
  const std::string location_;
  const Clock& clock_;
  const PiiCipher& cipher_;

  absl::Mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_ ABSL_GUARDED_BY(readers_mu_);

  // The SHA-256 of consent texts this replica has seen committed. A submission with another
  // text has it inserted before its batch (GroupCommitWriter::Submit's committed_first):
  // inserted inside the batch, a brand-new text that two replicas' batches both insert would
  // have each wait for the other. Emptied at kMaxKnownConsentTexts, so that made-up texts
  // cannot grow it.
  static constexpr size_t kMaxKnownConsentTexts = 10000;
  absl::Mutex consent_mu_;
  absl::flat_hash_set<std::string> known_consent_ ABSL_GUARDED_BY(consent_mu_);

  DisclosureQueue disclosures_;
  std::unique_ptr<GroupCommitWriter> writer_;
  std::unique_ptr<NotificationListener> listener_;
};

}  // namespace intake::store::postgres

#endif  // INTAKE_SERVER_STORE_POSTGRES_POSTGRES_STORE_H_
