// Row helpers shared by the store's source files: time columns, and reading providers.
// Internal to server/store.
#ifndef INTAKE_SERVER_STORE_ROWS_H_
#define INTAKE_SERVER_STORE_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/domain/lead.h"
#include "server/domain/provider.h"
#include "server/store/statement_cache.h"

namespace intake::store::rows {

// Times are stored as microseconds since the Unix epoch.
int64_t ToMicros(absl::Time t);
absl::Time FromMicros(int64_t us);

// Blobs, bound and read as std::string.
void BindBlob(SQLite::Statement& stmt, int index, const std::string& blob);
std::string Blob(const SQLite::Column& column);

// Steps `query` to its end and returns its first column as text, then resets it: the ids a
// write selects before it changes their rows.
std::vector<std::string> FirstColumnText(SQLite::Statement& query);

// Page keys of listings newest first: "<time in microseconds>/<id>".
std::string TimeKey(absl::Time time, const std::string& id);
// The time and id of a TimeKey; kInvalidArgument for anything else. The empty key is the
// start: a time and an id after every other.
absl::Status ParseTimeKey(const std::string& key, int64_t* time_us, std::string* id);
// As ParseTimeKey, for pages oldest first: the empty key is the start of those from `since`
// on, a time of `since` and an id before every other.
absl::Status ParseTimeKeySince(const std::string& key, absl::Time since, int64_t* time_us,
                               std::string* id);

// A provider's opening hours as stored: comma-separated "weekday:open-close" minute spans.
std::string EncodeHours(const std::vector<OpeningPeriod>& hours);
std::vector<OpeningPeriod> DecodeHours(absl::string_view text);

inline constexpr char kProviderColumns[] =
    "provider_id, display_name, state, regions, daily_cap, time_zone, hours, create_time_us, "
    "update_time_us";

// A provider from a row selected with kProviderColumns first.
Provider ReadProvider(SQLite::Statement& row);
std::optional<Provider> SelectProvider(SQLite::Database& db, const std::string& id);

// Appends an event to the log; an empty provider_id addresses admin watchers only. An
// ASSIGNED event is an assignment to its provider, whoever made it: it also moves the
// provider's last_assigned_us, which rotation orders by. Writer thread only.
void AppendEvent(StatementCache& sql, const std::string& lead_id, const std::string& provider_id,
                 LeadEventType type, int64_t now);

// Appends a `type` event addressed to every provider that ever received the lead (each one
// its events were addressed to), or one for admin watchers only if none did. Writer thread
// only.
void AppendEventForEveryRecipient(StatementCache& sql, const std::string& lead_id,
                                  LeadEventType type, int64_t now);

// Erases a lead's personal data (see Store::EraseCaller) and appends its ERASED events; the
// lead must not be ERASED already. Writer thread only, inside the write's transaction.
void EraseLeadData(StatementCache& sql, const std::string& lead_id, int64_t now);

// The sequence of the newest event ever written (0 for none).
uint64_t LastSequence(SQLite::Database& db);

// Store::Gauges' queries, each read from a partial index of migration 9 (leads_unassigned,
// leads_unacknowledged). The states are literals: SQLite uses a partial index only for a
// query whose WHERE implies the index's, which it cannot prove for a bound parameter.
inline constexpr char kUnassignedLeadsQuery[] = "SELECT count(*) FROM leads WHERE state = 2";
inline constexpr char kWaitingLeadsQuery[] =
    "SELECT provider_id, count(*), min(create_time_us) FROM leads WHERE state = 1 "
    "GROUP BY provider_id";
static_assert(static_cast<int>(LeadState::kNew) == 1 &&
                  static_cast<int>(LeadState::kUnassigned) == 2,
              "kUnassignedLeadsQuery, kWaitingLeadsQuery and their indexes name these states");

}  // namespace intake::store::rows

#endif  // INTAKE_SERVER_STORE_ROWS_H_
