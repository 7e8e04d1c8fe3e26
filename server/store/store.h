// The SQLite backend of Storage (storage.h), intaked's embedded default: opened once at
// start-up, migrated, and the owner of every connection to the database file. Writes go through the
// one GroupCommitWriter; reads through a pool of read-only connections.
//
// Every method blocks on SQLite, so callers run them on threads that may block (never a gRPC
// reactor). Thread-safe.
#ifndef INTAKE_SERVER_STORE_STORE_H_
#define INTAKE_SERVER_STORE_STORE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/domain/clock.h"
#include "server/domain/disclosure.h"
#include "server/domain/lead.h"
#include "server/domain/provider.h"
#include "server/domain/submission.h"
#include "server/store/backup.h"
#include "server/store/connection.h"
#include "server/store/disclosure_queue.h"
#include "server/store/group_commit_writer.h"
#include "server/store/pii_cipher.h"
#include "server/store/reader_pool.h"
#include "server/store/recent_events.h"
#include "server/store/storage.h"

namespace intake::store {

struct StoreOptions {
  ConnectionOptions connection;
  const Clock* clock = &SystemClock::Get();
  // Seals callers' personal data and keys the phone hash. Required.
  const PiiCipher* cipher = nullptr;
  // Same phone and target within this long after the lead's last submission: a duplicate.
  absl::Duration dedup_window = absl::Hours(24);
  // How long honeypot hits stay in quarantine.
  absl::Duration quarantine_retention = absl::Hours(24 * 7);
  // How long counts of refused submissions may wait in memory for a batch to carry them.
  absl::Duration refused_count_delay = absl::Seconds(1);
  // How long disclosure records may wait in memory for a batch to carry them.
  absl::Duration disclosure_delay = absl::Milliseconds(250);
  // How long an erasure waits for the WAL to be emptied (readers still using it) before it
  // reports kUnavailable.
  absl::Duration wal_truncate_timeout = absl::Seconds(10);
  // Called on the writer thread after each commit that grew the event log, with the new
  // head sequence and the providers the new events are addressed to ("" for events of
  // unassigned leads), before any caller of that batch hears back. Must not block.
  std::function<void(uint64_t head, const std::vector<std::string>& providers)> on_events_committed;
  // Told about each batch and checkpoint of the writer (metrics). Not owned; null: nobody.
  WriterObserver* writer_observer = nullptr;
};

class Store : public Storage {
 public:
  // Opens (creating it if missing) the database at `path` and migrates it to this binary's
  // schema. A database remembers the id of the data key it was first opened with (see
  // PiiCipher::key_id). Returns kFailedPrecondition for a database newer than this binary or
  // sealed with another data key, kDataLoss for a file that is not an Intake database,
  // kUnavailable if it cannot be opened, kInvalidArgument without a cipher.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     const StoreOptions& options = {});
  ~Store() override;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The database's random identity, fixed when it was created.
  const std::string& instance_id() const override { return instance_id_; }
  int schema_version() const override { return schema_version_; }
  const std::string& path() const { return path_; }
  std::string location() const override { return path_; }

  // Providers. The caller validates (ValidateProvider) before storing.
  // Stores a new provider, stamping its create and update times. kAlreadyExists if the id is
  // taken.
  absl::StatusOr<Provider> CreateProvider(Provider provider) override;
  // Applies `change` to the stored provider inside the write transaction and stores the
  // result (update time stamped). `change` may refuse with a status, which is returned and
  // nothing is written. kNotFound for an unknown id.
  absl::StatusOr<Provider> UpdateProvider(const std::string& provider_id,
                                          std::function<absl::Status(Provider&)> change) override;
  // kNotFound for an unknown id.
  absl::StatusOr<Provider> GetProvider(const std::string& provider_id) override;
  // Up to `limit` providers with ids after `after`, in id order.
  absl::StatusOr<Page<Provider>> ListProviders(int limit, const std::string& after) override;

  // Listings. kAlreadyExists for a taken id, kNotFound if the provider does not exist.
  absl::StatusOr<Listing> CreateListing(Listing listing) override;
  // kNotFound for an unknown id.
  absl::StatusOr<Listing> GetListing(const std::string& listing_id) override;
  // Up to `limit` listings with ids after `after`, in id order; only `provider_id`'s if it
  // is not empty.
  absl::StatusOr<Page<Listing>> ListListings(int limit, const std::string& after,
                                             const std::string& provider_id) override;

  // Tokens. Stores the hash of a new token of `provider_id` under a fresh token_id.
  // kNotFound if the provider does not exist.
  absl::StatusOr<ProviderToken> IssueProviderToken(const std::string& provider_id,
                                                   const std::string& token_sha256) override;
  // Revokes the token; revoking a revoked token is OK. kNotFound for an unknown token_id.
  // Returns the revoked token.
  absl::StatusOr<ProviderToken> RevokeProviderToken(const std::string& token_id) override;
  // Every token not revoked.
  absl::StatusOr<std::vector<ProviderToken>> ActiveProviderTokens() override;

  // The intake path.
  using SubmitDone = absl::AnyInvocable<void(absl::StatusOr<SubmitResult>) &&>;
  // Stores one validated, normalised submission (`bot`: the honeypot was filled) in the next
  // group commit, in this order: a known request_id replays its first result; a bot goes
  // to quarantine; a duplicate (same phone hash and target within the dedup window) merges
  // into its lead with a RESUBMITTED event; anything else becomes a lead routed by the
  // domain policy, with its ASSIGNED event. Never blocks: `done` runs on the writer's reply
  // thread once the batch is on disk (or failed) and must not block. Errors: kNotFound for an
  // unknown listing, kInvalidArgument for a request_id already used with another payload,
  // kUnavailable if the commit failed (nothing was stored; retrying with the same
  // request_id is safe).
  using Storage::Submit;
  void Submit(Submission submission, bool bot, absl::Time deadline, SubmitDone done) override;

  // Counts a refused SubmitCallback call in the persistent counters (see RefusedSubmission).
  // Never blocks and never delays the refusal: the count waits in memory and is written by the
  // writer's next batch transaction, which comes at most refused_count_delay (1 s) later; the
  // refusals of that interval share one write, never a transaction each. So a crash (SIGKILL,
  // power loss) may lose the counts of the last second; a clean shutdown writes them, and
  // Counters() includes them at once. Safe on any thread, gRPC reactors included.
  void CountRefusedSubmission(RefusedSubmission kind) override ABSL_LOCKS_EXCLUDED(refused_mu_);

  // Leads. `provider_scope`, when not empty, limits the look-up to that provider's leads:
  // another provider's lead is kNotFound, exactly like an unknown id.
  absl::StatusOr<Lead> GetLead(const std::string& lead_id,
                               const std::string& provider_scope) override;
  // Up to `limit` leads matching `filter`, newest first, after the key `after` (from a
  // previous page's next_after).
  absl::StatusOr<Page<Lead>> ListLeads(const LeadFilter& filter, int limit,
                                       const std::string& after) override;
  // Consent evidence and the event history of a lead. kNotFound for an unknown id.
  absl::StatusOr<LeadEvidence> GetLeadEvidence(const std::string& lead_id) override;
  // Up to `limit` events with sequence > `after`, in order; only those addressed to
  // `provider_id` unless it is empty. A provider never sees a lead that is no longer
  // its own: for its REASSIGNED_AWAY events the lead carries only its id.
  absl::StatusOr<std::vector<EventWithLead>> ReadEvents(uint64_t after,
                                                        const std::string& provider_id,
                                                        int limit) override;
  // The writer keeps the events of the last commits (up to kRecentEventsKept of them) while
  // a live reader is registered: it reads each commit's new events with their leads back
  // once, from its own connection, before it announces them (on_events_committed), one read
  // for every stream instead of one per stream. Without a live reader it keeps nothing and
  // spends nothing on it.
  std::optional<RecentRead> ReadRecentEvents(uint64_t after, const std::string& provider_id,
                                             int limit, uint64_t up_to) const override {
    return recent_.Read(after, provider_id, limit, up_to);
  }
  void AddLiveReader() override { live_readers_.fetch_add(1); }
  void RemoveLiveReader() override { live_readers_.fetch_sub(1); }
  static constexpr size_t kRecentEventsKept = 4096;

  // Provider feedback, scoped to `provider_id` (kNotFound for another provider's lead).
  // The first acknowledgement stamps acknowledge_time and moves NEW to ACKNOWLEDGED; later
  // ones change nothing. kFailedPrecondition for an OPTED_OUT or ERASED lead.
  absl::StatusOr<Lead> AcknowledgeLead(const std::string& provider_id,
                                       const std::string& lead_id) override;
  // Stores the attempt (the note sealed) and sets last_outcome; the first stamps
  // first_contact_time; the lead becomes CONTACTED. Same errors as AcknowledgeLead.
  absl::StatusOr<Lead> RecordContactAttempt(const std::string& provider_id,
                                            const std::string& lead_id, ContactOutcome outcome,
                                            const std::string& note) override;
  // Gives the lead to `provider_id` (reason MANUAL, state NEW, feedback cleared): a
  // REASSIGNED_AWAY event for the old provider and ASSIGNED for the new. Reassigning to the
  // current provider changes nothing. kNotFound for an unknown lead or provider,
  // kFailedPrecondition for an OPTED_OUT or ERASED lead.
  absl::StatusOr<Lead> ReassignLead(const std::string& lead_id,
                                    const std::string& provider_id) override;

  // Privacy requests (see Storage). EraseCaller empties the WAL after its commit
  // (GroupCommitWriter::TruncateWal) and waits for that up to
  // StoreOptions::wal_truncate_timeout.
  absl::StatusOr<uint32_t> OptOutCaller(absl::string_view e164) override;
  absl::StatusOr<uint32_t> EraseCaller(absl::string_view e164) override;

  // See Storage (PurgeLeads). Also drops the events kept in memory, which would still show
  // the purged leads to live streams.
  absl::StatusOr<int> PurgeLeadBatch(absl::Time older_than, int limit) override;

  // See Storage. A record waits in memory (merged with any other of the same lead, provider
  // and token) until the writer's next batch, which comes at most disclosure_delay later,
  // and rides in that batch's transaction: no transaction or fsync of its own while others
  // write, and never a wait for anyone. A crash (SIGKILL, power loss) may so lose the
  // records of the last disclosure_delay; a clean shutdown writes them. At most
  // kMaxPendingDisclosures wait: past that (the writer failing or far behind) a new record
  // is dropped, and counted (disclosures_dropped) and logged once per run of drops, rather
  // than slowing a reply or growing memory without bound; a failed write keeps its records
  // waiting for the next. A write takes at most kDisclosuresPerWrite records, so that it
  // holds the writer for little longer than a millisecond; the rest follow in the next batch.
  // A record for a lead purged meanwhile is not written.
  void RecordDisclosure(const std::string& lead_id, const std::string& provider_id,
                        const std::string& token_id, DisclosureChannel channel) override;
  absl::StatusOr<std::vector<Disclosure>> ListLeadDisclosures(const std::string& lead_id) override;
  absl::StatusOr<std::vector<LeadDisclosures>> ListCallerDisclosures(
      absl::string_view e164) override;
  static constexpr size_t kMaxPendingDisclosures = DisclosureQueue::kMaxPending;
  static constexpr size_t kDisclosuresPerWrite = DisclosureQueue::kPerWrite;
  // Records dropped because kMaxPendingDisclosures were waiting, since the store opened.
  uint64_t disclosures_dropped() const override { return disclosures_.dropped(); }
  // Quarantine and retention (see Storage).
  absl::StatusOr<Page<QuarantinedSubmission>> ListQuarantined(int limit,
                                                              const std::string& after) override;
  absl::StatusOr<Lead> ReleaseQuarantined(const std::string& submission_id) override;
  absl::StatusOr<SweepStep> EraseDataSubmittedBefore(absl::Time cutoff, int limit) override;
  absl::StatusOr<SweepStep> DeleteExpiredQuarantine(int limit) override;
  // Empties the WAL (GroupCommitWriter::TruncateWal), waiting up to
  // StoreOptions::wal_truncate_timeout.
  absl::Status ClearOldCopies() override { return TruncateWal(); }

  // A page of the covering index leads_by_create_time: no lead row is read.
  absl::StatusOr<Page<LeadTimes>> ListLeadTimesSince(absl::Time since, int limit,
                                                     const std::string& after) override;
  // The persistent counters by name (submissions, leads, duplicates_merged, bot_submissions,
  // invalid_submissions, rate_limited), every refusal counted before this call included (they
  // are written first).
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> Counters() override
      ABSL_LOCKS_EXCLUDED(refused_mu_);
  // When the database was created: the counters count from then.
  absl::StatusOr<absl::Time> CreateTime() override;
  // The figures above, read now: two index look-ups on a read connection and a few stat
  // calls. kUnavailable if the database cannot be read.
  absl::StatusOr<StoreGauges> Gauges() override;

  // The sequence of the newest committed event (0 for none).
  uint64_t head_sequence() const override { return head_sequence_.load(); }
  // The head above: this store learns of each commit before its callers hear back.
  absl::StatusOr<uint64_t> CommittedHeadSequence() override { return head_sequence(); }

  // Makes a consistent copy of the whole database while the store goes on serving, with
  // SQLite's online backup API, and returns it ready to be read. The copy reads one snapshot,
  // fixed by a read transaction on a connection of its own: it holds every transaction
  // committed before the call and none that commits after the snapshot is taken. A WAL reader
  // never blocks the writer, so the writer never waits for the copy; its checkpoints leave
  // in the WAL what the snapshot still needs until the copy ends. The copy is made in steps
  // of options.pages_per_step pages, in a file beside the database: it needs free space for
  // one copy there.
  //
  // Returns kUnavailable while another backup runs (until its BackupFile is destroyed), and
  // on an I/O error or a full disk;
  // kCancelled if options.cancelled said so. A backend whose backups are made with the
  // database's own tools (PostgreSQL: pg_basebackup, pg_dump) returns kUnimplemented; SQLite
  // never does. Blocks for the whole copy. Thread-safe.
  absl::StatusOr<std::unique_ptr<BackupFile>> Backup(const BackupOptions& options) override;

 private:
  Store(std::string path, std::string instance_id, int schema_version,
        std::unique_ptr<SQLite::Database> writer, const StoreOptions& options);

  // A submission with everything worked out that depends on it alone: done by Submit on the
  // submitting thread, so that the one writer thread spends its time in the database.
  struct PreparedSubmission {
    Submission submission;
    bool bot = false;
    std::string payload_hash;    // PiiCipher::PayloadHash of its canonical payload.
    std::string phone_hash;      // PiiCipher::PhoneHash of its phone.
    std::string consent_sha256;  // Of its consent text.
    std::string sealed;          // Its personal data, PiiCipher::Seal'ed.
  };
  PreparedSubmission Prepare(Submission submission, bool bot) const;
  // Writer thread only: the body of Submit inside the batch transaction.
  absl::StatusOr<SubmitResult> ApplySubmission(SQLite::Database& db, const PreparedSubmission& p);
  // Writer thread only: the provider owning `listing_id`; nullopt for "" (the general
  // helpline). kNotFound for an unknown listing.
  absl::StatusOr<std::optional<Provider>> ListingOwner(SQLite::Database& db,
                                                       const std::string& listing_id);
  // What became of a submission that is neither a replay nor a bot.
  struct Placement {
    SubmissionOutcome outcome;  // kNewLead or kMerged.
    std::string lead_id;
    std::optional<RoutingReason> routing;  // kNewLead only.
  };
  // Writer thread only, inside the write's transaction: merges `p` into the caller's open lead
  // for the same target within the dedup window (RESUBMITTED), or stores it as a new lead
  // routed by the domain policy (ASSIGNED), created at `now` with consent given at
  // `consent_time`; counts it. The submission's own record is the caller's to write.
  Placement PlaceLead(const PreparedSubmission& p, const std::optional<Provider>& owner,
                      absl::Time now, absl::Time consent_time);
  // Reads the event of `row` (kEventsAfter's columns) and its lead as `provider_id` may
  // see it (all of it for "").
  EventWithLead ReadEventWithLead(SQLite::Statement& row, const std::string& provider_id) const;
  // Writer thread only, after a commit: every event after `after`, each with its whole lead.
  // Throws SQLite::Exception (and std::runtime_error for a lead that does not open).
  std::vector<EventWithLead> ReadCommittedEvents(uint64_t after);
  // Writer thread only, after a commit: the lead with this id as committed, whole; nullopt
  // if there is none. Throws as ReadCommittedEvents.
  std::optional<Lead> ReadCommittedLead(const std::string& lead_id);
  // Writer thread only: reads the lead (scoped as GetLead) and refuses OPTED_OUT/ERASED ones.
  absl::StatusOr<Lead> LeadForFeedback(SQLite::Database& db, const std::string& provider_id,
                                       const std::string& lead_id);
  // A quarantined submission from `row` (quarantine.cc's columns), opened. Throws
  // std::runtime_error for sealed data that does not open.
  QuarantinedSubmission ReadQuarantined(SQLite::Statement& row) const;
  // Reads a lead from `row`'s lead columns (leads.cc's list, from column `first`), opening
  // its sealed fields.
  Lead ReadLead(SQLite::Statement& row, int first = 0) const;
  // Backup's copy, once it holds the one-backup-at-a-time flag.
  absl::StatusOr<std::unique_ptr<BackupFile>> CopyDatabase(const BackupOptions& options);
  // Writer thread only: after each commit.
  void AfterCommit(SQLite::Database& db);
  // Queues the write of the refusals counted so far: lazily (refused_count_delay) or in the
  // next batch, calling `done` once it is on disk or failed (the counts then wait for the
  // next flush).
  void FlushRefusals(bool lazy, absl::AnyInvocable<void(absl::Status) &&> done)
      ABSL_LOCKS_EXCLUDED(refused_mu_);
  // Empties the WAL after an erasure (see EraseCaller).
  absl::Status TruncateWal();
  // Queues the write of the disclosures waiting (lazily, within disclosure_delay).
  void FlushDisclosures();
  // Destructor only: writes every disclosure still waiting, before the writer stops.
  void WriteWaitingDisclosures();
  // Open only: gives quarantined rows from before migration 6 their phone hash.
  static absl::Status FillQuarantinePhoneHashes(SQLite::Database& db, const PiiCipher& cipher);

  const std::string path_;
  const std::string instance_id_;
  const int schema_version_;
  const StoreOptions options_;
  const Clock& clock_;
  const PiiCipher& cipher_;
  std::atomic<uint64_t> head_sequence_{0};
  std::atomic<int> live_readers_{0};
  RecentEvents recent_{kRecentEventsKept};
  // Writer thread only: the leads that writes since the last commit changed without adding
  // an event (an acknowledgement, a contact attempt). AfterCommit gives their kept events the
  // leads as committed, so a stream shows a lead as it stands, as a read of the disk does.
  std::vector<std::string> changed_without_event_;
  // Refusals counted but not yet handed to the writer, by RefusedSubmission, and whether a
  // flush is queued that will take them.
  absl::Mutex refused_mu_;
  std::array<int64_t, 3> refused_ ABSL_GUARDED_BY(refused_mu_) = {};
  bool refused_flush_queued_ ABSL_GUARDED_BY(refused_mu_) = false;
  std::atomic<bool> backup_running_{false};
  // Writer thread only, inside a write.
  void InsertDisclosures(const std::vector<DisclosureQueue::Entry>& taken);
  DisclosureQueue disclosures_;
  ReaderPool readers_;
  GroupCommitWriter writer_;
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_STORE_H_
