// Store: submissions quarantined as bots, for ops to review and release.
#include <stdexcept>
#include <string>
#include <utility>

#include "SQLiteCpp/Statement.h"
#include "absl/strings/str_cat.h"
#include "server/domain/status_macros.h"
#include "server/store/rows.h"
#include "server/store/store.h"
#include "server/store/submission_fields.h"

namespace intake::store {
namespace {

// Columns ReadQuarantined expects, in order.
#define INTAKE_QUARANTINE_COLUMNS \
  "submission_id, listing_id, sealed, create_time_us, expire_time_us"
constexpr char kQuarantineColumns[] = INTAKE_QUARANTINE_COLUMNS;
// The release's look-up, for the writer's statement cache (which wants one constant string).
constexpr char kSelectForRelease[] = "SELECT " INTAKE_QUARANTINE_COLUMNS
                                     " FROM quarantine WHERE submission_id = ? "
                                     "AND expire_time_us > ?";
#undef INTAKE_QUARANTINE_COLUMNS

}  // namespace

QuarantinedSubmission Store::ReadQuarantined(SQLite::Statement& row) const {
  QuarantinedSubmission out;
  out.submission_id = row.getColumn(0).getString();
  absl::StatusOr<Submission> submission =
      OpenQuarantineFields(cipher_, rows::Blob(row.getColumn(2)), &out.complete);
  // Not the caller's fault and not retryable: surfaces as kInternal, without data.
  if (!submission.ok()) throw std::runtime_error(std::string(submission.status().message()));
  out.submission = *std::move(submission);
  out.submission.listing_id = row.getColumn(1).getString();
  out.create_time = rows::FromMicros(row.getColumn(3).getInt64());
  out.expire_time = rows::FromMicros(row.getColumn(4).getInt64());
  return out;
}

absl::StatusOr<Page<QuarantinedSubmission>> Store::ListQuarantined(int limit,
                                                                   const std::string& after) {
  int64_t after_time = 0;
  std::string after_id;
  INTAKE_RETURN_IF_ERROR(rows::ParseTimeKey(after, &after_time, &after_id));
  const int64_t now = rows::ToMicros(clock_.Now());
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<Page<QuarantinedSubmission>> {
    SQLite::Statement query(
        db, absl::StrCat("SELECT ", kQuarantineColumns,
                         " FROM quarantine WHERE (create_time_us, submission_id) < (?1, ?2) "
                         "AND expire_time_us > ?3 "
                         "ORDER BY create_time_us DESC, submission_id DESC LIMIT ?4"));
    query.bind(1, after_time);
    query.bind(2, after_id);
    query.bind(3, now);
    query.bind(4, limit + 1);
    Page<QuarantinedSubmission> page;
    while (query.executeStep()) {
      if (static_cast<int>(page.items.size()) == limit) {
        const QuarantinedSubmission& last = page.items.back();
        page.next_after = rows::TimeKey(last.create_time, last.submission_id);
        break;
      }
      page.items.push_back(ReadQuarantined(query));
    }
    return page;
  });
}

absl::StatusOr<Lead> Store::ReleaseQuarantined(const std::string& submission_id) {
  std::string lead_id;
  INTAKE_RETURN_IF_ERROR(writer_.Run([&](SQLite::Database& db) -> absl::Status {
    const absl::Time now = clock_.Now();
    StatementCache& sql = writer_.statements();
    SQLite::Statement& row = sql.Get(kSelectForRelease);
    row.bind(1, submission_id);
    row.bind(2, rows::ToMicros(now));
    if (!row.executeStep()) return absl::NotFoundError("quarantined submission not found");
    QuarantinedSubmission held = ReadQuarantined(row);
    row.reset();
    if (absl::Status releasable = CheckReleasable(held.complete); !releasable.ok()) {
      return releasable;
    }
    INTAKE_ASSIGN_OR_RETURN(const std::optional<Provider> owner,
                            ListingOwner(db, held.submission.listing_id));
    const Placement placed =
        PlaceLead(Prepare(std::move(held.submission), /*bot=*/false), owner, now, held.create_time);
    // A retry of the original request (same request_id) now replays this lead.
    SQLite::Statement& record =
        sql.Get("UPDATE submissions SET outcome = ?, lead_id = ? WHERE submission_id = ?");
    record.bind(1, static_cast<int>(placed.outcome));
    record.bind(2, placed.lead_id);
    record.bind(3, submission_id);
    record.exec();
    SQLite::Statement& remove = sql.Get("DELETE FROM quarantine WHERE submission_id = ?");
    remove.bind(1, submission_id);
    remove.exec();
    lead_id = placed.lead_id;
    return absl::OkStatus();
  }));
  // The lead as committed; GetLead reads it on a reader, which sees every commit made.
  return GetLead(lead_id, "");
}

}  // namespace intake::store
