// Store::Submit: the intake path inside the group-commit transaction.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "SQLiteCpp/Statement.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/domain/routing.h"
#include "server/domain/status_macros.h"
#include "server/store/rows.h"
#include "server/store/store.h"
#include "server/store/submission_fields.h"

namespace intake::store {
namespace {

using rows::BindBlob;
using rows::FromMicros;
using rows::ToMicros;

// SHA-256 of a consent text. A form shows every caller the same text, so each thread keeps
// the last one it hashed (a 400-character text costs as much to hash as to store).
const std::string& ConsentSha256(const std::string& text) {
  thread_local std::string last_text;
  thread_local std::string last_hash;
  if (last_hash.empty() || text != last_text) {
    last_hash.assign(crypto_hash_sha256_BYTES, '\0');
    crypto_hash_sha256(reinterpret_cast<unsigned char*>(last_hash.data()),
                       reinterpret_cast<const unsigned char*>(text.data()), text.size());
    last_text = text;
  }
  return last_hash;
}

void Count(StatementCache& sql, const char* counter) {
  SQLite::Statement& bump = sql.Get("UPDATE counters SET value = value + 1 WHERE name = ?");
  bump.bind(1, counter);
  bump.exec();
}

void RecordSubmission(StatementCache& sql, const std::string& submission_id, const Submission& s,
                      const std::string& payload_hash, SubmissionOutcome outcome,
                      const std::string& lead_id, int64_t now) {
  SQLite::Statement& insert = sql.Get(
      "INSERT INTO submissions (submission_id, request_id, payload_sha256, outcome, lead_id, "
      "create_time_us) VALUES (?, ?, ?, ?, ?, ?)");
  insert.bind(1, submission_id);
  if (s.request_id.empty()) {
    insert.bind(2);  // NULL: many submissions may come without a request_id.
  } else {
    insert.bind(2, s.request_id);
  }
  BindBlob(insert, 3, payload_hash);
  insert.bind(4, static_cast<int>(outcome));
  if (lead_id.empty()) {
    insert.bind(5);
  } else {
    insert.bind(5, lead_id);
  }
  insert.bind(6, now);
  insert.exec();
  Count(sql, "submissions");
}

// The routing candidates: every ACTIVE provider, with when it was last assigned a lead and
// how many it was assigned since its local midnight, by whomever.
struct Candidates {
  std::vector<Provider> providers;
  std::vector<RoutingCandidate> candidates;
};

Candidates LoadCandidates(StatementCache& sql, absl::Time now) {
  Candidates out;
  std::vector<absl::Time> last_assigned;
  SQLite::Statement& query = sql.Get(
      "SELECT provider_id, display_name, state, regions, daily_cap, time_zone, hours, "
      "create_time_us, update_time_us, last_assigned_us FROM providers WHERE state = 1");
  while (query.executeStep()) {
    out.providers.push_back(rows::ReadProvider(query));
    const SQLite::Column last = query.getColumn(9);
    last_assigned.push_back(last.isNull() ? absl::InfinitePast() : FromMicros(last.getInt64()));
  }
  for (size_t i = 0; i < out.providers.size(); ++i) {
    const Provider& p = out.providers[i];
    uint32_t today = 0;
    if (p.daily_cap > 0) {
      // Assignments, not leads held now: a lead ops moved away still counts for the day it
      // was assigned, and one ops gave it counts too. `type = 1` (ASSIGNED) as written in the
      // partial index lead_events_assigned, so that SQLite uses it.
      SQLite::Statement& count = sql.Get(
          "SELECT count(*) FROM lead_events WHERE provider_id = ? AND type = 1 "
          "AND event_time_us >= ?");
      count.bind(1, p.provider_id);
      count.bind(2, ToMicros(LocalDayStart(p, now)));
      count.executeStep();
      today = static_cast<uint32_t>(count.getColumn(0).getInt64());
      count.reset();
    }
    out.candidates.push_back(RoutingCandidate{&p, last_assigned[i], today});
  }
  return out;
}

}  // namespace

Store::PreparedSubmission Store::Prepare(Submission submission, bool bot) const {
  PreparedSubmission p;
  p.payload_hash = cipher_.PayloadHash(CanonicalPayload(submission, bot));
  p.phone_hash = cipher_.PhoneHash(submission.phone);
  p.consent_sha256 = ConsentSha256(submission.consent_text);
  // A quarantined submission keeps everything a release needs; a lead only its personal data.
  p.sealed = cipher_.Seal(bot ? QuarantineFields(submission) : PersonalFields(submission));
  p.submission = std::move(submission);
  p.bot = bot;
  return p;
}

void Store::Submit(Submission submission, bool bot, absl::Time deadline, SubmitDone done) {
  auto result = std::make_shared<absl::StatusOr<SubmitResult>>(
      absl::UnknownError("the submission was not applied"));
  writer_.Submit(
      [this, prepared = Prepare(std::move(submission), bot), deadline,
       result](SQLite::Database& db) {
        *result = PastDeadline(deadline) ? absl::DeadlineExceededError(kPastDeadline)
                                         : ApplySubmission(db, prepared);
        return result->status();
      },
      [result, done = std::move(done)](absl::Status status) mutable {
        if (!status.ok()) {
          std::move(done)(std::move(status));
        } else {
          std::move(done)(std::move(*result));
        }
      });
}

absl::StatusOr<SubmitResult> Store::ApplySubmission(SQLite::Database& db,
                                                    const PreparedSubmission& p) {
  StatementCache& sql = writer_.statements();
  const Submission& s = p.submission;
  const bool bot = p.bot;
  const std::string& payload_hash = p.payload_hash;
  const absl::Time now_time = clock_.Now();
  const int64_t now = ToMicros(now_time);

  // First, whatever the outcome: every reply carries the figures of the listing's owner.
  INTAKE_ASSIGN_OR_RETURN(const std::optional<Provider> owner, ListingOwner(db, s.listing_id));
  const std::string owner_id = owner ? owner->provider_id : "";

  if (!s.request_id.empty()) {
    SQLite::Statement& seen = sql.Get(
        "SELECT submission_id, payload_sha256, outcome, lead_id FROM submissions "
        "WHERE request_id = ?");
    seen.bind(1, s.request_id);
    if (seen.executeStep()) {
      const SQLite::Column hash = seen.getColumn(1);
      const std::string stored(static_cast<const char*>(hash.getBlob()), hash.getBytes());
      if (!RetryMayReplay(stored, payload_hash)) {
        return absl::InvalidArgumentError("request_id was already used for another submission");
      }
      SubmitResult replayed{seen.getColumn(0).getString(), SubmissionOutcome::kReplayed,
                            seen.getColumn(3).isNull() ? "" : seen.getColumn(3).getString(),
                            std::nullopt, owner_id};
      seen.reset();
      Count(sql, "submissions");  // A call received like any other, though nothing changes.
      return replayed;
    }
  }

  const std::string submission_id = NewId("sub-", now_time);
  const std::string& phone_hash = p.phone_hash;
  if (bot) {
    SQLite::Statement& quarantine = sql.Get(
        "INSERT INTO quarantine (submission_id, listing_id, sealed, create_time_us, "
        "expire_time_us, phone_hash) VALUES (?, ?, ?, ?, ?, ?)");
    quarantine.bind(1, submission_id);
    quarantine.bind(2, s.listing_id);
    BindBlob(quarantine, 3, p.sealed);
    quarantine.bind(4, now);
    quarantine.bind(5, ToMicros(now_time + options_.quarantine_retention));
    BindBlob(quarantine, 6, phone_hash);
    quarantine.exec();
    RecordSubmission(sql, submission_id, s, payload_hash, SubmissionOutcome::kBot, "", now);
    Count(sql, "bot_submissions");
    return SubmitResult{submission_id, SubmissionOutcome::kBot, "", std::nullopt, owner_id};
  }

  const Placement placed = PlaceLead(p, owner, now_time, now_time);
  RecordSubmission(sql, submission_id, s, payload_hash, placed.outcome, placed.lead_id, now);
  return SubmitResult{submission_id, placed.outcome, placed.lead_id, placed.routing, owner_id};
}

absl::StatusOr<std::optional<Provider>> Store::ListingOwner(SQLite::Database& db,
                                                            const std::string& listing_id) {
  if (listing_id.empty()) return std::nullopt;
  SQLite::Statement& listing =
      writer_.statements().Get("SELECT provider_id FROM listings WHERE listing_id = ?");
  listing.bind(1, listing_id);
  if (!listing.executeStep()) return absl::NotFoundError("listing not found");
  std::optional<Provider> owner = rows::SelectProvider(db, listing.getColumn(0).getString());
  listing.reset();
  if (!owner) return absl::InternalError("a listing's provider is missing");
  return owner;
}

Store::Placement Store::PlaceLead(const PreparedSubmission& p, const std::optional<Provider>& owner,
                                  absl::Time now_time, absl::Time consent_time) {
  StatementCache& sql = writer_.statements();
  const Submission& s = p.submission;
  const int64_t now = ToMicros(now_time);
  const std::string& phone_hash = p.phone_hash;
  SQLite::Statement& duplicate = sql.Get(
      "SELECT lead_id, provider_id FROM leads WHERE phone_hash = ? AND target = ? "
      "AND last_submit_time_us >= ? AND state NOT IN (5, 6) "
      "ORDER BY last_submit_time_us DESC LIMIT 1");
  BindBlob(duplicate, 1, phone_hash);
  duplicate.bind(2, s.listing_id);
  duplicate.bind(3, ToMicros(now_time - options_.dedup_window));
  if (duplicate.executeStep()) {
    const std::string lead_id = duplicate.getColumn(0).getString();
    const std::string provider_id =
        duplicate.getColumn(1).isNull() ? "" : duplicate.getColumn(1).getString();
    duplicate.reset();
    SQLite::Statement& merge = sql.Get(
        "UPDATE leads SET submission_count = submission_count + 1, last_submit_time_us = ? "
        "WHERE lead_id = ?");
    merge.bind(1, now);
    merge.bind(2, lead_id);
    merge.exec();
    rows::AppendEvent(sql, lead_id, provider_id, LeadEventType::kResubmitted, now);
    Count(sql, "duplicates_merged");
    return Placement{SubmissionOutcome::kMerged, lead_id, std::nullopt};
  }
  duplicate.reset();

  RoutingRequest request{owner ? &*owner : nullptr, s.region};
  Candidates candidates;
  if (!owner || owner->state == ProviderState::kPaused) candidates = LoadCandidates(sql, now_time);
  const RoutingDecision decision = Route(request, candidates.candidates, now_time);

  const std::string& consent_hash = p.consent_sha256;
  SQLite::Statement& consent =
      sql.Get("INSERT OR IGNORE INTO consent_texts (sha256, text) VALUES (?, ?)");
  BindBlob(consent, 1, consent_hash);
  consent.bind(2, s.consent_text);
  consent.exec();

  const std::string lead_id = NewId("lead-", now_time);
  SQLite::Statement& insert = sql.Get(
      "INSERT INTO leads (lead_id, state, phone_hash, target, provider_id, routing_reason, "
      "routing_detail, region, sealed, form_id, page_url, utm_source, utm_medium, utm_campaign, "
      "consent_sha256, advertisers, consent_time_us, create_time_us, last_submit_time_us, "
      "submission_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)");
  const bool assigned = !decision.provider_id.empty();
  insert.bind(1, lead_id);
  insert.bind(2, static_cast<int>(assigned ? LeadState::kNew : LeadState::kUnassigned));
  BindBlob(insert, 3, phone_hash);
  insert.bind(4, s.listing_id);
  if (assigned) {
    insert.bind(5, decision.provider_id);
  } else {
    insert.bind(5);
  }
  insert.bind(6, static_cast<int>(decision.reason) + 1);
  insert.bind(7, decision.detail);
  insert.bind(8, s.region);
  BindBlob(insert, 9, p.sealed);
  insert.bind(10, s.form.form_id);
  insert.bind(11, s.form.page_url);
  insert.bind(12, s.form.utm_source);
  insert.bind(13, s.form.utm_medium);
  insert.bind(14, s.form.utm_campaign);
  BindBlob(insert, 15, consent_hash);
  insert.bind(16, absl::StrJoin(s.advertisers, "\n"));
  insert.bind(17, ToMicros(consent_time));
  insert.bind(18, now);
  insert.bind(19, now);
  insert.exec();
  rows::AppendEvent(sql, lead_id, decision.provider_id, LeadEventType::kAssigned, now);
  Count(sql, "leads");
  return Placement{SubmissionOutcome::kNewLead, lead_id, decision.reason};
}

void Store::CountRefusedSubmission(RefusedSubmission kind) {
  bool flush = false;
  {
    absl::MutexLock lock(&refused_mu_);
    ++refused_[static_cast<size_t>(kind)];
    flush = !refused_flush_queued_;
    refused_flush_queued_ = true;
  }
  // Outside the lock: a writer that has stopped calls `done` at once.
  if (flush) FlushRefusals(/*lazy=*/true, [](const absl::Status&) {});
}

void Store::FlushRefusals(bool lazy, absl::AnyInvocable<void(absl::Status) &&> done) {
  // What the write took, so that a failed commit can give it back.
  auto taken = std::make_shared<std::array<int64_t, 3>>();
  GroupCommitWriter::Apply apply = [this, taken](SQLite::Database&) {
    {
      absl::MutexLock lock(&refused_mu_);
      *taken = std::exchange(refused_, {});
      refused_flush_queued_ = false;  // Refusals from now on need a flush of their own.
    }
    const auto count = [&](RefusedSubmission kind) { return (*taken)[static_cast<size_t>(kind)]; };
    const std::pair<const char*, int64_t> deltas[] = {
        {"submissions", count(RefusedSubmission::kInvalid) +
                            count(RefusedSubmission::kRateLimited) +
                            count(RefusedSubmission::kOther)},
        {"invalid_submissions", count(RefusedSubmission::kInvalid)},
        {"rate_limited", count(RefusedSubmission::kRateLimited)}};
    SQLite::Statement& add =
        writer_.statements().Get("UPDATE counters SET value = value + ? WHERE name = ?");
    for (const auto& [name, delta] : deltas) {
      if (delta == 0) continue;
      add.bind(1, delta);
      add.bind(2, name);
      add.exec();
      add.reset();
    }
    return absl::OkStatus();
  };
  GroupCommitWriter::Done report = [this, taken, done = std::move(done)](absl::Status s) mutable {
    if (!s.ok()) {
      absl::MutexLock lock(&refused_mu_);
      for (size_t i = 0; i < taken->size(); ++i) refused_[i] += (*taken)[i];
      refused_flush_queued_ = false;  // The next refusal or Counters() tries again.
    }
    std::move(done)(std::move(s));
  };
  if (lazy) {
    writer_.SubmitLazy(std::move(apply), std::move(report), options_.refused_count_delay);
  } else {
    writer_.Submit(std::move(apply), std::move(report));
  }
}

void Store::AfterCommit(SQLite::Database& db) {
  const uint64_t previous = head_sequence_.load();
  // Read now, so that a reader registering from here on is sure to find the events of the
  // next commit, if not this one's.
  const bool keep = live_readers_.load() > 0;
  const std::vector<std::string> changed = std::exchange(changed_without_event_, {});
  uint64_t head = 0;
  std::vector<std::string> providers;
  std::vector<EventWithLead> events;
  std::vector<Lead> refreshed;
  try {
    head = rows::LastSequence(db);
    if (head > previous && keep) {
      events = ReadCommittedEvents(previous);
      for (const EventWithLead& item : events) {
        if (std::find(providers.begin(), providers.end(), item.event.provider_id) ==
            providers.end()) {
          providers.push_back(item.event.provider_id);
        }
      }
    } else if (head > previous) {
      SQLite::Statement& query = writer_.statements().Get(
          "SELECT DISTINCT coalesce(provider_id, '') FROM lead_events WHERE sequence > ?");
      query.bind(1, static_cast<int64_t>(previous));
      providers = rows::FirstColumnText(query);
    }
    for (const std::string& lead_id : changed) {
      if (!keep || !recent_.Holds(lead_id)) continue;
      if (std::optional<Lead> lead = ReadCommittedLead(lead_id)) refreshed.push_back(*lead);
    }
  } catch (const std::exception&) {
    writer_.statements().ResetAll();
    // The next commit reports these events with its own; until then, reads go to the disk.
    recent_.Clear();
    return;
  }
  // Kept before anyone hears of them, so a woken stream finds them in memory.
  if (!keep) {
    recent_.Clear();
  } else if (head > previous) {
    recent_.Append(previous, head, std::move(events));
  }
  for (Lead& lead : refreshed) recent_.Refresh(std::move(lead));
  if (head <= previous) return;
  head_sequence_ = head;
  if (options_.on_events_committed) options_.on_events_committed(head, providers);
}

}  // namespace intake::store
