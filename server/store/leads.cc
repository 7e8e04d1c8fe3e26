// Store: reading leads and events, provider feedback, reassignment, and the figures' inputs.
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "SQLiteCpp/Statement.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "server/domain/status_macros.h"
#include "server/store/rows.h"
#include "server/store/store.h"
#include "server/store/submission_fields.h"

namespace intake::store {
namespace {

using rows::Blob;
using rows::FromMicros;
using rows::ToMicros;

// Columns ReadLead expects, in order.
#define INTAKE_LEAD_COLUMNS(p)                                                                   \
  p "lead_id, " p "state, " p "target, " p "provider_id, " p "routing_reason, " p                \
    "routing_detail, " p "region, " p "sealed, " p "form_id, " p "page_url, " p "utm_source, " p \
    "utm_medium, " p "utm_campaign, " p "create_time_us, " p "last_submit_time_us, " p           \
    "submission_count, " p "acknowledge_time_us, " p "first_contact_time_us, " p "last_outcome"
constexpr char kLeadColumns[] = INTAKE_LEAD_COLUMNS("");
// Rows for ReadEventWithLead: the event's columns, then its lead's from kEventLeadColumn.
#define INTAKE_EVENTS_WITH_LEADS                                                                \
  "SELECT e.sequence, e.type, e.lead_id, e.provider_id, e.event_time_us, " INTAKE_LEAD_COLUMNS( \
      "l.") " FROM lead_events e LEFT JOIN leads l ON l.lead_id = e.lead_id "
constexpr char kEventsWithLeads[] = INTAKE_EVENTS_WITH_LEADS;
constexpr int kEventLeadColumn = 5;
// Every event after ?1, for the writer's ReadCommittedEvents.
constexpr char kEventsAfter[] =
    INTAKE_EVENTS_WITH_LEADS "WHERE e.sequence > ?1 ORDER BY e.sequence";
// One lead, for the writer's ReadCommittedLead.
constexpr char kLeadById[] = "SELECT " INTAKE_LEAD_COLUMNS("") " FROM leads WHERE lead_id = ?1";
#undef INTAKE_EVENTS_WITH_LEADS
#undef INTAKE_LEAD_COLUMNS

std::optional<absl::Time> OptionalTime(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return FromMicros(c.getInt64());
}

std::string Text(const SQLite::Column& c) { return c.isNull() ? "" : c.getString(); }

LeadEvent ReadEvent(SQLite::Statement& row) {
  return LeadEvent{static_cast<uint64_t>(row.getColumn(0).getInt64()),
                   static_cast<LeadEventType>(row.getColumn(1).getInt()),
                   row.getColumn(2).getString(), Text(row.getColumn(3)),
                   FromMicros(row.getColumn(4).getInt64())};
}

absl::Status LeadNotFound() { return absl::NotFoundError("lead not found"); }

}  // namespace

Lead Store::ReadLead(SQLite::Statement& row, int first) const {
  const auto column = [&](int i) { return row.getColumn(first + i); };
  Lead lead;
  lead.lead_id = column(0).getString();
  lead.state = static_cast<LeadState>(column(1).getInt());
  lead.listing_id = column(2).getString();
  lead.provider_id = Text(column(3));
  lead.routing_reason = static_cast<RoutingReason>(column(4).getInt() - 1);
  lead.routing_detail = column(5).getString();
  lead.region = column(6).getString();
  if (!column(7).isNull()) {
    // Not the caller's fault and not retryable: surfaces as kInternal, without data.
    const absl::Status opened = OpenPersonalFields(cipher_, Blob(column(7)), lead);
    if (!opened.ok()) throw std::runtime_error(std::string(opened.message()));
  }
  lead.form.form_id = column(8).getString();
  lead.form.page_url = column(9).getString();
  lead.form.utm_source = column(10).getString();
  lead.form.utm_medium = column(11).getString();
  lead.form.utm_campaign = column(12).getString();
  lead.create_time = FromMicros(column(13).getInt64());
  lead.last_submit_time = FromMicros(column(14).getInt64());
  lead.submission_count = static_cast<uint32_t>(column(15).getInt64());
  lead.acknowledge_time = OptionalTime(column(16));
  lead.first_contact_time = OptionalTime(column(17));
  if (!column(18).isNull()) {
    lead.last_outcome = static_cast<ContactOutcome>(column(18).getInt());
  }
  return lead;
}

absl::StatusOr<Lead> Store::GetLead(const std::string& lead_id, const std::string& provider_scope) {
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<Lead> {
    SQLite::Statement query(db, absl::StrCat("SELECT ", kLeadColumns,
                                             " FROM leads WHERE lead_id = ?1 AND "
                                             "(?2 = '' OR provider_id = ?2)"));
    query.bind(1, lead_id);
    query.bind(2, provider_scope);
    if (!query.executeStep()) return LeadNotFound();
    return ReadLead(query);
  });
}

absl::StatusOr<Page<Lead>> Store::ListLeads(const LeadFilter& filter, int limit,
                                            const std::string& after) {
  int64_t after_time = 0;
  std::string after_id;
  INTAKE_RETURN_IF_ERROR(rows::ParseTimeKey(after, &after_time, &after_id));
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<Page<Lead>> {
    SQLite::Statement query(
        db, absl::StrCat("SELECT ", kLeadColumns,
                         " FROM leads WHERE (create_time_us, lead_id) < (?1, ?2) "
                         "AND (?3 = '' OR provider_id = ?3) AND (?4 = 0 OR provider_id IS NULL) "
                         "AND (?5 = 0 OR state = ?5) "
                         "ORDER BY create_time_us DESC, lead_id DESC LIMIT ?6"));
    query.bind(1, after_time);
    query.bind(2, after_id);
    query.bind(3, filter.provider_id);
    query.bind(4, filter.unassigned ? 1 : 0);
    query.bind(5, filter.state ? static_cast<int>(*filter.state) : 0);
    query.bind(6, limit + 1);
    Page<Lead> page;
    while (query.executeStep()) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_after = rows::TimeKey(page.items.back().create_time, page.items.back().lead_id);
        break;
      }
      page.items.push_back(ReadLead(query));
    }
    return page;
  });
}

absl::StatusOr<LeadEvidence> Store::GetLeadEvidence(const std::string& lead_id) {
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<LeadEvidence> {
    SQLite::Statement lead(
        db, "SELECT consent_sha256, advertisers, consent_time_us FROM leads WHERE lead_id = ?");
    lead.bind(1, lead_id);
    if (!lead.executeStep()) return LeadNotFound();
    LeadEvidence evidence;
    evidence.consent_text_sha256 = Blob(lead.getColumn(0));
    evidence.advertisers = absl::StrSplit(lead.getColumn(1).getString(), '\n', absl::SkipEmpty());
    evidence.consent_time = FromMicros(lead.getColumn(2).getInt64());
    SQLite::Statement events(db,
                             "SELECT sequence, type, lead_id, provider_id, event_time_us FROM "
                             "lead_events WHERE lead_id = ? ORDER BY sequence");
    events.bind(1, lead_id);
    while (events.executeStep()) evidence.history.push_back(ReadEvent(events));
    return evidence;
  });
}

EventWithLead Store::ReadEventWithLead(SQLite::Statement& row,
                                       const std::string& provider_id) const {
  EventWithLead item{ReadEvent(row), std::nullopt};
  if (row.getColumn(kEventLeadColumn).isNull()) return item;  // Purged.
  if (LeadVisibleTo(Text(row.getColumn(kEventLeadColumn + 3)), provider_id)) {
    item.lead = ReadLead(row, kEventLeadColumn);
  } else {
    Lead gone;  // No longer this provider's: the id only, never its data.
    gone.lead_id = item.event.lead_id;
    item.lead = std::move(gone);
  }
  return item;
}

absl::StatusOr<std::vector<EventWithLead>> Store::ReadEvents(uint64_t after,
                                                             const std::string& provider_id,
                                                             int limit) {
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<std::vector<EventWithLead>> {
    // Two statements rather than an OR, so each uses its index.
    const std::string where =
        provider_id.empty() ? "e.sequence > ?1" : "e.provider_id = ?2 AND e.sequence > ?1";
    SQLite::Statement query(
        db, absl::StrCat(kEventsWithLeads, "WHERE ", where, " ORDER BY e.sequence LIMIT ?3"));
    query.bind(1, static_cast<int64_t>(after));
    if (!provider_id.empty()) query.bind(2, provider_id);
    query.bind(3, limit);
    std::vector<EventWithLead> out;
    while (query.executeStep()) out.push_back(ReadEventWithLead(query, provider_id));
    return out;
  });
}

std::vector<EventWithLead> Store::ReadCommittedEvents(uint64_t after) {
  SQLite::Statement& query = writer_.statements().Get(kEventsAfter);
  query.bind(1, static_cast<int64_t>(after));
  std::vector<EventWithLead> out;
  while (query.executeStep()) out.push_back(ReadEventWithLead(query, ""));
  query.reset();
  return out;
}

std::optional<Lead> Store::ReadCommittedLead(const std::string& lead_id) {
  SQLite::Statement& query = writer_.statements().Get(kLeadById);
  query.bind(1, lead_id);
  std::optional<Lead> lead;
  if (query.executeStep()) lead = ReadLead(query);
  query.reset();
  return lead;
}

absl::StatusOr<Lead> Store::LeadForFeedback(SQLite::Database& db, const std::string& provider_id,
                                            const std::string& lead_id) {
  SQLite::Statement query(db, absl::StrCat("SELECT ", kLeadColumns,
                                           " FROM leads WHERE lead_id = ?1 AND "
                                           "(?2 = '' OR provider_id = ?2)"));
  query.bind(1, lead_id);
  query.bind(2, provider_id);
  if (!query.executeStep()) return LeadNotFound();
  Lead lead = ReadLead(query);
  INTAKE_RETURN_IF_ERROR(CheckFeedbackAllowed(lead));
  return lead;
}

absl::StatusOr<Lead> Store::AcknowledgeLead(const std::string& provider_id,
                                            const std::string& lead_id) {
  Lead result;
  const absl::Time now = clock_.Now();
  INTAKE_RETURN_IF_ERROR(writer_.Run([&](SQLite::Database& db) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(Lead lead, LeadForFeedback(db, provider_id, lead_id));
    if (Acknowledge(lead, now)) {
      SQLite::Statement update(
          db, "UPDATE leads SET acknowledge_time_us = ?, state = ? WHERE lead_id = ?");
      update.bind(1, ToMicros(now));
      update.bind(2, static_cast<int>(lead.state));
      update.bind(3, lead_id);
      update.exec();
      changed_without_event_.push_back(lead_id);
    }
    result = std::move(lead);
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Lead> Store::RecordContactAttempt(const std::string& provider_id,
                                                 const std::string& lead_id, ContactOutcome outcome,
                                                 const std::string& note) {
  Lead result;
  const absl::Time now = clock_.Now();
  INTAKE_RETURN_IF_ERROR(writer_.Run([&](SQLite::Database& db) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(Lead lead, LeadForFeedback(db, provider_id, lead_id));
    SQLite::Statement attempt(db,
                              "INSERT INTO contact_attempts (lead_id, provider_id, "
                              "attempt_time_us, outcome, note_sealed) VALUES (?, ?, ?, ?, ?)");
    attempt.bind(1, lead_id);
    attempt.bind(2, lead.provider_id);
    attempt.bind(3, ToMicros(now));
    attempt.bind(4, static_cast<int>(outcome));
    const std::string sealed = cipher_.Seal({note});
    attempt.bind(5, sealed.data(), static_cast<int>(sealed.size()));
    attempt.exec();
    RecordContact(lead, outcome, now);
    SQLite::Statement update(db,
                             "UPDATE leads SET first_contact_time_us = ?, last_outcome = ?, "
                             "state = ? WHERE lead_id = ?");
    update.bind(1, ToMicros(*lead.first_contact_time));
    update.bind(2, static_cast<int>(outcome));
    update.bind(3, static_cast<int>(lead.state));
    update.bind(4, lead_id);
    update.exec();
    changed_without_event_.push_back(lead_id);
    result = std::move(lead);
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Lead> Store::ReassignLead(const std::string& lead_id,
                                         const std::string& provider_id) {
  Lead result;
  const int64_t now = ToMicros(clock_.Now());
  INTAKE_RETURN_IF_ERROR(writer_.Run([&](SQLite::Database& db) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(Lead lead, LeadForFeedback(db, "", lead_id));
    if (!rows::SelectProvider(db, provider_id)) {
      return absl::NotFoundError("provider not found");
    }
    if (lead.provider_id == provider_id) {
      result = std::move(lead);
      return absl::OkStatus();
    }
    if (!lead.provider_id.empty()) {
      rows::AppendEvent(writer_.statements(), lead_id, lead.provider_id,
                        LeadEventType::kReassignedAway, now);
    }
    SQLite::Statement update(
        db,
        "UPDATE leads SET provider_id = ?, state = ?, routing_reason = ?, routing_detail = ?, "
        "acknowledge_time_us = NULL, first_contact_time_us = NULL, last_outcome = NULL "
        "WHERE lead_id = ?");
    ReassignTo(lead, provider_id);
    update.bind(1, provider_id);
    update.bind(2, static_cast<int>(lead.state));
    update.bind(3, static_cast<int>(lead.routing_reason) + 1);
    update.bind(4, lead.routing_detail);
    update.bind(5, lead_id);
    update.exec();
    rows::AppendEvent(writer_.statements(), lead_id, provider_id, LeadEventType::kAssigned, now);
    result = std::move(lead);
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<Page<LeadTimes>> Store::ListLeadTimesSince(absl::Time since, int limit,
                                                          const std::string& after) {
  int64_t after_time = 0;
  std::string after_id;
  INTAKE_RETURN_IF_ERROR(rows::ParseTimeKeySince(after, since, &after_time, &after_id));
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<Page<LeadTimes>> {
    SQLite::Statement query(db,
                            "SELECT provider_id, create_time_us, acknowledge_time_us, "
                            "first_contact_time_us, lead_id FROM leads "
                            "WHERE (create_time_us, lead_id) > (?1, ?2) "
                            "ORDER BY create_time_us, lead_id LIMIT ?3");
    query.bind(1, after_time);
    query.bind(2, after_id);
    query.bind(3, limit + 1);
    Page<LeadTimes> page;
    std::string last_id;
    while (query.executeStep()) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_after = rows::TimeKey(page.items.back().create_time, last_id);
        break;
      }
      LeadTimes& lead = page.items.emplace_back();
      lead.provider_id = Text(query.getColumn(0));
      lead.create_time = FromMicros(query.getColumn(1).getInt64());
      lead.acknowledge_time = OptionalTime(query.getColumn(2));
      lead.first_contact_time = OptionalTime(query.getColumn(3));
      last_id = query.getColumn(4).getString();
    }
    return page;
  });
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> Store::Counters() {
  absl::Notification flushed;
  absl::Status flush;
  FlushRefusals(/*lazy=*/false, [&](absl::Status s) {
    flush = std::move(s);
    flushed.Notify();
  });
  flushed.WaitForNotification();
  if (!flush.ok()) return flush;
  return readers_.With(
      [&](SQLite::Database& db) -> absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> {
        SQLite::Statement query(db, "SELECT name, value FROM counters ORDER BY name");
        std::vector<std::pair<std::string, int64_t>> out;
        while (query.executeStep()) {
          out.emplace_back(query.getColumn(0).getString(), query.getColumn(1).getInt64());
        }
        return out;
      });
}

absl::StatusOr<absl::Time> Store::CreateTime() {
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<absl::Time> {
    return FromMicros(db.execAndGet("SELECT create_time_us FROM instance").getInt64());
  });
}

}  // namespace intake::store
