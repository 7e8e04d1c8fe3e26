// server/store: what intaked keeps, behind one interface (Storage) with two backends: SQLite
// (store.h, the embedded default: one intaked owns one database file) and PostgreSQL
// (postgres/postgres_store.h: a fleet of stateless intaked replicas on one database). The
// services see only this interface; tests/store/storage_conformance_test.cc runs every
// behaviour it promises against both, so neither can drift.
#ifndef INTAKE_SERVER_STORE_STORAGE_H_
#define INTAKE_SERVER_STORE_STORAGE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/disclosure.h"
#include "server/domain/lead.h"
#include "server/domain/provider.h"
#include "server/domain/submission.h"
#include "server/store/backup.h"

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

// Which leads ListLeads returns; the conditions combine.
struct LeadFilter {
  std::string provider_id;         // Only this provider's; empty for any.
  bool unassigned = false;         // Only leads without a provider.
  std::optional<LeadState> state;  // Only leads in this state.
};

// An event and the lead it concerns as it stands now (nullopt once the lead was purged).
struct EventWithLead {
  LeadEvent event;
  std::optional<Lead> lead;
};

// What Storage::ReadRecentEvents returns.
struct RecentRead {
  std::vector<EventWithLead> events;
  // Every event of the reader up to this sequence is in `events` (the last event's sequence
  // when the read stopped at its limit).
  uint64_t through = 0;
};

// What GetLeadEvidence returns: the proof behind a lead, which survives erasure.
struct LeadEvidence {
  std::string consent_text_sha256;  // 32 raw bytes.
  std::vector<std::string> advertisers;
  absl::Time consent_time;
  std::vector<LeadEvent> history;
};

// A submission held back as a bot (a filled honeypot), as it was submitted.
struct QuarantinedSubmission {
  std::string submission_id;
  // Normalised as stored, the honeypot included; request_id is not kept here. A row
  // quarantined by an intaked that kept only the personal data (and the listing) has
  // `complete` false: it can be reviewed but not released.
  Submission submission;
  bool complete = true;
  absl::Time create_time;
  absl::Time expire_time;  // Deleted then unless released.
};

// What one step of a retention sweep did (Storage::EraseDataSubmittedBefore,
// DeleteExpiredQuarantine).
struct SweepStep {
  int count = 0;        // Rows erased or deleted.
  absl::Duration held;  // How long the step held the writer (its share of the transaction).
};

// A lead's timestamps, for response figures.
struct LeadTimes {
  std::string provider_id;  // Empty while unassigned.
  absl::Time create_time;
  std::optional<absl::Time> acknowledge_time;
  std::optional<absl::Time> first_contact_time;
};

// A SubmitCallback call that was refused, as StatsTotals counts it: in `submissions`, and in
// the counter its kind names.
enum class RefusedSubmission {
  kInvalid,      // INVALID_ARGUMENT: also in invalid_submissions.
  kRateLimited,  // RESOURCE_EXHAUSTED from the rate limit: also in rate_limited.
  kOther,        // Any other refusal (an unknown listing, UNAVAILABLE): submissions only.
};

// Leads assigned to a provider and not yet acknowledged or contacted (state NEW).
struct WaitingLeads {
  int64_t count = 0;
  absl::Time oldest_create_time;
};

// What the database holds now, for metrics.
struct StoreGauges {
  // Leads without a provider (UNASSIGNED).
  int64_t unassigned_leads = 0;
  // By provider id: its leads still NEW.
  std::vector<std::pair<std::string, WaitingLeads>> unacknowledged;
  // Bytes of the database file and of its WAL.
  int64_t database_bytes = 0;
  int64_t wal_bytes = 0;
  // The file system holding the database: its size and what is still free for intaked.
  int64_t filesystem_bytes = 0;
  int64_t filesystem_free_bytes = 0;
};

// The storage the services use. Every method but Submit, CountRefusedSubmission and the
// accessors blocks on the database, so callers run them on threads that may block (never a
// gRPC reactor). Implementations are thread-safe. Errors common to every method: kUnavailable
// when the database cannot be reached or stays busy (safe to retry; writes keyed by a
// request_id are idempotent), kUnimplemented for a behaviour a backend does not offer (said
// at its declaration in that backend).
class Storage {
 public:
  virtual ~Storage() = default;

  // The database's random identity, fixed when it was created: stream cursors and backups
  // are only meaningful against it.
  virtual const std::string& instance_id() const = 0;
  virtual int schema_version() const = 0;
  // Where the data lives, for logs: a file path, or a PostgreSQL database (never a password).
  virtual std::string location() const = 0;

  // Providers. The caller validates (ValidateProvider) before storing. CreateProvider stamps
  // the create and update times; kAlreadyExists if the id is taken. UpdateProvider applies
  // `change` to the stored provider inside the write transaction (it may refuse with a status,
  // which is returned, nothing written) and stamps the update time; kNotFound for an unknown
  // id, as GetProvider. ListProviders: up to `limit` providers with ids after `after`, in id
  // order.
  virtual absl::StatusOr<Provider> CreateProvider(Provider provider) = 0;
  virtual absl::StatusOr<Provider> UpdateProvider(
      const std::string& provider_id, std::function<absl::Status(Provider&)> change) = 0;
  virtual absl::StatusOr<Provider> GetProvider(const std::string& provider_id) = 0;
  virtual absl::StatusOr<Page<Provider>> ListProviders(int limit, const std::string& after) = 0;

  // Listings. CreateListing: kAlreadyExists for a taken id, kNotFound if the provider does not
  // exist. GetListing: kNotFound for an unknown id. ListListings: up to `limit` listings with
  // ids after `after`, in id order; only `provider_id`'s if it is not empty.
  virtual absl::StatusOr<Listing> CreateListing(Listing listing) = 0;
  virtual absl::StatusOr<Listing> GetListing(const std::string& listing_id) = 0;
  virtual absl::StatusOr<Page<Listing>> ListListings(int limit, const std::string& after,
                                                     const std::string& provider_id) = 0;

  // Tokens. IssueProviderToken stores the hash of a new token of `provider_id` under a fresh
  // token_id (kNotFound if the provider does not exist). RevokeProviderToken revokes it and
  // returns it; revoking a revoked token is OK; kNotFound for an unknown token_id.
  // ActiveProviderTokens: every token not revoked.
  virtual absl::StatusOr<ProviderToken> IssueProviderToken(const std::string& provider_id,
                                                           const std::string& token_sha256) = 0;
  virtual absl::StatusOr<ProviderToken> RevokeProviderToken(const std::string& token_id) = 0;
  virtual absl::StatusOr<std::vector<ProviderToken>> ActiveProviderTokens() = 0;

  // The intake path: stores one validated, normalised submission (`bot`: the honeypot was
  // filled), in this order: a known request_id replays its first result; a bot goes to
  // quarantine; a duplicate (same phone hash and target within the dedup window) merges into
  // its lead with a RESUBMITTED event; anything else becomes a lead routed by the domain
  // policy, with its ASSIGNED event. Concurrent submissions share one transaction (group
  // commit). Never blocks: `done` runs once the submission is durably committed (or failed)
  // and must not block. Errors: kNotFound for an unknown listing, kInvalidArgument for a
  // request_id already used with another payload, kUnavailable if the commit failed or its
  // outcome is unknown (retrying with the same request_id is safe), kDeadlineExceeded if the
  // submission's turn in its transaction came after `deadline` (its caller's): then it was not
  // applied and nothing is stored. A writer fallen behind thus spends its time on callers
  // still waiting, not on ones that have given up, which would otherwise make every caller
  // time out for as long as the backlog lasts.
  using SubmitDone = absl::AnyInvocable<void(absl::StatusOr<SubmitResult>) &&>;
  virtual void Submit(Submission submission, bool bot, absl::Time deadline, SubmitDone done) = 0;
  // Submit with no deadline.
  void Submit(Submission submission, bool bot, SubmitDone done) {
    Submit(std::move(submission), bot, absl::InfiniteFuture(), std::move(done));
  }

  // Counts a refused SubmitCallback call in the persistent counters (see RefusedSubmission).
  // Never blocks and never delays the refusal: counts may wait in memory for about a second
  // and be lost in a crash. Safe on any thread, gRPC reactors included.
  virtual void CountRefusedSubmission(RefusedSubmission kind) = 0;

  // Leads. `provider_scope`, when not empty, limits the look-up to that provider's leads:
  // another provider's lead is kNotFound, exactly like an unknown id.
  virtual absl::StatusOr<Lead> GetLead(const std::string& lead_id,
                                       const std::string& provider_scope) = 0;
  // Up to `limit` leads matching `filter`, newest first, after the key `after` (from a
  // previous page's next_after).
  virtual absl::StatusOr<Page<Lead>> ListLeads(const LeadFilter& filter, int limit,
                                               const std::string& after) = 0;
  // Consent evidence and the event history of a lead. kNotFound for an unknown id.
  virtual absl::StatusOr<LeadEvidence> GetLeadEvidence(const std::string& lead_id) = 0;
  // Up to `limit` events with sequence > `after`, in sequence order, with no gap: an event
  // not returned has a sequence above every one returned. Only those addressed to
  // `provider_id` unless it is empty. A provider never sees a lead that is no longer its own:
  // for its REASSIGNED_AWAY events the lead carries only its id.
  virtual absl::StatusOr<std::vector<EventWithLead>> ReadEvents(uint64_t after,
                                                                const std::string& provider_id,
                                                                int limit) = 0;
  // What ReadEvents(after, provider_id, limit) would return now without the events beyond
  // `up_to` (a stream passes the head its clients may already know of), from the backend's
  // memory of its newest events, which it may keep while a live reader is registered. Nullopt
  // when memory does not hold every event after `after` (the reader fell behind, or the
  // backend keeps none, as by default): then ReadEvents. Never blocks on the database: safe on
  // any thread, gRPC reactors and on_events_committed callbacks included.
  virtual std::optional<RecentRead> ReadRecentEvents(uint64_t /*after*/,
                                                     const std::string& /*provider_id*/,
                                                     int /*limit*/, uint64_t /*up_to*/) const {
    return std::nullopt;
  }
  // A live reader (a lead stream) registers while it may call ReadRecentEvents, and drops
  // its registration when it ends. Thread-safe.
  virtual void AddLiveReader() {}
  virtual void RemoveLiveReader() {}

  // Provider feedback, scoped to `provider_id` (kNotFound for another provider's lead).
  // AcknowledgeLead: the first stamps acknowledge_time and moves NEW to ACKNOWLEDGED; later
  // ones change nothing. RecordContactAttempt stores the attempt (the note sealed), sets
  // last_outcome, the first stamps first_contact_time, and the lead becomes CONTACTED. Both:
  // kFailedPrecondition for an OPTED_OUT or ERASED lead.
  virtual absl::StatusOr<Lead> AcknowledgeLead(const std::string& provider_id,
                                               const std::string& lead_id) = 0;
  virtual absl::StatusOr<Lead> RecordContactAttempt(const std::string& provider_id,
                                                    const std::string& lead_id,
                                                    ContactOutcome outcome,
                                                    const std::string& note) = 0;
  // Gives the lead to `provider_id` (reason MANUAL, state NEW, feedback cleared): a
  // REASSIGNED_AWAY event for the old provider and ASSIGNED for the new. Reassigning to the
  // current provider changes nothing. kNotFound for an unknown lead or provider,
  // kFailedPrecondition for an OPTED_OUT or ERASED lead.
  virtual absl::StatusOr<Lead> ReassignLead(const std::string& lead_id,
                                            const std::string& provider_id) = 0;

  // Privacy requests. `e164` is a phone number in E.164 (NormalizePhone); a caller's leads are
  // found by its keyed hash. Each request is one transaction, its events included.

  // Records that the caller revoked consent: every lead of `e164` that is neither OPTED_OUT
  // nor ERASED becomes OPTED_OUT, and every provider that ever received it (each provider its
  // events were addressed to, not only today's) gets an OPTED_OUT event; a lead no provider
  // ever had gets one event for admin watchers. Returns the number of leads changed: 0 for an
  // unknown phone or a repeat. kUnavailable if the commit failed (nothing changed).
  virtual absl::StatusOr<uint32_t> OptOutCaller(absl::string_view e164) = 0;

  // Erases the caller's personal data: every lead of `e164` that is not ERASED yet loses its
  // sealed caller data, its region and the notes of its contact attempts; its keyed phone hash
  // and the payload hashes of its submissions are dropped, so nothing links it to the number
  // any more; it becomes ERASED, and every provider that ever received it gets an ERASED event
  // (as OptOutCaller). The caller's quarantined submissions are deleted. Consent evidence,
  // times, routing and events stay. When this returns OK, the backend has done what it can
  // against old copies: SQLite promises that neither the database file nor its WAL holds
  // one; PostgreSQL vacuums the old row versions but cannot promise as much (its WAL, WAL
  // archives, backups and standbys are the operator's: postgres/postgres_store.h says
  // exactly what it reaches). Returns the number of leads erased. kUnavailable if the commit
  // failed (nothing changed), or if old copies could not be cleared in time (the erasure is
  // committed and the backend keeps trying; calling again is safe).
  virtual absl::StatusOr<uint32_t> EraseCaller(absl::string_view e164) = 0;

  // Deletes every lead last submitted before `older_than`, whatever its state, with its
  // events, contact attempts and submissions, leaving no copy (as EraseCaller), in several
  // transactions so that intake never waits long behind a purge. Returns the number of leads
  // deleted. Sequences are never reused. kUnavailable if a commit failed: what went before
  // stays purged, and calling again with the same `older_than` finishes the job. Runs
  // PurgeLeadBatch until a batch comes short, then ClearOldCopies if any lead went.
  absl::StatusOr<uint32_t> PurgeLeads(absl::Time older_than);
  // The leads one PurgeLeads transaction deletes at most.
  static constexpr int kPurgeBatch = 100;
  // One PurgeLeads transaction: deletes up to `limit` of the leads last submitted before
  // `older_than`, oldest first, with all their rows, but leaves old copies for
  // ClearOldCopies. Returns how many went.
  virtual absl::StatusOr<int> PurgeLeadBatch(absl::Time older_than, int limit) = 0;

  // The accounting of disclosures. RecordDisclosure notes that the provider token `token_id`
  // of `provider_id` has just received the personal data of lead `lead_id` through `channel`;
  // it is kept once per (lead, provider, token), with the channel and time of the first.
  // Never blocks and never delays the caller: records wait in memory, a bounded number of
  // them, and are written in batches shortly after (see the backend for how long, and what
  // happens when too many wait). Safe on any thread, gRPC reactors included.
  virtual void RecordDisclosure(const std::string& lead_id, const std::string& provider_id,
                                const std::string& token_id, DisclosureChannel channel) = 0;
  // Every disclosure of the lead, oldest first; empty for a lead never disclosed or unknown.
  // They stay when the lead is erased, and go when it is purged.
  virtual absl::StatusOr<std::vector<Disclosure>> ListLeadDisclosures(
      const std::string& lead_id) = 0;
  // Every lead of `e164` (an E.164 number, found by its keyed hash, so never an erased one),
  // newest first, each with its disclosures.
  virtual absl::StatusOr<std::vector<LeadDisclosures>> ListCallerDisclosures(
      absl::string_view e164) = 0;
  // Disclosure records dropped since start because too many were waiting (see the backend).
  virtual uint64_t disclosures_dropped() const { return 0; }
  // Quarantine. Up to `limit` quarantined submissions not yet expired (expire_time after now:
  // one past it is never listed, even before a sweep deletes it), newest first (create time,
  // then id, descending), after the key `after` (from a previous page's next_after).
  // kInvalidArgument for an `after` no page gave.
  virtual absl::StatusOr<Page<QuarantinedSubmission>> ListQuarantined(int limit,
                                                                      const std::string& after) = 0;
  // Processes a quarantined submission now as Submit would have had its honeypot been empty,
  // in one transaction with its events: it merges into the caller's open lead for the same
  // target within the dedup window (RESUBMITTED) or becomes a new lead routed by the domain
  // policy (ASSIGNED), created now with its consent dated when it was received; its
  // submission record (what a retried request_id replays) names that lead from then on, and
  // it leaves the quarantine. Returns the lead. kNotFound for an unknown submission id, or
  // one released or expired; kFailedPrecondition for one not kept whole
  // (QuarantinedSubmission::complete).
  virtual absl::StatusOr<Lead> ReleaseQuarantined(const std::string& submission_id) = 0;

  // Retention, in steps: each call is one transaction of at most `limit` rows, so that a
  // sweep never holds the writer long (see RetentionSweeper). A count below `limit` means
  // nothing more is due.
  // Erases the personal data of up to `limit` leads last submitted before `cutoff`, oldest
  // first, exactly as EraseCaller erases it (ERASED events included; OPTED_OUT leads too),
  // but leaves old copies for ClearOldCopies.
  virtual absl::StatusOr<SweepStep> EraseDataSubmittedBefore(absl::Time cutoff, int limit) = 0;
  // Deletes up to `limit` quarantined submissions past their expire time, oldest first.
  virtual absl::StatusOr<SweepStep> DeleteExpiredQuarantine(int limit) = 0;
  // After retention steps: clears the old copies of what they erased or deleted, as
  // EraseCaller does (SQLite: empties the WAL; PostgreSQL: vacuums the tables). kUnavailable
  // if that could not be done in time (calling again is safe).
  virtual absl::Status ClearOldCopies() = 0;

  // The timestamps of the leads created at or after `since`, oldest first, for response
  // figures: up to `limit` from `after` (a page's next_after; empty for the first page).
  // Each page is a short read of its own, so a scan of a window of millions of leads never
  // holds one long read (which on SQLite keeps the WAL from starting over, and on PostgreSQL
  // keeps vacuum from freeing old row versions); pages of one scan may see different moments.
  // kInvalidArgument for a malformed `after`.
  virtual absl::StatusOr<Page<LeadTimes>> ListLeadTimesSince(absl::Time since, int limit,
                                                             const std::string& after) = 0;
  // The persistent counters by name (submissions, leads, duplicates_merged, bot_submissions,
  // invalid_submissions, rate_limited), every refusal counted before this call included.
  virtual absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> Counters() = 0;
  // When the database was created: the counters count from then.
  virtual absl::StatusOr<absl::Time> CreateTime() = 0;
  // What the database holds now, for metrics.
  virtual absl::StatusOr<StoreGauges> Gauges() = 0;

  // The sequence of the newest committed event this process knows of (0 for none). Never
  // blocks. With several replicas on one database it may trail a commit made through another
  // replica by a moment (until the notification arrives); CommittedHeadSequence does not.
  virtual uint64_t head_sequence() const = 0;
  // The sequence of the newest committed event, as the database says now (blocks).
  virtual absl::StatusOr<uint64_t> CommittedHeadSequence() = 0;

  // A consistent copy of the whole database while serving (see the backend). Returns
  // kUnavailable while another backup runs, kCancelled if options.cancelled said so.
  virtual absl::StatusOr<std::unique_ptr<BackupFile>> Backup(const BackupOptions& options) = 0;
};

}  // namespace intake::store

#endif  // INTAKE_SERVER_STORE_STORAGE_H_
