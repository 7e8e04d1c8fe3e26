#include "server/store/postgres/connection.h"

#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string_view>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace intake::store::postgres {
namespace {

constexpr char kDatabaseUnreachable[] = "the database is unreachable; retry";

struct Condition {
  const char* sqlstate;
  const char* name;
};

// The conditions Intake meets in practice, named as PostgreSQL's appendix A does.
constexpr Condition kConditions[] = {
    {"08000", "connection_exception"},
    {"08003", "connection_does_not_exist"},
    {"08006", "connection_failure"},
    {"22001", "string_data_right_truncation"},
    {"22P02", "invalid_text_representation"},
    {"23502", "not_null_violation"},
    {"23503", "foreign_key_violation"},
    {"23505", "unique_violation"},
    {"23514", "check_violation"},
    {"25006", "read_only_sql_transaction"},
    {"25P02", "in_failed_sql_transaction"},
    {"25P03", "idle_in_transaction_session_timeout"},
    {"40001", "serialization_failure"},
    {"40P01", "deadlock_detected"},
    {"42501", "insufficient_privilege"},
    {"42601", "syntax_error"},
    {"42P01", "undefined_table"},
    {"42P07", "duplicate_table"},
    {"42703", "undefined_column"},
    {"53100", "disk_full"},
    {"53200", "out_of_memory"},
    {"53300", "too_many_connections"},
    {"55P03", "lock_not_available"},
    {"57014", "query_canceled"},
    {"57P01", "admin_shutdown"},
    {"57P02", "crash_shutdown"},
    {"57P03", "cannot_connect_now"},
    {"58030", "io_error"},
};

// What a client is told of a failure with `sqlstate`: a fixed description of its class,
// with the code that says whether to retry. Never the statement, the server's message, its
// DETAIL or CONTEXT (which quote values), nor the schema's names.
absl::Status StatusFor(absl::string_view sqlstate) {
  const absl::string_view cls = sqlstate.substr(0, 2);
  if (sqlstate == "40001" || sqlstate == "40P01") {
    return absl::UnavailableError(
        "the database aborted the transaction (serialization failure or deadlock); retry");
  }
  if (sqlstate == "55P03" || sqlstate == "57014") {
    return absl::UnavailableError("the database timed out waiting for a lock; retry");
  }
  if (sqlstate == "25P03") {
    // The server ended a session whose transaction sat idle past
    // idle_in_transaction_session_timeout: the writer's, when its machine starved it of CPU
    // for that long. Its transaction is rolled back; the next one reconnects.
    return absl::UnavailableError("the database ended a transaction that waited too long; retry");
  }
  if (cls == "08") return absl::UnavailableError(kDatabaseUnreachable);
  if (absl::StartsWith(sqlstate, "57P")) {
    return absl::UnavailableError("the database is shutting down or starting up; retry");
  }
  if (cls == "53") {
    return absl::UnavailableError(
        "the database is out of resources (disk, memory or connections); retry");
  }
  if (cls == "58") return absl::UnavailableError("the database had a system error; retry");
  if (sqlstate == "25006") {
    // A read-only server, which is what a failed-over primary turns into; another connection
    // (libpq's target_session_attrs=read-write) finds the new one.
    return absl::UnavailableError("the database is read-only (a standby); retry");
  }
  if (sqlstate == "23505") return absl::AlreadyExistsError("the database holds this key already");
  if (cls == "23") {
    return absl::FailedPreconditionError("the database refused the write (integrity constraint)");
  }
  if (sqlstate == "42501") {
    return absl::FailedPreconditionError("the database user lacks a privilege intaked needs");
  }
  if (sqlstate == "42P07") {
    return absl::FailedPreconditionError("the database schema is not as intaked expects");
  }
  return absl::InternalError("the database rejected a statement");
}

// The first line of a libpq message (its own, never the server's: see PgError).
std::string FirstLine(const char* message) {
  absl::string_view text = message == nullptr ? "" : message;
  text = text.substr(0, text.find('\n'));
  return std::string(absl::StripAsciiWhitespace(text));
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "intaked: %s\n", what);
  std::abort();
}

}  // namespace

Result::Result(PGresult* result) : result_(result) {}

Result::~Result() { PQclear(result_); }

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

int Result::rows() const { return result_ == nullptr ? 0 : PQntuples(result_); }

int Result::columns() const { return result_ == nullptr ? 0 : PQnfields(result_); }

int64_t Result::affected_rows() const {
  int64_t n = 0;
  return result_ != nullptr && absl::SimpleAtoi(PQcmdTuples(result_), &n) ? n : 0;
}

absl::string_view Result::command() const { return result_ == nullptr ? "" : PQcmdStatus(result_); }

bool Result::IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

absl::string_view Result::Text(int row, int column) const {
  return absl::string_view(PQgetvalue(result_, row, column),
                           static_cast<size_t>(PQgetlength(result_, row, column)));
}

int64_t Result::Int64(int row, int column) const {
  if (IsNull(row, column)) return 0;
  int64_t value = 0;
  if (!absl::SimpleAtoi(Text(row, column), &value)) Die("Result::Int64 on a non-integer column");
  return value;
}

std::string Result::Bytes(int row, int column) const {
  absl::string_view text = Text(row, column);
  if (IsNull(row, column)) return "";
  if (!absl::ConsumePrefix(&text, "\\x")) Die("Result::Bytes on a column that is not bytea");
  return absl::HexStringToBytes(text);
}

absl::Status PgError(absl::string_view what, const PGresult* result, const PGconn* conn) {
  const char* sqlstate = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  if (sqlstate == nullptr) {
    // libpq's own failure (the connection is gone, or a protocol error): its message names
    // no data, but may name hosts and paths, so it goes to the log only.
    const std::string message =
        FirstLine(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn));
    std::cerr << "intaked: PostgreSQL: " << what << ": "
              << (message.empty() ? "no response" : message) << "\n";
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      return absl::UnavailableError(kDatabaseUnreachable);
    }
    return absl::InternalError("the database connection failed");
  }
  const absl::string_view state(sqlstate);
  // A unique violation is a race its caller expects and handles; anything else is logged, by
  // its SQLSTATE and the name the server gives the constraint or table, never by its text.
  if (state != "23505") {
    std::string line = absl::StrCat("intaked: PostgreSQL: ", what, ": ");
    for (const Condition& c : kConditions) {
      if (state == c.sqlstate) absl::StrAppend(&line, c.name, " ");
    }
    absl::StrAppend(&line, "(SQLSTATE ", state, ")");
    if (const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME)) {
      absl::StrAppend(&line, " on constraint ", constraint);
    } else if (const char* table = PQresultErrorField(result, PG_DIAG_TABLE_NAME)) {
      absl::StrAppend(&line, " on table ", table);
    }
    std::cerr << line << "\n";
  }
  return StatusFor(state);
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& conninfo,
                                                             absl::string_view application_name) {
  // Parsed first, so that a malformed string is refused without libpq's message, which
  // quotes the part it could not read (perhaps a password).
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  PQfreemem(parse_error);
  if (parsed == nullptr) {
    return absl::InvalidArgumentError("the database URI is malformed (see libpq's syntax)");
  }
  PQconninfoFree(parsed);
  // Defaults first: the expanded conninfo overrides them.
  const std::string app(application_name);
  const char* const keywords[] = {"connect_timeout", "fallback_application_name", "dbname",
                                  nullptr};
  const char* const values[] = {"10", app.c_str(), conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names the host, socket or user (and never the password): the log's.
    std::cerr << "intaked: PostgreSQL: connecting to the database: "
              << (conn == nullptr ? "out of memory" : FirstLine(PQerrorMessage(conn))) << "\n";
    PQfinish(conn);
    return absl::UnavailableError("connecting to the database failed; retry");
  }
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

bool ConninfoHasPassword(const std::string& conninfo) {
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  if (options == nullptr) return false;
  bool has = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val != nullptr && *o->val != '\0') {
      has = true;
    }
  }
  PQconninfoFree(options);
  return has;
}

std::string Connection::Describe() const {
  return absl::StrCat("PostgreSQL database ", PQdb(conn_), " on ", PQhost(conn_), ":",
                      PQport(conn_));
}

int Connection::backend_pid() const { return PQbackendPID(conn_); }

int Connection::socket() const { return PQsocket(conn_); }

absl::StatusOr<Result> Connection::Exec(absl::string_view sql, absl::Span<const Param> params) {
  const Query query{std::string(sql), std::vector<Param>(params.begin(), params.end())};
  absl::StatusOr<std::vector<Result>> results = ExecAll(absl::MakeConstSpan(&query, 1));
  if (!results.ok()) return results.status();
  return std::move(results->front());
}

absl::StatusOr<std::vector<Result>> Connection::ExecAll(absl::Span<const Query> queries,
                                                        size_t* failed) {
  size_t failed_index = queries.size();
  absl::StatusOr<std::vector<Result>> results = RunPipeline(queries, failed_index);
  if (failed != nullptr) *failed = failed_index;
  return results;
}

absl::StatusOr<std::vector<Result>> Connection::RunPipeline(absl::Span<const Query> queries,
                                                            size_t& failed) {
  if (!ok()) return absl::UnavailableError("the database connection is lost");
  if (PQenterPipelineMode(conn_) != 1) return PgError("entering pipeline mode", nullptr, conn_);
  // Per query: whether a Parse of a new statement was sent before it, and its name.
  std::vector<bool> parse_sent(queries.size(), false);
  std::vector<std::string> names(queries.size());
  absl::flat_hash_map<std::string, std::string> pending;  // Parsed in this pipeline.
  bool sent = true;
  for (size_t i = 0; i < queries.size() && sent; ++i) {
    const Query& q = queries[i];
    if (auto it = prepared_.find(q.sql); it != prepared_.end()) {
      names[i] = it->second;
    } else if (auto p = pending.find(q.sql); p != pending.end()) {
      names[i] = p->second;
    } else {
      names[i] = absl::StrCat("s", next_statement_++);
      pending.emplace(q.sql, names[i]);
      parse_sent[i] = true;
      sent = PQsendPrepare(conn_, names[i].c_str(), q.sql.c_str(), 0, nullptr) == 1;
    }
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (const Param& p : q.params) {
      values.push_back(p.is_null() ? nullptr : p.value().data());
      lengths.push_back(static_cast<int>(p.value().size()));
      formats.push_back(p.is_binary() ? 1 : 0);
    }
    sent = sent && PQsendQueryPrepared(conn_, names[i].c_str(), static_cast<int>(values.size()),
                                       values.data(), lengths.data(), formats.data(),
                                       /*resultFormat=*/0) == 1;
  }
  if (!sent || PQpipelineSync(conn_) != 1) {
    absl::Status status = PgError("sending statements", nullptr, conn_);
    if (ok()) {
      // Drain what was queued; the connection is unusable otherwise.
      PQpipelineSync(conn_);
      while (PGresult* r = PQgetResult(conn_)) PQclear(r);
    }
    return status;
  }

  absl::Status failure;
  std::vector<Result> results;
  results.reserve(queries.size());
  // Takes the next command's result and the NULL that ends it (none follows a lost
  // connection's error).
  const auto next = [this]() {
    Result r(PQgetResult(conn_));
    if (r.result_ != nullptr) PQclear(PQgetResult(conn_));
    return r;
  };
  for (size_t i = 0; i < queries.size(); ++i) {
    if (parse_sent[i]) {
      Result parsed = next();
      if (PQresultStatus(parsed.result_) == PGRES_COMMAND_OK) {
        prepared_.emplace(queries[i].sql, names[i]);
      } else if (failure.ok()) {
        failure = PgError(absl::StrCat("preparing `", queries[i].sql.substr(0, 60), "`"),
                          parsed.result_, conn_);
        failed = i;
      }
    }
    Result r = next();
    const ExecStatusType rc = PQresultStatus(r.result_);
    if (rc != PGRES_COMMAND_OK && rc != PGRES_TUPLES_OK && failure.ok()) {
      failure =
          PgError(absl::StrCat("running `", queries[i].sql.substr(0, 60), "`"), r.result_, conn_);
    }
    results.push_back(std::move(r));
  }
  // The sync point, which libpq does not follow with a NULL.
  if (PGresult* sync = PQgetResult(conn_)) {
    if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC && failure.ok()) {
      failure = PgError("synchronising", sync, conn_);
    }
    PQclear(sync);
  } else if (failure.ok()) {
    failure = PgError("synchronising", nullptr, conn_);
  }
  if (PQexitPipelineMode(conn_) != 1 && failure.ok()) {
    failure = PgError("leaving pipeline mode", nullptr, conn_);
  }
  if (!failure.ok()) return failure;
  return results;
}

absl::Status Connection::ExecScript(absl::string_view sql) {
  if (!ok()) return absl::UnavailableError("the database connection is lost");
  Result result(PQexec(conn_, std::string(sql).c_str()));
  const ExecStatusType rc = PQresultStatus(result.result_);
  if (rc == PGRES_COMMAND_OK || rc == PGRES_TUPLES_OK) return absl::OkStatus();
  return PgError("running a script", result.result_, conn_);
}

absl::StatusOr<std::vector<Notification>> Connection::TakeNotifications() {
  if (PQconsumeInput(conn_) != 1) return PgError("reading notifications", nullptr, conn_);
  std::vector<Notification> notifications;
  while (PGnotify* n = PQnotifies(conn_)) {
    notifications.push_back(Notification{n->relname, n->extra, n->be_pid});
    PQfreemem(n);
  }
  return notifications;
}

}  // namespace intake::store::postgres
