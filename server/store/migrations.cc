#include "server/store/migrations.h"

#include <exception>

#include "SQLiteCpp/Statement.h"
#include "SQLiteCpp/Transaction.h"
#include "absl/strings/str_format.h"
#include "server/store/sqlite_status.h"

namespace intake::store {
namespace {

constexpr Migration kMigrations[] = {
    {1, R"sql(
      -- The database's identity: stream cursors and backups are only meaningful against the
      -- database that issued them, so the id is reported at start-up and in heartbeats.
      CREATE TABLE instance (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        instance_id TEXT NOT NULL,
        create_time_us INTEGER NOT NULL
      ) STRICT;
      INSERT INTO instance (singleton, instance_id, create_time_us)
        VALUES (1, lower(hex(randomblob(16))), CAST((julianday('now') - 2440587.5)
                * 86400000000 AS INTEGER));
    )sql"},
    {2, R"sql(
      -- Providers, their listings and their bearer tokens. Times are microseconds since the
      -- Unix epoch (UTC). regions: comma-separated state codes ('' = nationwide). hours:
      -- comma-separated 'weekday:open-close' minute spans ('' = always open).
      CREATE TABLE providers (
        provider_id TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        state INTEGER NOT NULL CHECK (state IN (1, 2)),  -- 1 ACTIVE, 2 PAUSED
        regions TEXT NOT NULL,
        daily_cap INTEGER NOT NULL CHECK (daily_cap >= 0),
        time_zone TEXT NOT NULL,
        hours TEXT NOT NULL,
        create_time_us INTEGER NOT NULL,
        update_time_us INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE listings (
        listing_id TEXT PRIMARY KEY,
        provider_id TEXT NOT NULL REFERENCES providers (provider_id),
        display_name TEXT NOT NULL,
        region TEXT NOT NULL,
        create_time_us INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX listings_by_provider ON listings (provider_id, listing_id);
      -- Only the SHA-256 of a token is kept; the token itself is shown once, at issue.
      CREATE TABLE provider_tokens (
        token_id TEXT PRIMARY KEY,
        provider_id TEXT NOT NULL REFERENCES providers (provider_id),
        token_sha256 BLOB NOT NULL UNIQUE,
        create_time_us INTEGER NOT NULL,
        revoke_time_us INTEGER
      ) STRICT, WITHOUT ROWID;
    )sql"},
    {3, R"sql(
      -- The intake path. Personal data (name, phone, postal code, message, client IP, user
      -- agent, referrer) lives only inside `sealed` (libsodium secretbox); leads are found by
      -- phone_hash, a keyed hash of the E.164 number.
      ALTER TABLE providers ADD COLUMN last_assigned_us INTEGER;
      -- Each consent text once, by its SHA-256: the proof of what a caller was shown.
      CREATE TABLE consent_texts (
        sha256 BLOB PRIMARY KEY,
        text TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE leads (
        lead_id TEXT PRIMARY KEY,
        state INTEGER NOT NULL,           -- intake::LeadState
        phone_hash BLOB NOT NULL,
        target TEXT NOT NULL,             -- listing_id, or '' for the general helpline
        provider_id TEXT REFERENCES providers (provider_id),
        routing_reason INTEGER NOT NULL,  -- intake::RoutingReason + 1
        routing_detail TEXT NOT NULL,
        region TEXT NOT NULL,
        sealed BLOB,                      -- NULL once erased
        form_id TEXT NOT NULL,
        page_url TEXT NOT NULL,
        utm_source TEXT NOT NULL,
        utm_medium TEXT NOT NULL,
        utm_campaign TEXT NOT NULL,
        consent_sha256 BLOB NOT NULL REFERENCES consent_texts (sha256),
        advertisers TEXT NOT NULL,        -- newline-separated
        consent_time_us INTEGER NOT NULL,
        create_time_us INTEGER NOT NULL,
        last_submit_time_us INTEGER NOT NULL,
        submission_count INTEGER NOT NULL,
        acknowledge_time_us INTEGER,
        first_contact_time_us INTEGER,
        last_outcome INTEGER
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX leads_by_phone ON leads (phone_hash, target, last_submit_time_us);
      CREATE INDEX leads_by_provider ON leads (provider_id, create_time_us);
      -- Every accepted submission; request_id makes retries idempotent.
      CREATE TABLE submissions (
        submission_id TEXT PRIMARY KEY,
        request_id TEXT UNIQUE,
        payload_sha256 BLOB NOT NULL,
        outcome INTEGER NOT NULL,         -- intake::SubmissionOutcome
        lead_id TEXT,
        create_time_us INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      -- The event log and outbox of every lead stream. AUTOINCREMENT: a sequence is never
      -- reused, even after the newest events are purged.
      CREATE TABLE lead_events (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        lead_id TEXT NOT NULL,
        provider_id TEXT,                 -- whose stream carries it; NULL: admin watchers only
        type INTEGER NOT NULL,            -- intake::LeadEventType
        event_time_us INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX lead_events_by_provider ON lead_events (provider_id, sequence);
      CREATE INDEX lead_events_by_lead ON lead_events (lead_id, sequence);
      -- Honeypot hits: no lead, PII sealed, deleted after expire_time_us.
      CREATE TABLE quarantine (
        submission_id TEXT PRIMARY KEY,
        listing_id TEXT NOT NULL,
        sealed BLOB NOT NULL,
        create_time_us INTEGER NOT NULL,
        expire_time_us INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX quarantine_by_expiry ON quarantine (expire_time_us);
      -- Totals for GetStats, kept in the same transactions as what they count.
      CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;
      INSERT INTO counters (name, value) VALUES
        ('submissions', 0), ('leads', 0), ('duplicates_merged', 0), ('bot_submissions', 0);
    )sql"},
    {4, R"sql(
      -- Providers' call-back attempts. The note is free text a provider may fill with
      -- caller details despite being asked not to, so it is sealed like other PII.
      CREATE TABLE contact_attempts (
        lead_id TEXT NOT NULL REFERENCES leads (lead_id),
        provider_id TEXT NOT NULL,
        attempt_time_us INTEGER NOT NULL,
        outcome INTEGER NOT NULL,          -- intake::ContactOutcome
        note_sealed BLOB NOT NULL
      ) STRICT;
      CREATE INDEX contact_attempts_by_lead ON contact_attempts (lead_id, attempt_time_us);
      CREATE INDEX leads_by_create_time ON leads (create_time_us);
    )sql"},
    {5, R"sql(
      -- Covering for the response figures' scan of the window (Store::LeadTimesSince), which
      -- then reads no lead row: ten times faster over a million leads.
      DROP INDEX leads_by_create_time;
      CREATE INDEX leads_by_create_time
        ON leads (create_time_us, provider_id, acknowledge_time_us, first_contact_time_us);
    )sql"},
    {6, R"sql(
      -- Refused submissions, counted as durably as the rest (Store::CountRefusedSubmission).
      INSERT OR IGNORE INTO counters (name, value) VALUES
        ('invalid_submissions', 0), ('rate_limited', 0);
    )sql"},
    {7, R"sql(
      -- The id (PiiCipher::key_id, never the key) of the data key the sealed data is sealed
      -- with: a database restored without its key, or beside a new one, is refused at start
      -- instead of failing on every lead. NULL until the first start that knows of it.
      ALTER TABLE instance ADD COLUMN data_key_id TEXT;
    )sql"},
    {8, R"sql(
      -- Every assignment, whoever made it (routing, a listing, ops' ReassignLead), is an
      -- ASSIGNED event addressed to its provider, and stays one when the lead moves on. The
      -- daily cap counts them by this index (Store: LoadCandidates), and
      -- providers.last_assigned_us follows the newest of them (rows::AppendEvent); ReassignLead
      -- did not stamp it before.
      CREATE INDEX lead_events_assigned ON lead_events (provider_id, event_time_us)
        WHERE type = 1;
      UPDATE providers SET last_assigned_us = (
        SELECT max(event_time_us) FROM lead_events
        WHERE lead_events.provider_id = providers.provider_id AND type = 1);
    )sql"},
    {9, R"sql(
      -- The leads still waiting for someone: UNASSIGNED (2), and NEW (1: assigned, not yet
      -- acknowledged). Few on a healthy system, so metrics count them from these small
      -- indexes (Store::Gauges) without reading the table. The state is an index column so
      -- that SQLite needs no table row to check it.
      CREATE INDEX leads_unassigned ON leads (state) WHERE state = 2;
      CREATE INDEX leads_unacknowledged ON leads (provider_id, create_time_us, state)
        WHERE state = 1;
    )sql"},
    {10, R"sql(
      -- Payload hashes were BLAKE2b without a key before this version (PiiCipher never derived
      -- its payload subkey), so anyone could confirm a guessed submission against them. They
      -- cannot be re-keyed without the payloads, so they go: a request_id recorded before
      -- this version replays its first outcome whatever the retry carries
      -- (Store::ApplySubmission treats an empty hash so).
      UPDATE submissions SET payload_sha256 = X'';
    )sql"},
    {11, R"sql(
      -- Erasure: a lead's submissions lose their payload hash (a keyed hash of the caller's
      -- data), and a caller's quarantined submissions go too, found by the same keyed phone
      -- hash as leads. Rows quarantined before this migration get it at the next start-up
      -- (Store::Open; the key is not in the database).
      CREATE INDEX submissions_by_lead ON submissions (lead_id) WHERE lead_id IS NOT NULL;
      ALTER TABLE quarantine ADD COLUMN phone_hash BLOB;
      CREATE INDEX quarantine_by_phone ON quarantine (phone_hash);
    )sql"},
    {12, R"sql(
      -- The accounting of disclosures: the first time each provider token received a lead's
      -- personal data, and how (intake::DisclosureChannel). No personal data: ids and times.
      -- Kept when the lead is erased (the audit trail), deleted with it when it is purged.
      CREATE TABLE disclosures (
        lead_id TEXT NOT NULL,
        provider_id TEXT NOT NULL,
        token_id TEXT NOT NULL,
        channel INTEGER NOT NULL,
        first_time_us INTEGER NOT NULL,
        PRIMARY KEY (lead_id, provider_id, token_id)
      ) STRICT, WITHOUT ROWID;
    )sql"},
    {13, R"sql(
      -- Retention erases the data of the leads last submitted longest ago first
      -- (Store::EraseDataSubmittedBefore). Only leads that still have data are in the index,
      -- so the erased ones, which stay, cost a sweep nothing.
      CREATE INDEX leads_with_data ON leads (last_submit_time_us) WHERE sealed IS NOT NULL;
      -- Ops review the quarantine newest first (Store::ListQuarantined).
      CREATE INDEX quarantine_by_create_time ON quarantine (create_time_us, submission_id);
    )sql"},
};

int ReadVersion(SQLite::Database& db) {
  if (!db.tableExists("schema_version")) return 0;
  SQLite::Statement query(db, "SELECT version FROM schema_version");
  return query.executeStep() ? query.getColumn(0).getInt() : 0;
}

}  // namespace

absl::Span<const Migration> SchemaMigrations() { return kMigrations; }

absl::StatusOr<int> SchemaVersion(SQLite::Database& db) {
  try {
    return ReadVersion(db);
  } catch (const std::exception& e) {
    return SqliteError("reading schema version", e);
  }
}

absl::StatusOr<int> Migrate(SQLite::Database& db, absl::Span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("migration #%d has version %d", i + 1, migrations[i].version));
    }
  }
  const int latest = static_cast<int>(migrations.size());
  try {
    // IMMEDIATE: two processes opening one fresh database must not both migrate it.
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT");
    const int current = ReadVersion(db);
    if (current > latest) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the database has schema version %d but this intaked knows only up to %d; "
          "run a newer intaked",
          current, latest));
    }
    if (current == latest) return current;
    for (int v = current + 1; v <= latest; ++v) db.exec(migrations[v - 1].sql);
    db.exec("DELETE FROM schema_version");
    SQLite::Statement set(db, "INSERT INTO schema_version (version) VALUES (?)");
    set.bind(1, latest);
    set.exec();
    txn.commit();
    return latest;
  } catch (const std::exception& e) {
    return SqliteError("migrating the schema", e);
  }
}

}  // namespace intake::store
