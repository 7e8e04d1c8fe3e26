#include "server/store/postgres/postgres_store.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "server/domain/routing.h"
#include "server/domain/status_macros.h"
#include "server/store/postgres/event_log.h"
#include "server/store/postgres/locks.h"
#include "server/store/postgres/migrations.h"
#include "server/store/rows.h"
#include "server/store/submission_fields.h"

namespace intake::store::postgres {
namespace {

using rows::FromMicros;
using rows::ToMicros;

constexpr char kProviderColumns[] =
    "provider_id, display_name, state, regions, daily_cap, time_zone, hours, create_time_us, "
    "update_time_us";
constexpr char kListingColumns[] = "listing_id, provider_id, display_name, region, create_time_us";
constexpr char kTokenColumns[] = "token_id, provider_id, token_sha256, create_time_us";
// The lead columns ReadLead reads, in its order (as the SQLite store's).
#define INTAKE_LEAD_COLUMNS(p)                                                                   \
  p "lead_id, " p "state, " p "target, " p "provider_id, " p "routing_reason, " p                \
    "routing_detail, " p "region, " p "sealed, " p "form_id, " p "page_url, " p "utm_source, " p \
    "utm_medium, " p "utm_campaign, " p "create_time_us, " p "last_submit_time_us, " p           \
    "submission_count, " p "acknowledge_time_us, " p "first_contact_time_us, " p "last_outcome"
constexpr char kLeadColumns[] = INTAKE_LEAD_COLUMNS("");
constexpr char kJoinedLeadColumns[] = INTAKE_LEAD_COLUMNS("l.");
#undef INTAKE_LEAD_COLUMNS

absl::Status ProviderNotFound() { return absl::NotFoundError("provider not found"); }
absl::Status LeadNotFound() { return absl::NotFoundError("lead not found"); }
absl::Status QuarantinedNotFound() {
  return absl::NotFoundError("quarantined submission not found");
}

constexpr char kQuarantineColumns[] =
    "submission_id, listing_id, sealed, create_time_us, expire_time_us";

// Stores a consent text ($1 its SHA-256, $2 the text) unless it is there. Reads first: an
// INSERT ... ON CONFLICT of a text another replica has inserted and not committed yet would
// wait for that replica's whole batch.
constexpr char kInsertConsentText[] =
    "INSERT INTO consent_texts (sha256, text) SELECT $1, $2 WHERE NOT EXISTS "
    "(SELECT 1 FROM consent_texts WHERE sha256 = $1) ON CONFLICT DO NOTHING";

// A PostgreSQL text[] literal of `ids`, which need no quoting (they are [A-Za-z0-9_-]).
std::string IdArray(const std::vector<std::string>& ids) {
  return absl::StrCat("{", absl::StrJoin(ids, ","), "}");
}

// The first column of every row, sorted.
std::vector<std::string> SortedIds(const Result& rows) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i) ids.emplace_back(rows.Text(i, 0));
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::optional<absl::Time> OptionalTime(const Result& rows, int row, int column) {
  if (rows.IsNull(row, column)) return std::nullopt;
  return FromMicros(rows.Int64(row, column));
}

Provider ReadProvider(const Result& rows, int row) {
  Provider p;
  p.provider_id = std::string(rows.Text(row, 0));
  p.display_name = std::string(rows.Text(row, 1));
  p.state = rows.Int64(row, 2) == 2 ? ProviderState::kPaused : ProviderState::kActive;
  p.regions = absl::StrSplit(rows.Text(row, 3), ',', absl::SkipEmpty());
  p.daily_cap = static_cast<uint32_t>(rows.Int64(row, 4));
  p.time_zone = std::string(rows.Text(row, 5));
  p.hours = rows::DecodeHours(rows.Text(row, 6));
  p.create_time = FromMicros(rows.Int64(row, 7));
  p.update_time = FromMicros(rows.Int64(row, 8));
  return p;
}

// The parameters of `p` in kProviderColumns order.
std::vector<Param> ProviderParams(const Provider& p) {
  return {p.provider_id,
          p.display_name,
          p.state == ProviderState::kPaused ? 2 : 1,
          absl::StrJoin(p.regions, ","),
          static_cast<int64_t>(p.daily_cap),
          p.time_zone,
          rows::EncodeHours(p.hours),
          ToMicros(p.create_time),
          ToMicros(p.update_time)};
}

Listing ReadListing(const Result& rows, int row) {
  return Listing{std::string(rows.Text(row, 0)), std::string(rows.Text(row, 1)),
                 std::string(rows.Text(row, 2)), std::string(rows.Text(row, 3)),
                 FromMicros(rows.Int64(row, 4))};
}

ProviderToken ReadToken(const Result& rows, int row) {
  return ProviderToken{std::string(rows.Text(row, 0)), std::string(rows.Text(row, 1)),
                       rows.Bytes(row, 2), FromMicros(rows.Int64(row, 3))};
}

// Fills a page from `rows`, which hold up to limit + 1 rows in key order; the extra row only
// says there is a next page.
template <typename T>
Page<T> ReadPage(const Result& rows, int limit, T (*read)(const Result&, int),
                 std::string (*key)(const T&)) {
  Page<T> page;
  for (int i = 0; i < rows.rows(); ++i) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_after = key(page.items.back());
      break;
    }
    page.items.push_back(read(rows, i));
  }
  return page;
}

// The routing candidates: every ACTIVE provider, when it was last assigned a lead and how
// many it was assigned since its local midnight, by any replica or earlier in this batch.
struct Candidates {
  std::vector<Provider> providers;
  std::vector<RoutingCandidate> candidates;
};

absl::StatusOr<Candidates> LoadCandidates(WriteTxn& txn, absl::Time now) {
  INTAKE_ASSIGN_OR_RETURN(
      Result rows, txn.Exec(absl::StrCat("SELECT ", kProviderColumns,
                                         ", last_assigned_us FROM providers WHERE state = 1")));
  Candidates out;
  std::vector<absl::Time> last_assigned;
  for (int i = 0; i < rows.rows(); ++i) {
    out.providers.push_back(ReadProvider(rows, i));
    last_assigned.push_back(rows.IsNull(i, 9) ? absl::InfinitePast()
                                              : FromMicros(rows.Int64(i, 9)));
  }
  // The batch's earlier assignments are stamped only at its end: each is the newest yet.
  for (const LeadEvent& e : txn.batch_events()) {
    if (e.type != LeadEventType::kAssigned) continue;
    for (size_t i = 0; i < out.providers.size(); ++i) {
      if (out.providers[i].provider_id != e.provider_id) continue;
      absl::Time top = e.event_time;
      for (absl::Time t : last_assigned) top = std::max(top, t);
      last_assigned[i] = top + absl::Microseconds(1);
    }
  }
  for (size_t i = 0; i < out.providers.size(); ++i) {
    const Provider& p = out.providers[i];
    uint32_t today = 0;
    if (p.daily_cap > 0) {
      const absl::Time day_start = LocalDayStart(p, now);
      INTAKE_ASSIGN_OR_RETURN(
          Result count, txn.Exec("SELECT count(*) FROM lead_events WHERE provider_id = $1 AND "
                                 "type = 1 AND event_time_us >= $2",
                                 {p.provider_id, ToMicros(day_start)}));
      today = static_cast<uint32_t>(count.Int64(0, 0));
      for (const LeadEvent& e : txn.batch_events()) {
        if (e.type == LeadEventType::kAssigned && e.provider_id == p.provider_id &&
            e.event_time >= day_start) {
          ++today;
        }
      }
    }
    out.candidates.push_back(RoutingCandidate{&p, last_assigned[i], today});
  }
  return out;
}

absl::Status RecordSubmission(WriteTxn& txn, const std::string& submission_id,
                              const std::string& request_id, const std::string& payload_hash,
                              SubmissionOutcome outcome, const std::string& lead_id, int64_t now) {
  txn.AddToCounter("submissions", 1);
  return txn
      .Exec(
          "INSERT INTO submissions (submission_id, request_id, payload_sha256, outcome, lead_id, "
          "create_time_us) VALUES ($1, nullif($2, ''), $3, $4, nullif($5, ''), $6)",
          {submission_id, request_id, Param::Bytes(payload_hash), static_cast<int>(outcome),
           lead_id, now})
      .status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(PostgresStoreOptions options) {
  if (options.cipher == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("the store needs a clock and a PII cipher");
  }
  INTAKE_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                          Connection::Open(options.conninfo, "intaked-reader"));
  INTAKE_ASSIGN_OR_RETURN(int version, Migrate(*conn));
  // The first replica to start claims the database for its data key; the others must match.
  INTAKE_ASSIGN_OR_RETURN(Result identity,
                          conn->Exec("UPDATE instance SET data_key_id = coalesce(data_key_id, $1) "
                                     "RETURNING instance_id, data_key_id",
                                     {options.cipher->key_id()}));
  if (identity.rows() != 1) return absl::DataLossError("the database has no instance row");
  if (identity.Text(0, 1) != options.cipher->key_id()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the database is sealed with data key ", identity.Text(0, 1),
                     ", but the data key given is ", options.cipher->key_id(),
                     ": every replica needs the data.key that belongs to this database"));
  }
  INTAKE_RETURN_IF_ERROR(FillQuarantinePhoneHashes(*conn, *options.cipher));
  std::unique_ptr<PostgresStore> store(new PostgresStore(
      std::move(options), std::string(identity.Text(0, 0)), version, std::move(conn)));
  const PostgresStoreOptions& o = store->options_;

  GroupCommitWriter::Options writer;
  writer.conninfo = o.conninfo;
  INTAKE_ASSIGN_OR_RETURN(store->writer_, GroupCommitWriter::Start(std::move(writer)));

  NotificationListener::Options listener;
  listener.conninfo = o.conninfo;
  listener.poll_interval = o.poll_interval;
  listener.on_events = o.on_events_committed;
  PostgresStore* self = store.get();
  listener.on_token_change = [self](TokenChange change, const std::string& token_sha256) {
    self->OnTokenChange(change, token_sha256);
  };
  INTAKE_ASSIGN_OR_RETURN(store->listener_, NotificationListener::Start(std::move(listener)));
  return store;
}

absl::Status PostgresStore::FillQuarantinePhoneHashes(Connection& conn, const PiiCipher& cipher) {
  INTAKE_ASSIGN_OR_RETURN(
      Result rows,
      conn.Exec("SELECT submission_id, sealed FROM quarantine WHERE phone_hash IS NULL"));
  std::vector<Query> updates;
  for (int i = 0; i < rows.rows(); ++i) {
    bool complete = false;
    INTAKE_ASSIGN_OR_RETURN(Submission held,
                            OpenQuarantineFields(cipher, rows.Bytes(i, 1), &complete));
    updates.push_back(Query{"UPDATE quarantine SET phone_hash = $1 WHERE submission_id = $2",
                            {Param::Bytes(cipher.PhoneHash(held.phone)), rows.Text(i, 0)}});
  }
  if (updates.empty()) return absl::OkStatus();
  // Several statements in one round trip form one implicit transaction.
  return conn.ExecAll(updates).status();
}

PostgresStore::PostgresStore(PostgresStoreOptions options, std::string instance_id,
                             int schema_version, std::unique_ptr<Connection> first_reader)
    : options_(std::move(options)),
      instance_id_(std::move(instance_id)),
      schema_version_(schema_version),
      location_(first_reader->Describe()),
      clock_(*options_.clock),
      cipher_(*options_.cipher) {
  idle_readers_.push_back(std::move(first_reader));
}

// The listener first (nothing more is told), then the writer finishes what was submitted
// and the disclosures waiting.
PostgresStore::~PostgresStore() {
  listener_.reset();
  // The disclosures still waiting, before the writer stops.
  for (auto taken = disclosures_.Take(); writer_ != nullptr && !taken.empty();
       taken = disclosures_.Take()) {
    if (!writer_->Run([&](WriteTxn& txn) { return InsertDisclosures(txn, taken); }).ok()) break;
  }
  writer_.reset();
}

template <typename T>
absl::StatusOr<T> PostgresStore::WithReader(
    const std::function<absl::StatusOr<T>(Connection&)>& read) {
  std::unique_ptr<Connection> conn;
  {
    absl::MutexLock lock(&readers_mu_);
    if (!idle_readers_.empty()) {
      conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    }
  }
  if (conn == nullptr) {
    INTAKE_ASSIGN_OR_RETURN(conn, Connection::Open(options_.conninfo, "intaked-reader"));
  }
  absl::StatusOr<T> result = read(*conn);
  if (conn->ok()) {
    absl::MutexLock lock(&readers_mu_);
    idle_readers_.push_back(std::move(conn));
  }
  return result;
}

void PostgresStore::OnTokenChange(TokenChange change, const std::string& token_sha256) {
  if (!options_.on_token_change) return;
  ProviderToken token;
  token.token_sha256 = token_sha256;
  if (change == TokenChange::kIssued) {
    // One look-up by a unique index, only when a token is issued.
    absl::StatusOr<ProviderToken> stored =
        WithReader<ProviderToken>([&](Connection& conn) -> absl::StatusOr<ProviderToken> {
          INTAKE_ASSIGN_OR_RETURN(
              Result rows,
              conn.Exec(absl::StrCat("SELECT ", kTokenColumns,
                                     " FROM provider_tokens WHERE token_sha256 = $1 AND "
                                     "revoke_time_us IS NULL"),
                        {Param::Bytes(token_sha256)}));
          if (rows.rows() != 1) return absl::NotFoundError("token gone");
          return ReadToken(rows, 0);
        });
    // Revoked meanwhile, or unreadable: the poll's resynchronisation tells it again.
    if (!stored.ok()) return;
    token = *std::move(stored);
  }
  options_.on_token_change(change, token);
}

absl::StatusOr<Provider> PostgresStore::CreateProvider(Provider provider) {
  provider.create_time = provider.update_time = clock_.Now();
  absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    absl::Status inserted = txn.Exec(absl::StrCat("INSERT INTO providers (", kProviderColumns,
                                                  ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
                                     ProviderParams(provider))
                                .status();
    if (absl::IsAlreadyExists(inserted)) {
      return absl::AlreadyExistsError("a provider with this provider_id exists");
    }
    return inserted;
  });
  if (!written.ok()) return written;
  return provider;
}

absl::StatusOr<Provider> PostgresStore::UpdateProvider(
    const std::string& provider_id, std::function<absl::Status(Provider&)> change) {
  Provider updated;
  absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(
        Result rows, txn.Exec(absl::StrCat("SELECT ", kProviderColumns,
                                           " FROM providers WHERE provider_id = $1 FOR UPDATE"),
                              {provider_id}));
    if (rows.rows() != 1) return ProviderNotFound();
    Provider current = ReadProvider(rows, 0);
    INTAKE_RETURN_IF_ERROR(change(current));
    current.provider_id = provider_id;  // Immutable, whatever `change` did.
    current.update_time = clock_.Now();
    INTAKE_RETURN_IF_ERROR(txn.Exec("UPDATE providers SET display_name = $2, state = $3, "
                                    "regions = $4, daily_cap = $5, time_zone = $6, hours = $7, "
                                    "update_time_us = $9 WHERE provider_id = $1 AND "
                                    "create_time_us = $8",
                                    ProviderParams(current))
                               .status());
    updated = std::move(current);
    return absl::OkStatus();
  });
  if (!written.ok()) return written;
  return updated;
}

absl::StatusOr<Provider> PostgresStore::GetProvider(const std::string& provider_id) {
  return WithReader<Provider>([&](Connection& conn) -> absl::StatusOr<Provider> {
    INTAKE_ASSIGN_OR_RETURN(Result rows,
                            conn.Exec(absl::StrCat("SELECT ", kProviderColumns,
                                                   " FROM providers WHERE provider_id = $1"),
                                      {provider_id}));
    if (rows.rows() != 1) return ProviderNotFound();
    return ReadProvider(rows, 0);
  });
}

absl::StatusOr<Page<Provider>> PostgresStore::ListProviders(int limit, const std::string& after) {
  return WithReader<Page<Provider>>([&](Connection& conn) -> absl::StatusOr<Page<Provider>> {
    INTAKE_ASSIGN_OR_RETURN(Result rows,
                            conn.Exec(absl::StrCat("SELECT ", kProviderColumns,
                                                   " FROM providers WHERE provider_id > $1 "
                                                   "ORDER BY provider_id LIMIT $2"),
                                      {after, limit + 1}));
    return ReadPage<Provider>(rows, limit, ReadProvider,
                              [](const Provider& p) { return p.provider_id; });
  });
}

absl::StatusOr<Listing> PostgresStore::CreateListing(Listing listing) {
  listing.create_time = clock_.Now();
  absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(Result owner, txn.Exec("SELECT 1 FROM providers WHERE provider_id = $1",
                                                   {listing.provider_id}));
    if (owner.rows() != 1) return ProviderNotFound();
    absl::Status inserted = txn.Exec(absl::StrCat("INSERT INTO listings (", kListingColumns,
                                                  ") VALUES ($1, $2, $3, $4, $5)"),
                                     {listing.listing_id, listing.provider_id, listing.display_name,
                                      listing.region, ToMicros(listing.create_time)})
                                .status();
    if (absl::IsAlreadyExists(inserted)) {
      return absl::AlreadyExistsError("a listing with this listing_id exists");
    }
    // A provider deleted meanwhile is impossible: providers are never deleted.
    return inserted;
  });
  if (!written.ok()) return written;
  return listing;
}

absl::StatusOr<Listing> PostgresStore::GetListing(const std::string& listing_id) {
  return WithReader<Listing>([&](Connection& conn) -> absl::StatusOr<Listing> {
    INTAKE_ASSIGN_OR_RETURN(
        Result rows,
        conn.Exec(absl::StrCat("SELECT ", kListingColumns, " FROM listings WHERE listing_id = $1"),
                  {listing_id}));
    if (rows.rows() != 1) return absl::NotFoundError("listing not found");
    return ReadListing(rows, 0);
  });
}

absl::StatusOr<Page<Listing>> PostgresStore::ListListings(int limit, const std::string& after,
                                                          const std::string& provider_id) {
  return WithReader<Page<Listing>>([&](Connection& conn) -> absl::StatusOr<Page<Listing>> {
    INTAKE_ASSIGN_OR_RETURN(Result rows,
                            conn.Exec(absl::StrCat("SELECT ", kListingColumns,
                                                   " FROM listings WHERE listing_id > $1 AND "
                                                   "($2 = '' OR provider_id = $2) "
                                                   "ORDER BY listing_id LIMIT $3"),
                                      {after, provider_id, limit + 1}));
    return ReadPage<Listing>(rows, limit, ReadListing,
                             [](const Listing& l) { return l.listing_id; });
  });
}

absl::StatusOr<ProviderToken> PostgresStore::IssueProviderToken(const std::string& provider_id,
                                                                const std::string& token_sha256) {
  const absl::Time now = clock_.Now();
  ProviderToken token{NewId("tok-", now), provider_id, token_sha256, now};
  absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(
        Result owner, txn.Exec("SELECT 1 FROM providers WHERE provider_id = $1", {provider_id}));
    if (owner.rows() != 1) return ProviderNotFound();
    return txn
        .ExecAll({{absl::StrCat("INSERT INTO provider_tokens (", kTokenColumns,
                                ") VALUES ($1, $2, $3, $4)"),
                   {token.token_id, provider_id, Param::Bytes(token_sha256),
                    ToMicros(token.create_time)}},
                  NotifyTokenChangeQuery(TokenChange::kIssued, token_sha256)})
        .status();
  });
  if (!written.ok()) return written;
  return token;
}

absl::StatusOr<ProviderToken> PostgresStore::RevokeProviderToken(const std::string& token_id) {
  ProviderToken token;
  const int64_t now = ToMicros(clock_.Now());
  absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(
        Result rows, txn.Exec(absl::StrCat("SELECT ", kTokenColumns,
                                           " FROM provider_tokens WHERE token_id = $1 FOR UPDATE"),
                              {token_id}));
    if (rows.rows() != 1) return absl::NotFoundError("token not found");
    token = ReadToken(rows, 0);
    return txn
        .ExecAll({{"UPDATE provider_tokens SET revoke_time_us = $1 WHERE token_id = $2 AND "
                   "revoke_time_us IS NULL",
                   {now, token_id}},
                  NotifyTokenChangeQuery(TokenChange::kRevoked, token.token_sha256)})
        .status();
  });
  if (!written.ok()) return written;
  return token;
}

absl::StatusOr<std::vector<ProviderToken>> PostgresStore::ActiveProviderTokens() {
  return WithReader<std::vector<ProviderToken>>(
      [&](Connection& conn) -> absl::StatusOr<std::vector<ProviderToken>> {
        INTAKE_ASSIGN_OR_RETURN(
            Result rows, conn.Exec(absl::StrCat("SELECT ", kTokenColumns,
                                                " FROM provider_tokens WHERE revoke_time_us IS "
                                                "NULL")));
        std::vector<ProviderToken> tokens;
        tokens.reserve(rows.rows());
        for (int i = 0; i < rows.rows(); ++i) tokens.push_back(ReadToken(rows, i));
        return tokens;
      });
}

void PostgresStore::Submit(Submission submission, bool bot, absl::Time deadline, SubmitDone done) {
  auto result = std::make_shared<absl::StatusOr<SubmitResult>>(
      absl::UnknownError("the submission was not applied"));
  std::string phone_hash = cipher_.PhoneHash(submission.phone);
  std::vector<int64_t> keys;
  std::vector<Query> committed_first;
  std::string consent_hash;
  if (!bot) {
    keys.push_back(DedupLockKey(phone_hash, submission.listing_id));
    consent_hash = Sha256(submission.consent_text);
    absl::MutexLock lock(&consent_mu_);
    if (!known_consent_.contains(consent_hash)) {
      committed_first.push_back(
          Query{kInsertConsentText, {Param::Bytes(consent_hash), submission.consent_text}});
    }
  }
  writer_->Submit(
      [this, submission = std::move(submission), bot, phone_hash = std::move(phone_hash), deadline,
       result](WriteTxn& txn) {
        if (PastDeadline(deadline)) {
          *result = absl::DeadlineExceededError(kPastDeadline);
          return result->status();
        }
        for (int attempt = 0;; ++attempt) {
          *result = ApplySubmission(txn, submission, bot, phone_hash);
          // Lost a race on request_id to another replica: replay its result instead.
          if (result->status().code() != absl::StatusCode::kAlreadyExists || attempt > 0 ||
              submission.request_id.empty()) {
            return result->status();
          }
          txn.Restart();
        }
      },
      [this, result, consent_hash = std::move(consent_hash),
       done = std::move(done)](absl::Status status) mutable {
        if (!status.ok()) {
          std::move(done)(std::move(status));
          return;
        }
        if (!consent_hash.empty()) {
          absl::MutexLock lock(&consent_mu_);
          if (known_consent_.size() >= kMaxKnownConsentTexts) known_consent_.clear();
          known_consent_.insert(std::move(consent_hash));
        }
        std::move(done)(std::move(*result));
      },
      std::move(keys), std::move(committed_first));
}

absl::StatusOr<SubmitResult> PostgresStore::ApplySubmission(WriteTxn& txn, const Submission& s,
                                                            bool bot,
                                                            const std::string& phone_hash) {
  const absl::Time now_time = clock_.Now();
  const int64_t now = ToMicros(now_time);
  const std::string payload_hash = cipher_.PayloadHash(CanonicalPayload(s, bot));

  // First, whatever the outcome: every reply carries the figures of the listing's owner.
  INTAKE_ASSIGN_OR_RETURN(const std::optional<Provider> owner, ListingOwner(txn, s.listing_id));
  const std::string owner_id = owner ? owner->provider_id : "";

  if (!s.request_id.empty()) {
    INTAKE_ASSIGN_OR_RETURN(Result seen,
                            txn.Exec("SELECT submission_id, payload_sha256, outcome, "
                                     "coalesce(lead_id, '') FROM submissions WHERE request_id = $1",
                                     {s.request_id}));
    if (seen.rows() == 1) {
      if (!RetryMayReplay(seen.Bytes(0, 1), payload_hash)) {
        return absl::InvalidArgumentError("request_id was already used for another submission");
      }
      txn.AddToCounter("submissions", 1);  // A call received like any other.
      return SubmitResult{std::string(seen.Text(0, 0)), SubmissionOutcome::kReplayed,
                          std::string(seen.Text(0, 3)), std::nullopt, owner_id};
    }
  }

  const std::string submission_id = NewId("sub-", now_time);
  if (bot) {
    INTAKE_RETURN_IF_ERROR(
        txn.Exec("INSERT INTO quarantine (submission_id, listing_id, sealed, create_time_us, "
                 "expire_time_us, phone_hash) VALUES ($1, $2, $3, $4, $5, $6)",
                 {submission_id, s.listing_id, Param::Bytes(cipher_.Seal(QuarantineFields(s))), now,
                  ToMicros(now_time + options_.quarantine_retention), Param::Bytes(phone_hash)})
            .status());
    INTAKE_RETURN_IF_ERROR(RecordSubmission(txn, submission_id, s.request_id, payload_hash,
                                            SubmissionOutcome::kBot, "", now));
    txn.AddToCounter("bot_submissions", 1);
    return SubmitResult{submission_id, SubmissionOutcome::kBot, "", std::nullopt, owner_id};
  }

  INTAKE_ASSIGN_OR_RETURN(const Placement placed,
                          PlaceLead(txn, s, phone_hash, owner, now_time, now_time));
  INTAKE_RETURN_IF_ERROR(RecordSubmission(txn, submission_id, s.request_id, payload_hash,
                                          placed.outcome, placed.lead_id, now));
  return SubmitResult{submission_id, placed.outcome, placed.lead_id, placed.routing, owner_id};
}

absl::StatusOr<std::optional<Provider>> PostgresStore::ListingOwner(WriteTxn& txn,
                                                                    const std::string& listing_id) {
  if (listing_id.empty()) return std::nullopt;
  INTAKE_ASSIGN_OR_RETURN(Result rows,
                          txn.Exec("SELECT p.provider_id, p.display_name, p.state, p.regions, "
                                   "p.daily_cap, p.time_zone, p.hours, p.create_time_us, "
                                   "p.update_time_us FROM listings l JOIN providers p "
                                   "USING (provider_id) WHERE l.listing_id = $1",
                                   {listing_id}));
  if (rows.rows() != 1) return absl::NotFoundError("listing not found");
  return ReadProvider(rows, 0);
}

absl::StatusOr<PostgresStore::Placement> PostgresStore::PlaceLead(
    WriteTxn& txn, const Submission& s, const std::string& phone_hash,
    const std::optional<Provider>& owner, absl::Time now_time, absl::Time consent_time) {
  const int64_t now = ToMicros(now_time);
  // Under the dedup key of (phone, target), held since the batch began: no other replica can
  // be between this look-up and its own for the same caller.
  INTAKE_ASSIGN_OR_RETURN(
      Result duplicate,
      txn.Exec(
          "SELECT lead_id, coalesce(provider_id, '') FROM leads WHERE phone_hash = $1 AND "
          "target = $2 AND last_submit_time_us >= $3 AND state NOT IN (5, 6) "
          "ORDER BY last_submit_time_us DESC LIMIT 1",
          {Param::Bytes(phone_hash), s.listing_id, ToMicros(now_time - options_.dedup_window)}));
  if (duplicate.rows() == 1) {
    const std::string lead_id(duplicate.Text(0, 0));
    const std::string provider_id(duplicate.Text(0, 1));
    // An opt-out or erasure takes no dedup key: if one through another replica changed the
    // lead since the look-up, the UPDATE (which waited for it) finds it closed, and the
    // submission becomes a new lead, as after the opt-out.
    INTAKE_ASSIGN_OR_RETURN(
        Result merged,
        txn.Exec("UPDATE leads SET submission_count = submission_count + 1, "
                 "last_submit_time_us = greatest(last_submit_time_us, $1) WHERE lead_id = $2 "
                 "AND state NOT IN (5, 6) RETURNING lead_id",
                 {now, lead_id}));
    if (merged.rows() == 1) {
      txn.AppendEvent(LeadEvent{0, LeadEventType::kResubmitted, lead_id, provider_id, now_time});
      txn.AddToCounter("duplicates_merged", 1);
      return Placement{SubmissionOutcome::kMerged, lead_id, std::nullopt};
    }
  }

  RoutingRequest request{owner ? &*owner : nullptr, s.region};
  Candidates candidates;
  if (!owner || owner->state == ProviderState::kPaused) {
    // One router at a time across replicas, so each sees the others' last assignments.
    INTAKE_RETURN_IF_ERROR(
        txn.Exec("SELECT pg_advisory_xact_lock($1, $2)", {kLockClass, kRoutingLock}).status());
    INTAKE_ASSIGN_OR_RETURN(candidates, LoadCandidates(txn, now_time));
  }
  const RoutingDecision decision = Route(request, candidates.candidates, now_time);

  const std::string consent_hash = Sha256(s.consent_text);
  const std::string lead_id = NewId("lead-", now_time);
  const bool assigned = !decision.provider_id.empty();
  INTAKE_RETURN_IF_ERROR(
      txn.ExecAll(
             {// A submission's text was committed before its batch (Submit); a released
              // quarantined submission's may be new, and is inserted here.
              {kInsertConsentText, {Param::Bytes(consent_hash), s.consent_text}},
              {"INSERT INTO leads (lead_id, state, phone_hash, target, provider_id, "
               "routing_reason, routing_detail, region, sealed, form_id, page_url, utm_source, "
               "utm_medium, utm_campaign, consent_sha256, advertisers, consent_time_us, "
               "create_time_us, last_submit_time_us, submission_count) VALUES ($1, $2, $3, $4, "
               "nullif($5, ''), $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $18, $17, $17, "
               "1)",
               {lead_id, static_cast<int>(assigned ? LeadState::kNew : LeadState::kUnassigned),
                Param::Bytes(phone_hash), s.listing_id, decision.provider_id,
                static_cast<int>(decision.reason) + 1, decision.detail, s.region,
                Param::Bytes(cipher_.Seal(PersonalFields(s))), s.form.form_id, s.form.page_url,
                s.form.utm_source, s.form.utm_medium, s.form.utm_campaign,
                Param::Bytes(consent_hash), absl::StrJoin(s.advertisers, "\n"), now,
                ToMicros(consent_time)}}})
          .status());
  // The batch stamps the provider's last_assigned_us at its end (StampAssignedQueries).
  txn.AppendEvent(LeadEvent{0, LeadEventType::kAssigned, lead_id, decision.provider_id, now_time});
  txn.AddToCounter("leads", 1);
  return Placement{SubmissionOutcome::kNewLead, lead_id, decision.reason};
}

void PostgresStore::CountRefusedSubmission(RefusedSubmission kind) {
  const char* counter = kind == RefusedSubmission::kInvalid       ? "invalid_submissions"
                        : kind == RefusedSubmission::kRateLimited ? "rate_limited"
                                                                  : nullptr;
  // Written by the next batch, with whatever else it carries; a lost count is no reason to
  // refuse anyone, so failures are dropped.
  writer_->Submit(
      [counter](WriteTxn& txn) {
        txn.AddToCounter("submissions", 1);
        if (counter != nullptr) txn.AddToCounter(counter, 1);
        return absl::OkStatus();
      },
      [](const absl::Status&) {});
}

absl::StatusOr<Lead> PostgresStore::ReadLead(const Result& rows, int row, int first) const {
  const auto c = [first](int i) { return first + i; };
  Lead lead;
  lead.lead_id = std::string(rows.Text(row, c(0)));
  lead.state = static_cast<LeadState>(rows.Int64(row, c(1)));
  lead.listing_id = std::string(rows.Text(row, c(2)));
  lead.provider_id = std::string(rows.Text(row, c(3)));
  lead.routing_reason = static_cast<RoutingReason>(rows.Int64(row, c(4)) - 1);
  lead.routing_detail = std::string(rows.Text(row, c(5)));
  lead.region = std::string(rows.Text(row, c(6)));
  if (!rows.IsNull(row, c(7))) {
    INTAKE_RETURN_IF_ERROR(OpenPersonalFields(cipher_, rows.Bytes(row, c(7)), lead));
  }
  lead.form.form_id = std::string(rows.Text(row, c(8)));
  lead.form.page_url = std::string(rows.Text(row, c(9)));
  lead.form.utm_source = std::string(rows.Text(row, c(10)));
  lead.form.utm_medium = std::string(rows.Text(row, c(11)));
  lead.form.utm_campaign = std::string(rows.Text(row, c(12)));
  lead.create_time = FromMicros(rows.Int64(row, c(13)));
  lead.last_submit_time = FromMicros(rows.Int64(row, c(14)));
  lead.submission_count = static_cast<uint32_t>(rows.Int64(row, c(15)));
  lead.acknowledge_time = OptionalTime(rows, row, c(16));
  lead.first_contact_time = OptionalTime(rows, row, c(17));
  if (!rows.IsNull(row, c(18))) {
    lead.last_outcome = static_cast<ContactOutcome>(rows.Int64(row, c(18)));
  }
  return lead;
}

absl::StatusOr<Lead> PostgresStore::GetLead(const std::string& lead_id,
                                            const std::string& provider_scope) {
  return WithReader<Lead>([&](Connection& conn) -> absl::StatusOr<Lead> {
    INTAKE_ASSIGN_OR_RETURN(Result rows,
                            conn.Exec(absl::StrCat("SELECT ", kLeadColumns,
                                                   " FROM leads WHERE lead_id = $1 AND "
                                                   "($2 = '' OR provider_id = $2)"),
                                      {lead_id, provider_scope}));
    if (rows.rows() != 1) return LeadNotFound();
    return ReadLead(rows, 0);
  });
}

absl::StatusOr<Page<Lead>> PostgresStore::ListLeads(const LeadFilter& filter, int limit,
                                                    const std::string& after) {
  int64_t after_time = 0;
  std::string after_id;
  INTAKE_RETURN_IF_ERROR(rows::ParseTimeKey(after, &after_time, &after_id));
  return WithReader<Page<Lead>>([&](Connection& conn) -> absl::StatusOr<Page<Lead>> {
    INTAKE_ASSIGN_OR_RETURN(
        Result rows,
        conn.Exec(absl::StrCat("SELECT ", kLeadColumns,
                               " FROM leads WHERE (create_time_us, lead_id) < ($1::bigint, $2) "
                               "AND ($3 = '' OR provider_id = $3) AND "
                               "($4::integer = 0 OR provider_id IS NULL) AND "
                               "($5::integer = 0 OR state = $5::integer) "
                               "ORDER BY create_time_us DESC, lead_id DESC LIMIT $6"),
                  {after_time, after_id, filter.provider_id, filter.unassigned ? 1 : 0,
                   filter.state ? static_cast<int>(*filter.state) : 0, limit + 1}));
    Page<Lead> page;
    for (int i = 0; i < rows.rows(); ++i) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_after = rows::TimeKey(page.items.back().create_time, page.items.back().lead_id);
        break;
      }
      INTAKE_ASSIGN_OR_RETURN(Lead lead, ReadLead(rows, i));
      page.items.push_back(std::move(lead));
    }
    return page;
  });
}

absl::StatusOr<LeadEvidence> PostgresStore::GetLeadEvidence(const std::string& lead_id) {
  return WithReader<LeadEvidence>([&](Connection& conn) -> absl::StatusOr<LeadEvidence> {
    INTAKE_ASSIGN_OR_RETURN(
        std::vector<Result> rows,
        conn.ExecAll({{"SELECT consent_sha256, advertisers, consent_time_us FROM leads "
                       "WHERE lead_id = $1",
                       {lead_id}},
                      {"SELECT sequence, type, lead_id, coalesce(provider_id, ''), "
                       "event_time_us FROM lead_events WHERE lead_id = $1 ORDER BY sequence",
                       {lead_id}}}));
    const Result& lead = rows[0];
    if (lead.rows() != 1) return LeadNotFound();
    LeadEvidence evidence;
    evidence.consent_text_sha256 = lead.Bytes(0, 0);
    evidence.advertisers = absl::StrSplit(lead.Text(0, 1), '\n', absl::SkipEmpty());
    evidence.consent_time = FromMicros(lead.Int64(0, 2));
    const Result& events = rows[1];
    evidence.history.reserve(events.rows());
    for (int i = 0; i < events.rows(); ++i) {
      evidence.history.push_back(
          LeadEvent{static_cast<uint64_t>(events.Int64(i, 0)),
                    static_cast<LeadEventType>(events.Int64(i, 1)), std::string(events.Text(i, 2)),
                    std::string(events.Text(i, 3)), FromMicros(events.Int64(i, 4))});
    }
    return evidence;
  });
}

absl::StatusOr<std::vector<EventWithLead>> PostgresStore::ReadEvents(uint64_t after,
                                                                     const std::string& provider_id,
                                                                     int limit) {
  return WithReader<std::vector<EventWithLead>>(
      [&](Connection& conn) -> absl::StatusOr<std::vector<EventWithLead>> {
        // Events are numbered at commit in commit order (event_log.h), so this one statement
        // sees a prefix of the log: nothing it misses can have a lower sequence.
        const std::string where =
            provider_id.empty() ? "e.sequence > $1" : "e.provider_id = $3 AND e.sequence > $1";
        std::vector<Param> params = {static_cast<int64_t>(after), limit};
        if (!provider_id.empty()) params.emplace_back(provider_id);
        INTAKE_ASSIGN_OR_RETURN(
            Result rows,
            conn.Exec(absl::StrCat("SELECT e.sequence, e.type, e.lead_id, "
                                   "coalesce(e.provider_id, ''), e.event_time_us, ",
                                   kJoinedLeadColumns,
                                   " FROM lead_events e LEFT JOIN leads l USING (lead_id) WHERE ",
                                   where, " ORDER BY e.sequence LIMIT $2"),
                      params));
        std::vector<EventWithLead> out;
        out.reserve(rows.rows());
        for (int i = 0; i < rows.rows(); ++i) {
          EventWithLead item{
              LeadEvent{static_cast<uint64_t>(rows.Int64(i, 0)),
                        static_cast<LeadEventType>(rows.Int64(i, 1)), std::string(rows.Text(i, 2)),
                        std::string(rows.Text(i, 3)), FromMicros(rows.Int64(i, 4))},
              std::nullopt};
          if (!rows.IsNull(i, 5)) {
            const absl::string_view owner = rows.Text(i, 5 + 3);
            if (provider_id.empty() || owner == provider_id) {
              INTAKE_ASSIGN_OR_RETURN(Lead lead, ReadLead(rows, i, 5));
              item.lead = std::move(lead);
            } else {
              Lead gone;  // No longer this provider's: the id only, never its data.
              gone.lead_id = item.event.lead_id;
              item.lead = std::move(gone);
            }
          }
          out.push_back(std::move(item));
        }
        return out;
      });
}

absl::StatusOr<Lead> PostgresStore::LeadForFeedback(WriteTxn& txn, const std::string& provider_id,
                                                    const std::string& lead_id) {
  INTAKE_ASSIGN_OR_RETURN(Result rows,
                          txn.Exec(absl::StrCat("SELECT ", kLeadColumns,
                                                " FROM leads WHERE lead_id = $1 AND "
                                                "($2 = '' OR provider_id = $2) FOR UPDATE"),
                                   {lead_id, provider_id}));
  if (rows.rows() != 1) return LeadNotFound();
  INTAKE_ASSIGN_OR_RETURN(Lead lead, ReadLead(rows, 0));
  INTAKE_RETURN_IF_ERROR(CheckFeedbackAllowed(lead));
  return lead;
}

absl::StatusOr<Lead> PostgresStore::AcknowledgeLead(const std::string& provider_id,
                                                    const std::string& lead_id) {
  Lead result;
  const absl::Time now = clock_.Now();
  absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(Lead lead, LeadForFeedback(txn, provider_id, lead_id));
    if (Acknowledge(lead, now)) {
      INTAKE_RETURN_IF_ERROR(
          txn.Exec("UPDATE leads SET acknowledge_time_us = $1, state = $2 WHERE lead_id = $3",
                   {ToMicros(now), static_cast<int>(lead.state), lead_id})
              .status());
    }
    result = std::move(lead);
    return absl::OkStatus();
  });
  if (!written.ok()) return written;
  return result;
}

absl::StatusOr<Lead> PostgresStore::RecordContactAttempt(const std::string& provider_id,
                                                         const std::string& lead_id,
                                                         ContactOutcome outcome,
                                                         const std::string& note) {
  Lead result;
  const absl::Time now = clock_.Now();
  absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(Lead lead, LeadForFeedback(txn, provider_id, lead_id));
    RecordContact(lead, outcome, now);
    INTAKE_RETURN_IF_ERROR(
        txn.ExecAll({{"INSERT INTO contact_attempts (lead_id, provider_id, attempt_time_us, "
                      "outcome, note_sealed) VALUES ($1, $2, $3, $4, $5)",
                      {lead_id, lead.provider_id, ToMicros(now), static_cast<int>(outcome),
                       Param::Bytes(cipher_.Seal({note}))}},
                     {"UPDATE leads SET first_contact_time_us = $1, last_outcome = $2, "
                      "state = $3 WHERE lead_id = $4",
                      {ToMicros(*lead.first_contact_time), static_cast<int>(outcome),
                       static_cast<int>(lead.state), lead_id}}})
            .status());
    result = std::move(lead);
    return absl::OkStatus();
  });
  if (!written.ok()) return written;
  return result;
}

absl::StatusOr<Lead> PostgresStore::ReassignLead(const std::string& lead_id,
                                                 const std::string& provider_id) {
  Lead result;
  const absl::Time now = clock_.Now();
  absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    INTAKE_ASSIGN_OR_RETURN(Lead lead, LeadForFeedback(txn, "", lead_id));
    INTAKE_ASSIGN_OR_RETURN(
        Result provider, txn.Exec("SELECT 1 FROM providers WHERE provider_id = $1", {provider_id}));
    if (provider.rows() != 1) return absl::NotFoundError("provider not found");
    if (lead.provider_id == provider_id) {
      result = std::move(lead);
      return absl::OkStatus();
    }
    if (!lead.provider_id.empty()) {
      txn.AppendEvent(LeadEvent{0, LeadEventType::kReassignedAway, lead_id, lead.provider_id, now});
    }
    ReassignTo(lead, provider_id);
    INTAKE_RETURN_IF_ERROR(
        txn.Exec("UPDATE leads SET provider_id = $1, state = $2, routing_reason = $3, "
                 "routing_detail = $4, acknowledge_time_us = NULL, first_contact_time_us = NULL, "
                 "last_outcome = NULL WHERE lead_id = $5",
                 {provider_id, static_cast<int>(lead.state),
                  static_cast<int>(lead.routing_reason) + 1, lead.routing_detail, lead_id})
            .status());
    // An assignment like any other: the batch stamps the provider's last_assigned_us.
    txn.AppendEvent(LeadEvent{0, LeadEventType::kAssigned, lead_id, provider_id, now});
    result = std::move(lead);
    return absl::OkStatus();
  });
  if (!written.ok()) return written;
  return result;
}

absl::Status PostgresStore::AppendEventForEveryRecipient(WriteTxn& txn,
                                                         const std::vector<std::string>& lead_ids,
                                                         LeadEventType type, absl::Time now) {
  if (lead_ids.empty()) return absl::OkStatus();
  // The event log names every provider a lead was ever addressed to: its first owner, and
  // each one ReassignLead gave it to; the batch's earlier writes may have added one.
  INTAKE_ASSIGN_OR_RETURN(Result rows,
                          txn.Exec("SELECT DISTINCT lead_id, provider_id FROM lead_events WHERE "
                                   "lead_id = ANY($1::text[]) AND provider_id IS NOT NULL",
                                   {IdArray(lead_ids)}));
  std::map<std::string, std::set<std::string>> recipients;
  for (int i = 0; i < rows.rows(); ++i) {
    recipients[std::string(rows.Text(i, 0))].emplace(rows.Text(i, 1));
  }
  for (const LeadEvent& e : txn.batch_events()) {
    if (e.provider_id.empty()) continue;
    if (std::find(lead_ids.begin(), lead_ids.end(), e.lead_id) == lead_ids.end()) continue;
    recipients[e.lead_id].insert(e.provider_id);
  }
  for (const std::string& lead_id : lead_ids) {
    const std::set<std::string>& providers = recipients[lead_id];
    if (providers.empty()) {
      txn.AppendEvent(LeadEvent{0, type, lead_id, "", now});  // Admin watchers only.
      continue;
    }
    for (const std::string& provider : providers) {
      txn.AppendEvent(LeadEvent{0, type, lead_id, provider, now});
    }
  }
  return absl::OkStatus();
}

absl::Status PostgresStore::EraseLeadData(WriteTxn& txn, const std::vector<std::string>& lead_ids,
                                          absl::Time now) {
  if (lead_ids.empty()) return absl::OkStatus();
  const std::string ids = IdArray(lead_ids);
  INTAKE_RETURN_IF_ERROR(
      txn.ExecAll(
             {{"UPDATE leads SET state = $2, sealed = NULL, region = '', phone_hash = ''::bytea "
               "WHERE lead_id = ANY($1::text[])",
               {ids, static_cast<int>(LeadState::kErased)}},
              // Provider notes may hold what the caller said despite being asked not to.
              {"UPDATE contact_attempts SET note_sealed = ''::bytea WHERE lead_id = "
               "ANY($1::text[])",
               {ids}},
              // A payload hash is keyed, but whoever holds the key could confirm a guessed
              // submission with it. Without it a retried request_id replays its first result
              // (RetryMayReplay).
              {"UPDATE submissions SET payload_sha256 = ''::bytea WHERE lead_id = "
               "ANY($1::text[])",
               {ids}}})
          .status());
  return AppendEventForEveryRecipient(txn, lead_ids, LeadEventType::kErased, now);
}

absl::StatusOr<uint32_t> PostgresStore::OptOutCaller(absl::string_view e164) {
  const std::string phone_hash = cipher_.PhoneHash(e164);
  const absl::Time now = clock_.Now();
  uint32_t changed = 0;
  const absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    // Locked in id order, so that two replicas handling the same caller cannot deadlock; the
    // lock re-checks the state against a change committed meanwhile.
    INTAKE_ASSIGN_OR_RETURN(
        Result rows,
        txn.Exec("UPDATE leads SET state = $2 WHERE lead_id IN (SELECT lead_id FROM leads WHERE "
                 "phone_hash = $1 AND state NOT IN ($2, $3) ORDER BY lead_id FOR UPDATE) "
                 "RETURNING lead_id",
                 {Param::Bytes(phone_hash), static_cast<int>(LeadState::kOptedOut),
                  static_cast<int>(LeadState::kErased)}));
    const std::vector<std::string> leads = SortedIds(rows);
    INTAKE_RETURN_IF_ERROR(AppendEventForEveryRecipient(txn, leads, LeadEventType::kOptedOut, now));
    changed = static_cast<uint32_t>(leads.size());
    return absl::OkStatus();
  });
  if (!written.ok()) return written;
  return changed;
}

absl::StatusOr<uint32_t> PostgresStore::EraseCaller(absl::string_view e164) {
  const std::string phone_hash = cipher_.PhoneHash(e164);
  const absl::Time now = clock_.Now();
  uint32_t erased = 0;
  const absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    // ERASED is final; OPTED_OUT leads still hold data.
    INTAKE_ASSIGN_OR_RETURN(
        Result rows, txn.Exec("SELECT lead_id FROM leads WHERE phone_hash = $1 AND state <> $2 "
                              "ORDER BY lead_id FOR UPDATE",
                              {Param::Bytes(phone_hash), static_cast<int>(LeadState::kErased)}));
    const std::vector<std::string> leads = SortedIds(rows);
    INTAKE_RETURN_IF_ERROR(EraseLeadData(txn, leads, now));
    INTAKE_RETURN_IF_ERROR(
        txn.Exec("DELETE FROM quarantine WHERE phone_hash = $1", {Param::Bytes(phone_hash)})
            .status());
    erased = static_cast<uint32_t>(leads.size());
    return absl::OkStatus();
  });
  if (!written.ok()) return written;
  INTAKE_RETURN_IF_ERROR(ClearOldCopies());
  return erased;
}

absl::StatusOr<int> PostgresStore::PurgeLeadBatch(absl::Time older_than, int limit) {
  int purged = 0;
  INTAKE_RETURN_IF_ERROR(writer_->Run([&](WriteTxn& txn) -> absl::Status {
    // A lead is created before it is last submitted: the creation-time index finds them.
    INTAKE_ASSIGN_OR_RETURN(
        Result rows,
        txn.Exec("SELECT lead_id FROM leads WHERE create_time_us < $1 AND "
                 "last_submit_time_us < $1 ORDER BY create_time_us LIMIT $2 FOR UPDATE",
                 {ToMicros(older_than), limit}));
    const std::vector<std::string> leads = SortedIds(rows);
    purged = static_cast<int>(leads.size());
    if (leads.empty()) return absl::OkStatus();
    const std::string ids = IdArray(leads);
    // Children first: contact attempts refer to the lead. The event head stays, so
    // sequences are never reused.
    std::vector<Query> deletes;
    for (const char* table :
         {"lead_events", "disclosures", "contact_attempts", "submissions", "leads"}) {
      deletes.push_back(
          Query{absl::StrCat("DELETE FROM ", table, " WHERE lead_id = ANY($1::text[])"), {ids}});
    }
    return txn.ExecAll(std::move(deletes)).status();
  }));
  return purged;
}

void PostgresStore::RecordDisclosure(const std::string& lead_id, const std::string& provider_id,
                                     const std::string& token_id, DisclosureChannel channel) {
  // Outside the queue's lock: a writer that has stopped calls `done` at once.
  if (disclosures_.Add({lead_id, provider_id, token_id}, channel, clock_.Now())) {
    FlushDisclosures();
  }
}

absl::Status PostgresStore::InsertDisclosures(WriteTxn& txn,
                                              const std::vector<DisclosureQueue::Entry>& taken) {
  std::vector<Query> inserts;
  inserts.reserve(taken.size());
  for (const auto& [key, disclosure] : taken) {
    inserts.push_back(
        Query{"INSERT INTO disclosures (lead_id, provider_id, token_id, channel, first_time_us) "
              "SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM leads WHERE lead_id = $1) "
              "ON CONFLICT DO NOTHING",
              {key.lead_id, key.provider_id, key.token_id, static_cast<int>(disclosure.channel),
               ToMicros(disclosure.time)}});
  }
  if (inserts.empty()) return absl::OkStatus();
  return txn.ExecAll(std::move(inserts)).status();
}

void PostgresStore::FlushDisclosures() {
  // What the write took, so that a failed write can give it back.
  auto taken = std::make_shared<std::vector<DisclosureQueue::Entry>>();
  writer_->Submit(
      [this, taken](WriteTxn& txn) {
        *taken = disclosures_.Take();
        return InsertDisclosures(txn, *taken);
      },
      [this, taken](const absl::Status& status) {
        if (disclosures_.Written(status, *taken)) FlushDisclosures();
      });
}

namespace {

constexpr char kDisclosuresOfLead[] =
    "SELECT provider_id, token_id, channel, first_time_us FROM disclosures WHERE lead_id = $1 "
    "ORDER BY first_time_us, provider_id, token_id";

absl::StatusOr<std::vector<Disclosure>> DisclosuresOf(Connection& conn,
                                                      const std::string& lead_id) {
  INTAKE_ASSIGN_OR_RETURN(Result rows, conn.Exec(kDisclosuresOfLead, {lead_id}));
  std::vector<Disclosure> out;
  out.reserve(static_cast<size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i) {
    out.push_back(Disclosure{std::string(rows.Text(i, 0)), std::string(rows.Text(i, 1)),
                             static_cast<DisclosureChannel>(rows.Int64(i, 2)),
                             FromMicros(rows.Int64(i, 3))});
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Disclosure>> PostgresStore::ListLeadDisclosures(
    const std::string& lead_id) {
  return WithReader<std::vector<Disclosure>>(
      [&](Connection& conn) { return DisclosuresOf(conn, lead_id); });
}

absl::StatusOr<std::vector<LeadDisclosures>> PostgresStore::ListCallerDisclosures(
    absl::string_view e164) {
  const std::string phone_hash = cipher_.PhoneHash(e164);
  return WithReader<std::vector<LeadDisclosures>>(
      [&](Connection& conn) -> absl::StatusOr<std::vector<LeadDisclosures>> {
        INTAKE_ASSIGN_OR_RETURN(
            Result leads, conn.Exec("SELECT lead_id, target, create_time_us FROM leads WHERE "
                                    "phone_hash = $1 ORDER BY create_time_us DESC, lead_id DESC",
                                    {Param::Bytes(phone_hash)}));
        std::vector<LeadDisclosures> out;
        for (int i = 0; i < leads.rows(); ++i) {
          LeadDisclosures& lead = out.emplace_back();
          lead.lead_id = std::string(leads.Text(i, 0));
          lead.listing_id = std::string(leads.Text(i, 1));
          lead.create_time = FromMicros(leads.Int64(i, 2));
          INTAKE_ASSIGN_OR_RETURN(lead.disclosures, DisclosuresOf(conn, lead.lead_id));
        }
        return out;
      });
}

absl::StatusOr<QuarantinedSubmission> PostgresStore::ReadQuarantined(const Result& rows,
                                                                     int row) const {
  QuarantinedSubmission out;
  out.submission_id = std::string(rows.Text(row, 0));
  INTAKE_ASSIGN_OR_RETURN(out.submission,
                          OpenQuarantineFields(cipher_, rows.Bytes(row, 2), &out.complete));
  out.submission.listing_id = std::string(rows.Text(row, 1));
  out.create_time = FromMicros(rows.Int64(row, 3));
  out.expire_time = FromMicros(rows.Int64(row, 4));
  return out;
}

absl::StatusOr<Page<QuarantinedSubmission>> PostgresStore::ListQuarantined(
    int limit, const std::string& after) {
  int64_t after_time = 0;
  std::string after_id;
  INTAKE_RETURN_IF_ERROR(rows::ParseTimeKey(after, &after_time, &after_id));
  const int64_t now = ToMicros(clock_.Now());
  return WithReader<Page<QuarantinedSubmission>>(
      [&](Connection& conn) -> absl::StatusOr<Page<QuarantinedSubmission>> {
        INTAKE_ASSIGN_OR_RETURN(
            Result rows,
            conn.Exec(absl::StrCat("SELECT ", kQuarantineColumns,
                                   " FROM quarantine WHERE (create_time_us, submission_id) < "
                                   "($1::bigint, $2) AND expire_time_us > $3 "
                                   "ORDER BY create_time_us DESC, submission_id DESC LIMIT $4"),
                      {after_time, after_id, now, limit + 1}));
        Page<QuarantinedSubmission> page;
        for (int i = 0; i < rows.rows(); ++i) {
          if (static_cast<int>(page.items.size()) == limit) {
            const QuarantinedSubmission& last = page.items.back();
            page.next_after = rows::TimeKey(last.create_time, last.submission_id);
            break;
          }
          INTAKE_ASSIGN_OR_RETURN(QuarantinedSubmission held, ReadQuarantined(rows, i));
          page.items.push_back(std::move(held));
        }
        return page;
      });
}

absl::StatusOr<Lead> PostgresStore::ReleaseQuarantined(const std::string& submission_id) {
  // The dedup key of the caller and target, which the write must take at its batch's start
  // (locks.h), before it reads the row again under it.
  using PhoneAndTarget = std::pair<std::string, std::string>;
  INTAKE_ASSIGN_OR_RETURN(
      const PhoneAndTarget key,
      WithReader<PhoneAndTarget>([&](Connection& conn) -> absl::StatusOr<PhoneAndTarget> {
        INTAKE_ASSIGN_OR_RETURN(Result rows,
                                conn.Exec("SELECT phone_hash, listing_id FROM quarantine WHERE "
                                          "submission_id = $1",
                                          {submission_id}));
        if (rows.rows() != 1) return QuarantinedNotFound();
        return PhoneAndTarget(rows.Bytes(0, 0), std::string(rows.Text(0, 1)));
      }));
  std::string lead_id;
  const absl::Status written = writer_->Run(
      [&](WriteTxn& txn) -> absl::Status {
        const absl::Time now = clock_.Now();
        INTAKE_ASSIGN_OR_RETURN(
            Result rows, txn.Exec(absl::StrCat("SELECT ", kQuarantineColumns,
                                               " FROM quarantine WHERE submission_id = $1 AND "
                                               "expire_time_us > $2 FOR UPDATE"),
                                  {submission_id, ToMicros(now)}));
        if (rows.rows() != 1) return QuarantinedNotFound();  // Released or expired meanwhile.
        INTAKE_ASSIGN_OR_RETURN(QuarantinedSubmission held, ReadQuarantined(rows, 0));
        INTAKE_RETURN_IF_ERROR(CheckReleasable(held.complete));
        INTAKE_ASSIGN_OR_RETURN(const std::optional<Provider> owner,
                                ListingOwner(txn, held.submission.listing_id));
        INTAKE_ASSIGN_OR_RETURN(
            const Placement placed,
            PlaceLead(txn, held.submission, cipher_.PhoneHash(held.submission.phone), owner, now,
                      held.create_time));
        // A retry of the original request (same request_id) now replays this lead.
        INTAKE_RETURN_IF_ERROR(
            txn.ExecAll({{"UPDATE submissions SET outcome = $1, lead_id = $2 WHERE "
                          "submission_id = $3",
                          {static_cast<int>(placed.outcome), placed.lead_id, submission_id}},
                         {"DELETE FROM quarantine WHERE submission_id = $1", {submission_id}}})
                .status());
        lead_id = placed.lead_id;
        return absl::OkStatus();
      },
      {DedupLockKey(key.first, key.second)});
  if (!written.ok()) return written;
  // The lead as committed: a reader sees every commit made.
  return GetLead(lead_id, "");
}

absl::StatusOr<SweepStep> PostgresStore::EraseDataSubmittedBefore(absl::Time cutoff, int limit) {
  SweepStep step;
  const absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    const absl::Time start = absl::Now();
    const absl::Time now = clock_.Now();
    // `sealed IS NOT NULL` as in the partial index leads_with_data (migration 4).
    INTAKE_ASSIGN_OR_RETURN(
        Result rows, txn.Exec("SELECT lead_id FROM leads WHERE sealed IS NOT NULL AND "
                              "last_submit_time_us < $1 ORDER BY last_submit_time_us LIMIT $2 "
                              "FOR UPDATE",
                              {ToMicros(cutoff), limit}));
    const std::vector<std::string> leads = SortedIds(rows);
    INTAKE_RETURN_IF_ERROR(EraseLeadData(txn, leads, now));
    step.count = static_cast<int>(leads.size());
    step.held = absl::Now() - start;
    return absl::OkStatus();
  });
  if (!written.ok()) return written;
  return step;
}

absl::StatusOr<SweepStep> PostgresStore::DeleteExpiredQuarantine(int limit) {
  SweepStep step;
  const absl::Status written = writer_->Run([&](WriteTxn& txn) -> absl::Status {
    const absl::Time start = absl::Now();
    INTAKE_ASSIGN_OR_RETURN(
        Result deleted,
        txn.Exec("DELETE FROM quarantine WHERE submission_id IN (SELECT submission_id FROM "
                 "quarantine WHERE expire_time_us <= $1 ORDER BY expire_time_us LIMIT $2 FOR "
                 "UPDATE)",
                 {ToMicros(clock_.Now()), limit}));
    step.count = static_cast<int>(deleted.affected_rows());
    step.held = absl::Now() - start;
    return absl::OkStatus();
  });
  if (!written.ok()) return written;
  return step;
}

absl::Status PostgresStore::ClearOldCopies() {
  absl::StatusOr<bool> vacuumed = WithReader<bool>([](Connection& conn) -> absl::StatusOr<bool> {
    // Outside any transaction (VACUUM cannot run in one), on a connection of the pool.
    INTAKE_RETURN_IF_ERROR(conn.ExecScript(
        "VACUUM leads, contact_attempts, submissions, quarantine, lead_events, disclosures"));
    return true;
  });
  if (vacuumed.ok()) return absl::OkStatus();
  return absl::UnavailableError(
      "the data is gone from the database's tables, but vacuuming the old row versions failed, "
      "so old copies may remain in its files until the next vacuum; retrying is safe");
}

absl::StatusOr<Page<LeadTimes>> PostgresStore::ListLeadTimesSince(absl::Time since, int limit,
                                                                  const std::string& after) {
  int64_t after_time = 0;
  std::string after_id;
  INTAKE_RETURN_IF_ERROR(rows::ParseTimeKeySince(after, since, &after_time, &after_id));
  return WithReader<Page<LeadTimes>>([&](Connection& conn) -> absl::StatusOr<Page<LeadTimes>> {
    INTAKE_ASSIGN_OR_RETURN(
        Result rows,
        conn.Exec("SELECT coalesce(provider_id, ''), create_time_us, acknowledge_time_us, "
                  "first_contact_time_us, lead_id FROM leads "
                  "WHERE (create_time_us, lead_id) > ($1::bigint, $2) "
                  "ORDER BY create_time_us, lead_id LIMIT $3",
                  {after_time, after_id, limit + 1}));
    Page<LeadTimes> page;
    for (int i = 0; i < rows.rows(); ++i) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_after =
            rows::TimeKey(page.items.back().create_time, std::string(rows.Text(i - 1, 4)));
        break;
      }
      LeadTimes& lead = page.items.emplace_back();
      lead.provider_id = std::string(rows.Text(i, 0));
      lead.create_time = FromMicros(rows.Int64(i, 1));
      lead.acknowledge_time = OptionalTime(rows, i, 2);
      lead.first_contact_time = OptionalTime(rows, i, 3);
    }
    return page;
  });
}

absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> PostgresStore::Counters() {
  // The writer runs writes in order: once this empty one has committed, so have the refusals
  // counted before it.
  absl::Status written = writer_->Run([](WriteTxn&) { return absl::OkStatus(); });
  if (!written.ok()) return written;
  using CounterList = std::vector<std::pair<std::string, int64_t>>;
  return WithReader<CounterList>([&](Connection& conn) -> absl::StatusOr<CounterList> {
    INTAKE_ASSIGN_OR_RETURN(Result rows,
                            conn.Exec("SELECT name, value FROM counters ORDER BY name"));
    CounterList out;
    for (int i = 0; i < rows.rows(); ++i) {
      out.emplace_back(std::string(rows.Text(i, 0)), rows.Int64(i, 1));
    }
    return out;
  });
}

absl::StatusOr<absl::Time> PostgresStore::CreateTime() {
  return WithReader<absl::Time>([&](Connection& conn) -> absl::StatusOr<absl::Time> {
    INTAKE_ASSIGN_OR_RETURN(Result rows, conn.Exec("SELECT create_time_us FROM instance"));
    if (rows.rows() != 1) return absl::DataLossError("the database has no instance row");
    return FromMicros(rows.Int64(0, 0));
  });
}

absl::StatusOr<StoreGauges> PostgresStore::Gauges() {
  return WithReader<StoreGauges>([&](Connection& conn) -> absl::StatusOr<StoreGauges> {
    INTAKE_ASSIGN_OR_RETURN(std::vector<Result> rows,
                            conn.ExecAll({{rows::kUnassignedLeadsQuery, {}},
                                          {rows::kWaitingLeadsQuery, {}},
                                          {"SELECT pg_database_size(current_database())", {}}}));
    StoreGauges g;
    g.unassigned_leads = rows[0].Int64(0, 0);
    for (int i = 0; i < rows[1].rows(); ++i) {
      g.unacknowledged.emplace_back(
          std::string(rows[1].Text(i, 0)),
          WaitingLeads{rows[1].Int64(i, 1), FromMicros(rows[1].Int64(i, 2))});
    }
    g.database_bytes = rows[2].Int64(0, 0);
    return g;
  });
}

absl::StatusOr<uint64_t> PostgresStore::CommittedHeadSequence() {
  return WithReader<uint64_t>([](Connection& conn) { return HeadSequence(conn); });
}

absl::StatusOr<std::unique_ptr<BackupFile>> PostgresStore::Backup(
    const BackupOptions& /*options*/) {
  return absl::UnimplementedError(
      "backups of a PostgreSQL database are made with pg_basebackup or pg_dump, not intakectl");
}

}  // namespace intake::store::postgres
