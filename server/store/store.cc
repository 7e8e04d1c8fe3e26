#include "server/store/store.h"

#include <exception>
#include <filesystem>
#include <limits>
#include <system_error>
#include <utility>

#include "SQLiteCpp/Statement.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/domain/status_macros.h"
#include "server/store/migrations.h"
#include "server/store/rows.h"
#include "server/store/sqlite_status.h"

namespace intake::store {
namespace rows {

void BindBlob(SQLite::Statement& stmt, int index, const std::string& blob) {
  stmt.bind(index, blob.data(), static_cast<int>(blob.size()));
}

std::string Blob(const SQLite::Column& column) {
  return std::string(static_cast<const char*>(column.getBlob()),
                     static_cast<size_t>(column.getBytes()));
}

std::vector<std::string> FirstColumnText(SQLite::Statement& query) {
  std::vector<std::string> values;
  while (query.executeStep()) values.push_back(query.getColumn(0).getString());
  query.reset();
  return values;
}

std::string TimeKey(absl::Time time, const std::string& id) {
  return absl::StrCat(ToMicros(time), "/", id);
}

absl::Status ParseTimeKey(const std::string& key, int64_t* time_us, std::string* id) {
  if (key.empty()) {
    *time_us = std::numeric_limits<int64_t>::max();
    // After every id (ids are printable ASCII), and valid UTF-8, as PostgreSQL's text wants.
    *id = "\x7f";
    return absl::OkStatus();
  }
  std::pair<std::string, std::string> parts = absl::StrSplit(key, absl::MaxSplits('/', 1));
  if (!absl::SimpleAtoi(parts.first, time_us)) return absl::InvalidArgumentError("bad page key");
  *id = std::move(parts.second);
  return absl::OkStatus();
}

absl::Status ParseTimeKeySince(const std::string& key, absl::Time since, int64_t* time_us,
                               std::string* id) {
  if (!key.empty()) return ParseTimeKey(key, time_us, id);
  *time_us = ToMicros(since);
  id->clear();
  return absl::OkStatus();
}

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

std::string EncodeHours(const std::vector<OpeningPeriod>& hours) {
  return absl::StrJoin(hours, ",", [](std::string* out, const OpeningPeriod& p) {
    absl::StrAppend(out, static_cast<int>(p.day), ":", p.open_minute, "-", p.close_minute);
  });
}

std::vector<OpeningPeriod> DecodeHours(absl::string_view text) {
  std::vector<OpeningPeriod> hours;
  for (absl::string_view period : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::vector<absl::string_view> day_span = absl::StrSplit(period, ':');
    if (day_span.size() != 2) continue;
    std::vector<absl::string_view> span = absl::StrSplit(day_span[1], '-');
    int day = 0;
    OpeningPeriod p{};
    if (span.size() != 2 || !absl::SimpleAtoi(day_span[0], &day) ||
        !absl::SimpleAtoi(span[0], &p.open_minute) || !absl::SimpleAtoi(span[1], &p.close_minute)) {
      continue;
    }
    p.day = static_cast<Weekday>(day);
    hours.push_back(p);
  }
  return hours;
}

Provider ReadProvider(SQLite::Statement& row) {
  Provider p;
  p.provider_id = row.getColumn(0).getString();
  p.display_name = row.getColumn(1).getString();
  p.state = row.getColumn(2).getInt() == 2 ? ProviderState::kPaused : ProviderState::kActive;
  p.regions = absl::StrSplit(row.getColumn(3).getString(), ',', absl::SkipEmpty());
  p.daily_cap = static_cast<uint32_t>(row.getColumn(4).getInt64());
  p.time_zone = row.getColumn(5).getString();
  p.hours = DecodeHours(row.getColumn(6).getString());
  p.create_time = FromMicros(row.getColumn(7).getInt64());
  p.update_time = FromMicros(row.getColumn(8).getInt64());
  return p;
}

// Binds every column of `p` in kProviderColumns order.
void BindProvider(SQLite::Statement& stmt, const Provider& p) {
  stmt.bind(1, p.provider_id);
  stmt.bind(2, p.display_name);
  stmt.bind(3, p.state == ProviderState::kPaused ? 2 : 1);
  stmt.bind(4, absl::StrJoin(p.regions, ","));
  stmt.bind(5, static_cast<int64_t>(p.daily_cap));
  stmt.bind(6, p.time_zone);
  stmt.bind(7, EncodeHours(p.hours));
  stmt.bind(8, ToMicros(p.create_time));
  stmt.bind(9, ToMicros(p.update_time));
}

std::optional<Provider> SelectProvider(SQLite::Database& db, const std::string& id) {
  SQLite::Statement query(
      db, absl::StrCat("SELECT ", kProviderColumns, " FROM providers WHERE provider_id = ?"));
  query.bind(1, id);
  if (!query.executeStep()) return std::nullopt;
  return ReadProvider(query);
}

bool ProviderExists(SQLite::Database& db, const std::string& id) {
  SQLite::Statement query(db, "SELECT 1 FROM providers WHERE provider_id = ?");
  query.bind(1, id);
  return query.executeStep();
}

constexpr char kListingColumns[] = "listing_id, provider_id, display_name, region, create_time_us";

Listing ReadListing(SQLite::Statement& row) {
  return Listing{row.getColumn(0).getString(), row.getColumn(1).getString(),
                 row.getColumn(2).getString(), row.getColumn(3).getString(),
                 FromMicros(row.getColumn(4).getInt64())};
}

constexpr char kTokenColumns[] = "token_id, provider_id, token_sha256, create_time_us";

ProviderToken ReadToken(SQLite::Statement& row) {
  const SQLite::Column hash = row.getColumn(2);
  return ProviderToken{
      row.getColumn(0).getString(), row.getColumn(1).getString(),
      std::string(static_cast<const char*>(hash.getBlob()), static_cast<size_t>(hash.getBytes())),
      FromMicros(row.getColumn(3).getInt64())};
}

void AppendEvent(StatementCache& sql, const std::string& lead_id, const std::string& provider_id,
                 LeadEventType type, int64_t now) {
  SQLite::Statement& insert = sql.Get(
      "INSERT INTO lead_events (lead_id, provider_id, type, event_time_us) VALUES (?, ?, ?, ?)");
  insert.bind(1, lead_id);
  if (provider_id.empty()) {
    insert.bind(2);
  } else {
    insert.bind(2, provider_id);
  }
  insert.bind(3, static_cast<int>(type));
  insert.bind(4, now);
  insert.exec();
  if (type == LeadEventType::kAssigned && !provider_id.empty()) {
    // Rotation's "assigned a lead least recently" reads this; every path that assigns a lead
    // appends this event, so none can forget it. Each stamp lands above every other, so two
    // assignments within one clock tick still rank in the order they were made (as on
    // PostgreSQL: StampAssignedQueries).
    SQLite::Statement& stamp = sql.Get(
        "UPDATE providers SET last_assigned_us = max(?1, (SELECT coalesce(max(last_assigned_us), "
        "0) + 1 FROM providers)) WHERE provider_id = ?2");
    stamp.bind(1, now);
    stamp.bind(2, provider_id);
    stamp.exec();
  }
}

uint64_t LastSequence(SQLite::Database& db) {
  SQLite::Statement query(db, "SELECT seq FROM sqlite_sequence WHERE name = 'lead_events'");
  return query.executeStep() ? static_cast<uint64_t>(query.getColumn(0).getInt64()) : 0;
}

}  // namespace rows

namespace {

using namespace rows;  // NOLINT(google-build-using-namespace): this file defines them.

absl::Status ProviderNotFound() { return absl::NotFoundError("provider not found"); }

// Copies a backup was being made in when the process ended: nothing reads them any more.
void RemoveStaleBackupFiles(const std::string& db_path) {
  const std::filesystem::path prefix = BackupFilePrefix(db_path);
  const std::string name = prefix.filename().string();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(
           prefix.has_parent_path() ? prefix.parent_path() : ".", ec)) {
    if (absl::StartsWith(entry.path().filename().string(), name)) {
      std::filesystem::remove(entry.path(), ec);
    }
  }
}

// Fills `page` from `query`, which selects up to limit + 1 rows in key order; the extra row
// only says there is a next page.
template <typename T, typename Read>
Page<T> ReadPage(SQLite::Statement& query, int limit, Read read, std::string (*key)(const T&)) {
  Page<T> page;
  while (query.executeStep()) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_after = key(page.items.back());
      break;
    }
    page.items.push_back(read(query));
  }
  return page;
}

}  // namespace

Store::Store(std::string path, std::string instance_id, int schema_version,
             std::unique_ptr<SQLite::Database> writer, const StoreOptions& options)
    : path_(std::move(path)),
      instance_id_(std::move(instance_id)),
      schema_version_(schema_version),
      options_(options),
      clock_(*options.clock),
      cipher_(*options.cipher),
      readers_(path_, options.connection),
      writer_(std::move(writer),
              GroupCommitWriter::Options{
                  .max_batch = 512,
                  .busy_timeout = options.connection.busy_timeout,
                  .after_commit = [this](SQLite::Database& db) { AfterCommit(db); },
                  .observer = options.writer_observer}) {}

Store::~Store() {
  // writer_ stops first among the members; what waits for it in memory goes before that.
  WriteWaitingDisclosures();
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                                   const StoreOptions& options) {
  if (options.cipher == nullptr || options.clock == nullptr) {
    return absl::InvalidArgumentError("the store needs a clock and a PII cipher");
  }
  INTAKE_ASSIGN_OR_RETURN(std::unique_ptr<SQLite::Database> writer,
                          OpenConnection(path, ConnectionRole::kWriter, options.connection));
  absl::StatusOr<int> version = Migrate(*writer);
  if (!version.ok()) {
    return absl::Status(version.status().code(),
                        absl::StrCat("database ", path, ": ", version.status().message()));
  }
  INTAKE_RETURN_IF_ERROR(FillQuarantinePhoneHashes(*writer, *options.cipher));
  std::string instance_id;
  uint64_t head = 0;
  try {
    SQLite::Statement identity(*writer, "SELECT instance_id, data_key_id FROM instance");
    identity.executeStep();
    instance_id = identity.getColumn(0).getString();
    const SQLite::Column key_id = identity.getColumn(1);
    if (key_id.isNull()) {
      // A new database, or one from before key ids: from now on it belongs to this key.
      SQLite::Statement claim(*writer, "UPDATE instance SET data_key_id = ?");
      claim.bind(1, options.cipher->key_id());
      claim.exec();
    } else if (key_id.getString() != options.cipher->key_id()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database ", path, " is sealed with data key ", key_id.getString(),
          ", but the data key given is ", options.cipher->key_id(),
          ": put back the data.key that belongs to this database (without it the callers' "
          "data in it cannot be read)"));
    }
    head = LastSequence(*writer);
  } catch (const std::exception& e) {
    return SqliteError(absl::StrCat("reading the identity of database ", path), e);
  }
  RemoveStaleBackupFiles(path);
  std::unique_ptr<Store> store(
      new Store(path, std::move(instance_id), *version, std::move(writer), options));
  store->head_sequence_ = head;
  return store;
}

absl::StatusOr<Provider> Store::CreateProvider(Provider provider) {
  provider.create_time = provider.update_time = clock_.Now();
  absl::Status status = writer_.Run([&](SQLite::Database& db) -> absl::Status {
    if (ProviderExists(db, provider.provider_id)) {
      return absl::AlreadyExistsError("a provider with this provider_id exists");
    }
    SQLite::Statement insert(db, absl::StrCat("INSERT INTO providers (", kProviderColumns,
                                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    BindProvider(insert, provider);
    insert.exec();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return provider;
}

absl::StatusOr<Provider> Store::UpdateProvider(const std::string& provider_id,
                                               std::function<absl::Status(Provider&)> change) {
  Provider updated;
  absl::Status status = writer_.Run([&](SQLite::Database& db) -> absl::Status {
    std::optional<Provider> current = SelectProvider(db, provider_id);
    if (!current) return ProviderNotFound();
    INTAKE_RETURN_IF_ERROR(change(*current));
    current->provider_id = provider_id;  // Immutable, whatever `change` did.
    current->update_time = clock_.Now();
    SQLite::Statement update(
        db,
        "UPDATE providers SET display_name = ?2, state = ?3, regions = ?4, daily_cap = ?5, "
        "time_zone = ?6, hours = ?7, update_time_us = ?9 WHERE provider_id = ?1 AND "
        "create_time_us = ?8");
    BindProvider(update, *current);
    update.exec();
    updated = *std::move(current);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return updated;
}

absl::StatusOr<Provider> Store::GetProvider(const std::string& provider_id) {
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<Provider> {
    std::optional<Provider> provider = SelectProvider(db, provider_id);
    if (!provider) return ProviderNotFound();
    return *std::move(provider);
  });
}

absl::StatusOr<Page<Provider>> Store::ListProviders(int limit, const std::string& after) {
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<Page<Provider>> {
    SQLite::Statement query(db, absl::StrCat("SELECT ", kProviderColumns,
                                             " FROM providers WHERE provider_id > ? "
                                             "ORDER BY provider_id LIMIT ?"));
    query.bind(1, after);
    query.bind(2, limit + 1);
    return ReadPage<Provider>(query, limit, ReadProvider,
                              [](const Provider& p) { return p.provider_id; });
  });
}

absl::StatusOr<Listing> Store::CreateListing(Listing listing) {
  listing.create_time = clock_.Now();
  absl::Status status = writer_.Run([&](SQLite::Database& db) -> absl::Status {
    if (!ProviderExists(db, listing.provider_id)) return ProviderNotFound();
    SQLite::Statement exists(db, "SELECT 1 FROM listings WHERE listing_id = ?");
    exists.bind(1, listing.listing_id);
    if (exists.executeStep()) {
      return absl::AlreadyExistsError("a listing with this listing_id exists");
    }
    SQLite::Statement insert(
        db, absl::StrCat("INSERT INTO listings (", kListingColumns, ") VALUES (?, ?, ?, ?, ?)"));
    insert.bind(1, listing.listing_id);
    insert.bind(2, listing.provider_id);
    insert.bind(3, listing.display_name);
    insert.bind(4, listing.region);
    insert.bind(5, ToMicros(listing.create_time));
    insert.exec();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return listing;
}

absl::StatusOr<Listing> Store::GetListing(const std::string& listing_id) {
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<Listing> {
    SQLite::Statement query(
        db, absl::StrCat("SELECT ", kListingColumns, " FROM listings WHERE listing_id = ?"));
    query.bind(1, listing_id);
    if (!query.executeStep()) return absl::NotFoundError("listing not found");
    return ReadListing(query);
  });
}

absl::StatusOr<Page<Listing>> Store::ListListings(int limit, const std::string& after,
                                                  const std::string& provider_id) {
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<Page<Listing>> {
    SQLite::Statement query(db, absl::StrCat("SELECT ", kListingColumns,
                                             " FROM listings WHERE listing_id > ?1 AND "
                                             "(?2 = '' OR provider_id = ?2) "
                                             "ORDER BY listing_id LIMIT ?3"));
    query.bind(1, after);
    query.bind(2, provider_id);
    query.bind(3, limit + 1);
    return ReadPage<Listing>(query, limit, ReadListing,
                             [](const Listing& l) { return l.listing_id; });
  });
}

absl::StatusOr<ProviderToken> Store::IssueProviderToken(const std::string& provider_id,
                                                        const std::string& token_sha256) {
  ProviderToken token{"", provider_id, token_sha256, clock_.Now()};
  absl::Status status = writer_.Run([&](SQLite::Database& db) -> absl::Status {
    if (!ProviderExists(db, provider_id)) return ProviderNotFound();
    token.token_id =
        absl::StrCat("tok-", db.execAndGet("SELECT lower(hex(randomblob(12)))").getString());
    SQLite::Statement insert(
        db, absl::StrCat("INSERT INTO provider_tokens (", kTokenColumns, ") VALUES (?, ?, ?, ?)"));
    insert.bind(1, token.token_id);
    insert.bind(2, token.provider_id);
    insert.bind(3, token.token_sha256.data(), static_cast<int>(token.token_sha256.size()));
    insert.bind(4, ToMicros(token.create_time));
    insert.exec();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return token;
}

absl::StatusOr<ProviderToken> Store::RevokeProviderToken(const std::string& token_id) {
  ProviderToken token;
  const int64_t now = ToMicros(clock_.Now());
  absl::Status status = writer_.Run([&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement query(
        db, absl::StrCat("SELECT ", kTokenColumns, " FROM provider_tokens WHERE token_id = ?"));
    query.bind(1, token_id);
    if (!query.executeStep()) return absl::NotFoundError("token not found");
    token = ReadToken(query);
    SQLite::Statement revoke(db,
                             "UPDATE provider_tokens SET revoke_time_us = ? WHERE token_id = ? "
                             "AND revoke_time_us IS NULL");
    revoke.bind(1, now);
    revoke.bind(2, token_id);
    revoke.exec();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return token;
}

absl::StatusOr<std::vector<ProviderToken>> Store::ActiveProviderTokens() {
  return readers_.With([&](SQLite::Database& db) -> absl::StatusOr<std::vector<ProviderToken>> {
    SQLite::Statement query(db, absl::StrCat("SELECT ", kTokenColumns,
                                             " FROM provider_tokens WHERE revoke_time_us IS NULL"));
    std::vector<ProviderToken> tokens;
    while (query.executeStep()) tokens.push_back(ReadToken(query));
    return tokens;
  });
}

}  // namespace intake::store
