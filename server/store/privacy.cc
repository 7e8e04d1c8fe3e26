// Store: a caller's privacy requests (opt-out, erasure), retention and deleting old leads.
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "SQLiteCpp/Statement.h"
#include "SQLiteCpp/Transaction.h"
#include "absl/strings/str_cat.h"
#include "server/domain/status_macros.h"
#include "server/store/rows.h"
#include "server/store/sqlite_status.h"
#include "server/store/store.h"

namespace intake::store {
namespace {

using rows::BindBlob;
using rows::ToMicros;

// The ids of the leads with this phone hash, except those in the states `skip_a`/`skip_b`.
std::vector<std::string> LeadsOfPhone(StatementCache& sql, const std::string& phone_hash,
                                      LeadState skip_a, LeadState skip_b) {
  SQLite::Statement& query =
      sql.Get("SELECT lead_id FROM leads WHERE phone_hash = ? AND state NOT IN (?, ?)");
  BindBlob(query, 1, phone_hash);
  query.bind(2, static_cast<int>(skip_a));
  query.bind(3, static_cast<int>(skip_b));
  return rows::FirstColumnText(query);
}

}  // namespace

namespace rows {

void AppendEventForEveryRecipient(StatementCache& sql, const std::string& lead_id,
                                  LeadEventType type, int64_t now) {
  // The event log names every provider a lead was ever addressed to: its first owner, and
  // each one ReassignLead gave it to.
  SQLite::Statement& query = sql.Get(
      "SELECT DISTINCT provider_id FROM lead_events WHERE lead_id = ? AND provider_id IS NOT "
      "NULL ORDER BY provider_id");
  query.bind(1, lead_id);
  std::vector<std::string> providers = FirstColumnText(query);
  if (providers.empty()) providers.emplace_back();  // Admin watchers only.
  for (const std::string& provider : providers) AppendEvent(sql, lead_id, provider, type, now);
}

void EraseLeadData(StatementCache& sql, const std::string& lead_id, int64_t now) {
  // secure_delete overwrites the old cells; the caller empties the WAL after the commit.
  SQLite::Statement& lead = sql.Get(
      "UPDATE leads SET state = ?, sealed = NULL, region = '', phone_hash = X'' "
      "WHERE lead_id = ?");
  lead.bind(1, static_cast<int>(LeadState::kErased));
  lead.bind(2, lead_id);
  lead.exec();
  // Provider notes may hold what the caller said despite being asked not to.
  SQLite::Statement& notes =
      sql.Get("UPDATE contact_attempts SET note_sealed = X'' WHERE lead_id = ?");
  notes.bind(1, lead_id);
  notes.exec();
  // A payload hash is keyed, but whoever holds the key could confirm a guessed submission
  // with it. Without it a retried request_id replays its first result (see ApplySubmission).
  SQLite::Statement& payloads =
      sql.Get("UPDATE submissions SET payload_sha256 = X'' WHERE lead_id = ?");
  payloads.bind(1, lead_id);
  payloads.exec();
  AppendEventForEveryRecipient(sql, lead_id, LeadEventType::kErased, now);
}

}  // namespace rows

absl::StatusOr<uint32_t> Store::OptOutCaller(absl::string_view e164) {
  const std::string phone_hash = cipher_.PhoneHash(e164);
  const int64_t now = ToMicros(clock_.Now());
  uint32_t changed = 0;
  INTAKE_RETURN_IF_ERROR(writer_.Run([&](SQLite::Database&) -> absl::Status {
    StatementCache& sql = writer_.statements();
    const std::vector<std::string> leads =
        LeadsOfPhone(sql, phone_hash, LeadState::kOptedOut, LeadState::kErased);
    for (const std::string& lead_id : leads) {
      SQLite::Statement& update = sql.Get("UPDATE leads SET state = ? WHERE lead_id = ?");
      update.bind(1, static_cast<int>(LeadState::kOptedOut));
      update.bind(2, lead_id);
      update.exec();
      rows::AppendEventForEveryRecipient(sql, lead_id, LeadEventType::kOptedOut, now);
    }
    changed = static_cast<uint32_t>(leads.size());
    return absl::OkStatus();
  }));
  return changed;
}

absl::StatusOr<uint32_t> Store::EraseCaller(absl::string_view e164) {
  const std::string phone_hash = cipher_.PhoneHash(e164);
  const int64_t now = ToMicros(clock_.Now());
  uint32_t erased = 0;
  INTAKE_RETURN_IF_ERROR(writer_.Run([&](SQLite::Database&) -> absl::Status {
    StatementCache& sql = writer_.statements();
    // ERASED is final; OPTED_OUT leads still hold data.
    const std::vector<std::string> leads =
        LeadsOfPhone(sql, phone_hash, LeadState::kErased, LeadState::kErased);
    for (const std::string& lead_id : leads) rows::EraseLeadData(sql, lead_id, now);
    SQLite::Statement& quarantined = sql.Get("DELETE FROM quarantine WHERE phone_hash = ?");
    BindBlob(quarantined, 1, phone_hash);
    quarantined.exec();
    erased = static_cast<uint32_t>(leads.size());
    return absl::OkStatus();
  }));
  INTAKE_RETURN_IF_ERROR(TruncateWal());
  return erased;
}

absl::StatusOr<int> Store::PurgeLeadBatch(absl::Time older_than, int limit) {
  int purged = 0;
  INTAKE_RETURN_IF_ERROR(writer_.Run([&](SQLite::Database&) -> absl::Status {
    StatementCache& sql = writer_.statements();
    // A lead is created before it is last submitted: the creation-time index finds them.
    SQLite::Statement& query = sql.Get(
        "SELECT lead_id FROM leads WHERE create_time_us < ?1 AND last_submit_time_us < ?1 "
        "ORDER BY create_time_us LIMIT ?2");
    query.bind(1, ToMicros(older_than));
    query.bind(2, limit);
    const std::vector<std::string> leads = rows::FirstColumnText(query);
    for (const std::string& lead_id : leads) {
      // Children first: contact attempts refer to the lead.
      for (const char* statement :
           {"DELETE FROM lead_events WHERE lead_id = ?",
            "DELETE FROM disclosures WHERE lead_id = ?",
            "DELETE FROM contact_attempts WHERE lead_id = ?",
            "DELETE FROM submissions WHERE lead_id = ?", "DELETE FROM leads WHERE lead_id = ?"}) {
        SQLite::Statement& remove = sql.Get(statement);
        remove.bind(1, lead_id);
        remove.exec();
      }
    }
    purged = static_cast<int>(leads.size());
    // No event announces a purge, so the events kept in memory would still show these
    // leads to live streams: drop them, and streams read the disk until the next commit.
    if (purged > 0) recent_.Clear();
    return absl::OkStatus();
  }));
  return purged;
}

absl::StatusOr<SweepStep> Store::EraseDataSubmittedBefore(absl::Time cutoff, int limit) {
  SweepStep step;
  INTAKE_RETURN_IF_ERROR(writer_.Run(
      [&](SQLite::Database&) -> absl::Status {
        StatementCache& sql = writer_.statements();
        const int64_t now = ToMicros(clock_.Now());
        // `sealed IS NOT NULL` as written in the partial index leads_with_data (migration 12),
        // which holds only leads that still have data: erased ones cost the sweep nothing.
        SQLite::Statement& query = sql.Get(
            "SELECT lead_id FROM leads WHERE sealed IS NOT NULL AND last_submit_time_us < ? "
            "ORDER BY last_submit_time_us LIMIT ?");
        query.bind(1, ToMicros(cutoff));
        query.bind(2, limit);
        const std::vector<std::string> leads = rows::FirstColumnText(query);
        for (const std::string& lead_id : leads) rows::EraseLeadData(sql, lead_id, now);
        step.count = static_cast<int>(leads.size());
        return absl::OkStatus();
      },
      &step.held));
  return step;
}

absl::StatusOr<SweepStep> Store::DeleteExpiredQuarantine(int limit) {
  SweepStep step;
  INTAKE_RETURN_IF_ERROR(writer_.Run(
      [&](SQLite::Database&) -> absl::Status {
        SQLite::Statement& remove = writer_.statements().Get(
            "DELETE FROM quarantine WHERE submission_id IN (SELECT submission_id FROM "
            "quarantine WHERE expire_time_us <= ? ORDER BY expire_time_us LIMIT ?)");
        remove.bind(1, ToMicros(clock_.Now()));
        remove.bind(2, limit);
        step.count = remove.exec();
        return absl::OkStatus();
      },
      &step.held));
  return step;
}

absl::Status Store::TruncateWal() {
  absl::Status truncated = writer_.TruncateWal(options_.wal_truncate_timeout);
  if (truncated.ok()) return truncated;
  return absl::UnavailableError(
      "the data is gone from the database, but readers kept its write-ahead log busy, so old "
      "copies may remain there until the server empties it; it keeps trying, and retrying is "
      "safe");
}

absl::Status Store::FillQuarantinePhoneHashes(SQLite::Database& db, const PiiCipher& cipher) {
  try {
    SQLite::Statement query(db,
                            "SELECT submission_id, sealed FROM quarantine "
                            "WHERE phone_hash IS NULL");
    std::vector<std::pair<std::string, std::string>> hashes;
    while (query.executeStep()) {
      const SQLite::Column sealed = query.getColumn(1);
      absl::StatusOr<std::vector<std::string>> fields = cipher.Open(std::string(
          static_cast<const char*>(sealed.getBlob()), static_cast<size_t>(sealed.getBytes())));
      if (!fields.ok() || fields->size() < 2) {
        return absl::DataLossError("a quarantined submission does not open with the data key");
      }
      hashes.emplace_back(query.getColumn(0).getString(), cipher.PhoneHash((*fields)[1]));
    }
    if (hashes.empty()) return absl::OkStatus();
    SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
    for (const auto& [submission_id, phone_hash] : hashes) {
      SQLite::Statement update(db, "UPDATE quarantine SET phone_hash = ? WHERE submission_id = ?");
      BindBlob(update, 1, phone_hash);
      update.bind(2, submission_id);
      update.exec();
    }
    txn.commit();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return SqliteError("filling in the phone hashes of quarantined submissions", e);
  }
}

}  // namespace intake::store
