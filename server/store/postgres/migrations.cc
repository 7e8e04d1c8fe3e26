#include "server/store/postgres/migrations.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/store/postgres/locks.h"

namespace intake::store::postgres {
namespace {

// Conventions: times are bigint microseconds since the Unix epoch (UTC), as on SQLite, so
// both backends share one conversion; personal data lives only in sealed bytea columns; ids
// and keys are text COLLATE "C", so that their order (pages, tie-breaks) is bytewise as on
// SQLite whatever the database's locale.
constexpr Migration kMigrations[] = {
    {1, R"sql(
      -- The database's identity: stream cursors and backups are only meaningful against the
      -- database that issued them.
      CREATE TABLE instance (
        singleton integer PRIMARY KEY CHECK (singleton = 1),
        instance_id text NOT NULL,
        create_time_us bigint NOT NULL
      );
      INSERT INTO instance (singleton, instance_id, create_time_us)
        VALUES (1, replace(gen_random_uuid()::text, '-', ''),
                (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);

      -- Providers, their listings and their bearer tokens. regions: comma-separated state
      -- codes ('' = nationwide). hours: comma-separated 'weekday:open-close' minute spans
      -- ('' = always open).
      CREATE TABLE providers (
        provider_id text COLLATE "C" PRIMARY KEY,
        display_name text NOT NULL,
        state integer NOT NULL CHECK (state IN (1, 2)),  -- 1 ACTIVE, 2 PAUSED
        regions text NOT NULL,
        daily_cap bigint NOT NULL CHECK (daily_cap >= 0),
        time_zone text NOT NULL,
        hours text NOT NULL,
        create_time_us bigint NOT NULL,
        update_time_us bigint NOT NULL,
        last_assigned_us bigint
      );
      CREATE TABLE listings (
        listing_id text COLLATE "C" PRIMARY KEY,
        provider_id text COLLATE "C" NOT NULL REFERENCES providers (provider_id),
        display_name text NOT NULL,
        region text NOT NULL,
        create_time_us bigint NOT NULL
      );
      CREATE INDEX listings_by_provider ON listings (provider_id, listing_id);
      -- Only the SHA-256 of a token is kept; the token itself is shown once, at issue.
      CREATE TABLE provider_tokens (
        token_id text COLLATE "C" PRIMARY KEY,
        provider_id text COLLATE "C" NOT NULL REFERENCES providers (provider_id),
        token_sha256 bytea NOT NULL UNIQUE,
        create_time_us bigint NOT NULL,
        revoke_time_us bigint
      );

      -- The intake path. Personal data (name, phone, postal code, message, client IP, user
      -- agent, referrer) lives only inside `sealed` (libsodium secretbox); leads are found by
      -- phone_hash, a keyed hash of the E.164 number.
      CREATE TABLE consent_texts (
        sha256 bytea PRIMARY KEY,
        text text NOT NULL
      );
      CREATE TABLE leads (
        lead_id text COLLATE "C" PRIMARY KEY,
        state integer NOT NULL,               -- intake::LeadState
        phone_hash bytea NOT NULL,
        target text COLLATE "C" NOT NULL,     -- listing_id, or '' for the general helpline
        provider_id text COLLATE "C" REFERENCES providers (provider_id),
        routing_reason integer NOT NULL,      -- intake::RoutingReason + 1
        routing_detail text NOT NULL,
        region text NOT NULL,
        sealed bytea,                         -- NULL once erased
        form_id text NOT NULL,
        page_url text NOT NULL,
        utm_source text NOT NULL,
        utm_medium text NOT NULL,
        utm_campaign text NOT NULL,
        consent_sha256 bytea NOT NULL REFERENCES consent_texts (sha256),
        advertisers text NOT NULL,            -- newline-separated
        consent_time_us bigint NOT NULL,
        create_time_us bigint NOT NULL,
        last_submit_time_us bigint NOT NULL,
        submission_count bigint NOT NULL,
        acknowledge_time_us bigint,
        first_contact_time_us bigint,
        last_outcome integer
      );
      CREATE INDEX leads_by_phone ON leads (phone_hash, target, last_submit_time_us);
      CREATE INDEX leads_by_provider ON leads (provider_id, create_time_us);
      -- Covering for the response figures' scan of the window.
      CREATE INDEX leads_by_create_time ON leads (create_time_us)
        INCLUDE (provider_id, acknowledge_time_us, first_contact_time_us);
      -- Every accepted submission; request_id makes retries idempotent, across replicas too
      -- (the unique index is what a second replica's insert of the same request_id meets).
      CREATE TABLE submissions (
        submission_id text COLLATE "C" PRIMARY KEY,
        request_id text COLLATE "C" UNIQUE,
        payload_sha256 bytea NOT NULL,
        outcome integer NOT NULL,             -- intake::SubmissionOutcome
        lead_id text COLLATE "C",
        create_time_us bigint NOT NULL
      );
      -- The event log and outbox of every lead stream. Sequences are assigned at commit from
      -- lead_event_head (event_log.h), never from a sequence object: they follow commit order
      -- and have no gaps. The head only grows, so a sequence is never reused, even after the
      -- newest events are purged.
      CREATE TABLE lead_events (
        sequence bigint PRIMARY KEY,
        lead_id text COLLATE "C" NOT NULL,
        provider_id text COLLATE "C",         -- whose stream carries it; NULL: admin watchers only
        type integer NOT NULL,                -- intake::LeadEventType
        event_time_us bigint NOT NULL
      );
      CREATE INDEX lead_events_by_provider ON lead_events (provider_id, sequence);
      CREATE INDEX lead_events_by_lead ON lead_events (lead_id, sequence);
      CREATE TABLE lead_event_head (
        singleton integer PRIMARY KEY CHECK (singleton = 1),
        last_sequence bigint NOT NULL CHECK (last_sequence >= 0)
      );
      INSERT INTO lead_event_head (singleton, last_sequence) VALUES (1, 0);
      -- Honeypot hits: no lead, PII sealed, deleted after expire_time_us.
      CREATE TABLE quarantine (
        submission_id text COLLATE "C" PRIMARY KEY,
        listing_id text COLLATE "C" NOT NULL,
        sealed bytea NOT NULL,
        create_time_us bigint NOT NULL,
        expire_time_us bigint NOT NULL
      );
      CREATE INDEX quarantine_by_expiry ON quarantine (expire_time_us);
      -- Totals for GetStats, kept in the same transactions as what they count.
      CREATE TABLE counters (
        name text COLLATE "C" PRIMARY KEY,
        value bigint NOT NULL
      );
      INSERT INTO counters (name, value) VALUES
        ('submissions', 0), ('leads', 0), ('duplicates_merged', 0), ('bot_submissions', 0);

      -- Providers' call-back attempts. The note is free text a provider may fill with
      -- caller details despite being asked not to, so it is sealed like other PII.
      CREATE TABLE contact_attempts (
        lead_id text COLLATE "C" NOT NULL REFERENCES leads (lead_id),
        provider_id text COLLATE "C" NOT NULL,
        attempt_time_us bigint NOT NULL,
        outcome integer NOT NULL,             -- intake::ContactOutcome
        note_sealed bytea NOT NULL
      );
      CREATE INDEX contact_attempts_by_lead ON contact_attempts (lead_id, attempt_time_us);
    )sql"},
    {2, R"sql(
      -- SQLite's migrations 6 to 9, for the PostgresStore.
      -- Refused submissions, counted as durably as the rest.
      INSERT INTO counters (name, value) VALUES ('invalid_submissions', 0), ('rate_limited', 0);
      -- The id (PiiCipher::key_id, never the key) of the data key the sealed data is sealed
      -- with: a replica started with another key is refused instead of failing on every lead.
      ALTER TABLE instance ADD COLUMN data_key_id text;
      -- Every assignment is an ASSIGNED event addressed to its provider; the daily cap counts
      -- them by this index.
      CREATE INDEX lead_events_assigned ON lead_events (provider_id, event_time_us)
        WHERE type = 1;
      -- The leads still waiting for someone (UNASSIGNED 2, NEW 1), for metrics.
      CREATE INDEX leads_unassigned ON leads (state) WHERE state = 2;
      CREATE INDEX leads_unacknowledged ON leads (provider_id, create_time_us)
        WHERE state = 1;
    )sql"},
    {3, R"sql(
      -- SQLite's migration 12: the accounting of disclosures, the first time each provider
      -- token received a lead's personal data, and how (intake::DisclosureChannel). No
      -- personal data: ids and times. Kept when the lead is erased (the audit trail).
      CREATE TABLE disclosures (
        lead_id text COLLATE "C" NOT NULL,
        provider_id text COLLATE "C" NOT NULL,
        token_id text COLLATE "C" NOT NULL,
        channel integer NOT NULL,
        first_time_us bigint NOT NULL,
        PRIMARY KEY (lead_id, provider_id, token_id)
      );
    )sql"},
    {4, R"sql(
      -- SQLite's migrations 11 and 13, for the privacy operations. Erasure finds a caller's
      -- quarantined submissions by the keyed phone hash, as it finds leads; rows quarantined
      -- before this migration get it when the next replica starts (PostgresStore::Open).
      ALTER TABLE quarantine ADD COLUMN phone_hash bytea;
      CREATE INDEX quarantine_by_phone ON quarantine (phone_hash);
      -- Ops review the quarantine newest first (ListQuarantined).
      CREATE INDEX quarantine_by_create_time ON quarantine (create_time_us, submission_id);
      -- Erasure and purges reach a lead's submissions.
      CREATE INDEX submissions_by_lead ON submissions (lead_id) WHERE lead_id IS NOT NULL;
      -- The retention sweep's leads still holding personal data, oldest last submitted first:
      -- erased leads leave the index and cost the sweep nothing.
      CREATE INDEX leads_with_data ON leads (last_submit_time_us) WHERE sealed IS NOT NULL;
    )sql"},
};

// The version inside the open transaction; 0 without a schema_version table.
absl::StatusOr<int> ReadVersion(Connection& conn) {
  absl::StatusOr<Result> exists = conn.Exec("SELECT to_regclass('schema_version') IS NOT NULL");
  if (!exists.ok()) return exists.status();
  if (exists->Text(0, 0) != "t") return 0;
  absl::StatusOr<Result> version = conn.Exec("SELECT max(version) FROM schema_version");
  if (!version.ok()) return version.status();
  return static_cast<int>(version->Int64(0, 0));
}

// Migrate's work inside its transaction: returns the version now in force.
absl::StatusOr<int> MigrateLocked(Connection& conn, absl::Span<const Migration> migrations) {
  const int latest = static_cast<int>(migrations.size());
  absl::StatusOr<Result> locked =
      conn.Exec("SELECT pg_advisory_xact_lock($1, $2)", {kLockClass, kMigrationLock});
  if (!locked.ok()) return locked.status();
  absl::StatusOr<int> current = ReadVersion(conn);
  if (!current.ok()) return current.status();
  if (*current > latest) {
    return absl::FailedPreconditionError(
        absl::StrFormat("the database has schema version %d but this intaked knows only up to %d; "
                        "run a newer intaked",
                        *current, latest));
  }
  if (*current == latest) return latest;
  if (*current == 0) {
    absl::Status created =
        conn.ExecScript("CREATE TABLE schema_version (version integer NOT NULL)");
    if (!created.ok()) return created;
  }
  for (int v = *current + 1; v <= latest; ++v) {
    absl::Status step = conn.ExecScript(migrations[v - 1].sql);
    if (!step.ok()) {
      return absl::Status(step.code(), absl::StrCat("migration ", v, ": ", step.message()));
    }
  }
  absl::StatusOr<std::vector<Result>> set = conn.ExecAll({
      {"DELETE FROM schema_version", {}},
      {"INSERT INTO schema_version (version) VALUES ($1)", {latest}},
  });
  if (!set.ok()) return set.status();
  return latest;
}

}  // namespace

absl::Span<const Migration> SchemaMigrations() { return kMigrations; }

absl::StatusOr<int> SchemaVersion(Connection& conn) { return ReadVersion(conn); }

absl::StatusOr<int> Migrate(Connection& conn, absl::Span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("migration #%d has version %d", i + 1, migrations[i].version));
    }
  }
  if (absl::Status begun = conn.ExecScript("BEGIN"); !begun.ok()) return begun;
  absl::StatusOr<int> version = MigrateLocked(conn, migrations);
  // Also ends the transaction of a database that needed nothing, releasing the lock.
  absl::Status ended = conn.ExecScript(version.ok() ? "COMMIT" : "ROLLBACK");
  if (!version.ok()) {
    return absl::Status(version.status().code(),
                        absl::StrCat("migrating the schema: ", version.status().message()));
  }
  if (!ended.ok()) return ended;
  return version;
}

}  // namespace intake::store::postgres
