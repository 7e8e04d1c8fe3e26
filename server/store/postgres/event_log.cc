#include "server/store/postgres/event_log.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace intake::store::postgres {
namespace {

// PostgreSQL refuses payloads of 8000 bytes or more; the range takes at most 41.
constexpr size_t kMaxProvidersBytes = 7000;

// A text[] literal of `values`, each quoted.
std::string ArrayLiteral(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::vector<LeadEvent> ReadRows(const Result& rows) {
  std::vector<LeadEvent> events;
  events.reserve(rows.rows());
  for (int i = 0; i < rows.rows(); ++i) {
    events.push_back(LeadEvent{static_cast<uint64_t>(rows.Int64(i, 0)),
                               static_cast<LeadEventType>(rows.Int64(i, 1)),
                               std::string(rows.Text(i, 2)), std::string(rows.Text(i, 3)),
                               absl::FromUnixMicros(rows.Int64(i, 4))});
  }
  return events;
}

}  // namespace

std::optional<EventsNotification> ParseEventsNotification(absl::string_view payload) {
  std::vector<absl::string_view> lines = absl::StrSplit(payload, '\n');
  std::vector<absl::string_view> range = absl::StrSplit(lines[0], ' ');
  EventsNotification n;
  if (range.size() < 2 || range.size() > 3 || !absl::SimpleAtoi(range[0], &n.first) ||
      !absl::SimpleAtoi(range[1], &n.last) || n.first == 0 || n.first > n.last) {
    return std::nullopt;
  }
  if (range.size() == 3) {
    if (range[2] != "*" || lines.size() != 1) return std::nullopt;
    return n;  // Too many providers to list.
  }
  if (lines.size() < 2) return std::nullopt;
  n.providers.emplace(lines.begin() + 1, lines.end());
  return n;
}

Query AppendEventsQuery(absl::Span<const LeadEvent> events) {
  std::vector<std::string> lead_ids, provider_ids, types, times;
  absl::flat_hash_set<std::string> seen;
  std::vector<std::string> providers;
  for (const LeadEvent& e : events) {
    lead_ids.push_back(e.lead_id);
    provider_ids.push_back(e.provider_id);
    types.push_back(absl::StrCat(static_cast<int>(e.type)));
    times.push_back(absl::StrCat(absl::ToUnixMicros(e.event_time)));
    if (seen.insert(e.provider_id).second) providers.push_back(e.provider_id);
  }
  // Provider ids are [a-z0-9-] (IsValidId): newlines separate them unambiguously.
  std::string suffix;
  for (const std::string& p : providers) absl::StrAppend(&suffix, "\n", p);
  if (suffix.size() > kMaxProvidersBytes) suffix = " *";
  return Query{
      R"sql(
      WITH head AS (
        UPDATE lead_event_head SET last_sequence = last_sequence + $1::bigint
        RETURNING last_sequence
      ), appended AS (
        INSERT INTO lead_events (sequence, lead_id, provider_id, type, event_time_us)
        SELECT head.last_sequence - $1::bigint + e.ordinal, e.lead_id, nullif(e.provider_id, ''),
               e.type, e.time_us
        FROM head, unnest($2::text[], $3::text[], $4::integer[], $5::bigint[])
                   WITH ORDINALITY AS e (lead_id, provider_id, type, time_us, ordinal)
      )
      SELECT head.last_sequence,
             pg_notify($6, concat(head.last_sequence - $1::bigint + 1, ' ', head.last_sequence,
                                  $7::text))
      FROM head)sql",
      {static_cast<int64_t>(events.size()), ArrayLiteral(lead_ids), ArrayLiteral(provider_ids),
       absl::StrCat("{", absl::StrJoin(types, ","), "}"),
       absl::StrCat("{", absl::StrJoin(times, ","), "}"), std::string(kEventsChannel), suffix}};
}

std::vector<Query> StampAssignedQueries(absl::Span<const LeadEvent> events) {
  // Each provider once, at its newest assignment, in assignment order.
  std::vector<const LeadEvent*> newest;
  for (const LeadEvent& e : events) {
    if (e.type != LeadEventType::kAssigned || e.provider_id.empty()) continue;
    auto earlier = std::find_if(newest.begin(), newest.end(), [&](const LeadEvent* n) {
      return n->provider_id == e.provider_id;
    });
    if (earlier != newest.end()) newest.erase(earlier);
    newest.push_back(&e);
  }
  if (newest.empty()) return {};
  std::vector<std::string> provider_ids, times;
  for (const LeadEvent* e : newest) {
    provider_ids.push_back(e->provider_id);
    times.push_back(absl::StrCat(absl::ToUnixMicros(e->event_time)));
  }
  const std::string providers = ArrayLiteral(provider_ids);
  return {// ORDER BY below the row locks: they are taken in id order. NO KEY: the leads of the
          // other replicas' batches hold KEY SHARE locks on these rows (their foreign key), which
          // FOR UPDATE would wait for, and they wait for this batch's in turn.
          {"SELECT 1 FROM providers WHERE provider_id = ANY($1::text[]) ORDER BY provider_id "
           "FOR NO KEY UPDATE",
           {providers}},
          // greatest(time, top) + rank grows strictly with rank since times do not go back.
          {R"sql(
      UPDATE providers p SET last_assigned_us = greatest(a.time_us, top.last_us) + a.rank
      FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS a (provider_id, time_us, rank),
           (SELECT coalesce(max(last_assigned_us), 0) AS last_us FROM providers) AS top
      WHERE p.provider_id = a.provider_id)sql",
           {providers, absl::StrCat("{", absl::StrJoin(times, ","), "}")}}};
}

absl::StatusOr<uint64_t> AppendedHead(const Result& result) {
  if (result.rows() != 1 || result.columns() != 2) {
    return absl::InternalError("not the result of appending events");
  }
  return static_cast<uint64_t>(result.Int64(0, 0));
}

absl::StatusOr<uint64_t> HeadSequence(Connection& conn) {
  absl::StatusOr<Result> head = conn.Exec("SELECT last_sequence FROM lead_event_head");
  if (!head.ok()) return head.status();
  if (head->rows() != 1) return absl::DataLossError("the event log has no head row");
  return static_cast<uint64_t>(head->Int64(0, 0));
}

absl::StatusOr<std::vector<LeadEvent>> ReadEvents(Connection& conn, uint64_t after,
                                                  absl::string_view provider_id, int limit) {
  const auto cursor = static_cast<int64_t>(after);
  absl::StatusOr<Result> rows =
      provider_id.empty()
          ? conn.Exec(
                "SELECT sequence, type, lead_id, coalesce(provider_id, ''), event_time_us "
                "FROM lead_events WHERE sequence > $1 ORDER BY sequence LIMIT $2",
                {cursor, limit})
          : conn.Exec(
                "SELECT sequence, type, lead_id, provider_id, event_time_us FROM lead_events "
                "WHERE provider_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
                {provider_id, cursor, limit});
  if (!rows.ok()) return rows.status();
  return ReadRows(*rows);
}

absl::StatusOr<std::vector<std::string>> ProvidersBetween(Connection& conn, uint64_t after,
                                                          uint64_t upto) {
  absl::StatusOr<Result> rows = conn.Exec(
      "SELECT DISTINCT coalesce(provider_id, '') FROM lead_events "
      "WHERE sequence > $1 AND sequence <= $2",
      {static_cast<int64_t>(after), static_cast<int64_t>(upto)});
  if (!rows.ok()) return rows.status();
  std::vector<std::string> providers;
  providers.reserve(rows->rows());
  for (int i = 0; i < rows->rows(); ++i) providers.emplace_back(rows->Text(i, 0));
  return providers;
}

}  // namespace intake::store::postgres
