// server/store/postgres: the PostgreSQL backend of the store (libpq), for a fleet of
// stateless intaked replicas on one database. This header is its connection: statements with
// parameters, prepared once per connection and reused; several statements in one round trip
// (libpq's pipeline mode); notifications; and the mapping of PostgreSQL failures to
// absl::Status.
//
// Why libpq and not libpqxx: Debian's libpqxx (6.4) predates libpq's pipeline mode, which
// the group-commit writer relies on to keep one round trip per statement of a write (its
// savepoints ride along), and it reports every failure by exception, which the store would
// have to catch at each call. What Intake needs of libpq fits in this one small class.
#ifndef INTAKE_SERVER_STORE_POSTGRES_CONNECTION_H_
#define INTAKE_SERVER_STORE_POSTGRES_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace intake::store::postgres {

// A statement parameter: SQL NULL, text (numbers are sent as their decimal text), or raw
// bytes for a bytea parameter (sent in binary, so no escaping is involved).
class Param {
 public:
  static Param Null() { return Param(std::string(), /*binary=*/false, /*null=*/true); }
  static Param Bytes(absl::string_view bytes) { return Param(std::string(bytes), true, false); }
  Param(absl::string_view text) : value_(text) {}          // NOLINT: implicit by design.
  Param(const std::string& text) : value_(text) {}         // NOLINT
  Param(const char* text) : value_(text) {}                // NOLINT
  Param(int64_t value) : value_(std::to_string(value)) {}  // NOLINT
  Param(int value) : value_(std::to_string(value)) {}      // NOLINT

  bool is_null() const { return null_; }
  bool is_binary() const { return binary_; }
  // The value as sent; empty for NULL.
  const std::string& value() const { return value_; }

 private:
  Param(std::string value, bool binary, bool null)
      : value_(std::move(value)), binary_(binary), null_(null) {}
  std::string value_;
  bool binary_ = false;
  bool null_ = false;
};

// One statement and its parameters ($1, $2, ...).
struct Query {
  std::string sql;
  std::vector<Param> params;
};

// The rows of a completed statement, every value in PostgreSQL's text format. Move-only.
class Result {
 public:
  Result() = default;
  explicit Result(PGresult* result);
  ~Result();
  Result(Result&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const;
  int columns() const;
  // Rows an INSERT, UPDATE or DELETE touched.
  int64_t affected_rows() const;
  // The command tag ("COMMIT", "INSERT 0 1", ...). A COMMIT of a transaction that had
  // failed reports "ROLLBACK", without an error.
  absl::string_view command() const;
  bool IsNull(int row, int column) const;
  // The value as text; empty for NULL.
  absl::string_view Text(int row, int column) const;
  // An integer column's value; 0 for NULL. A column that is not an integer is a programming
  // error and aborts.
  int64_t Int64(int row, int column) const;
  // A bytea column's bytes (decoded from the text format's hex); empty for NULL.
  std::string Bytes(int row, int column) const;

 private:
  friend class Connection;
  PGresult* result_ = nullptr;
};

// A NOTIFY received on a channel this connection LISTENs to.
struct Notification {
  std::string channel;
  std::string payload;
  int sender_pid;  // The backend that sent it.
};

// Maps the failure of `result` (null when libpq produced none) on `conn` while doing `what`
// to a status by its meaning:
// - kUnavailable: worth retrying, perhaps elsewhere: the connection is lost, the server is shutting
// down or out of resources
//   (SQLSTATE classes 08, 53, 57P, 58), a deadlock, serialization failure or lock timeout
//   (40001, 40P01, 55P03), a cancelled statement (57014), a session ended for a transaction
//   left idle too long (25P03);
// - kAlreadyExists: a unique constraint (23505), so callers can tell a lost race;
// - kFailedPrecondition: another integrity constraint (class 23), or a database not set up as
//   intaked needs (missing privilege 42501, duplicate object 42P07, read-only 25006);
// - kInternal: anything else (a bad statement is a bug).
// The message is a fixed description of the class ("the database aborted the transaction
// (serialization failure or deadlock); retry"), since it may reach a client: never the
// statement, the server's message text, DETAIL or CONTEXT (PostgreSQL quotes values in them:
// "invalid input syntax for type bigint: ...", "Key (request_id)=(...)"), nor the schema's
// names. What an operator needs goes to stderr, one line per failure: `what`, the SQLSTATE
// and its name, and the constraint or table the server names (a unique violation, a race
// its caller handles, is not logged).
absl::Status PgError(absl::string_view what, const PGresult* result, const PGconn* conn);

// True if the libpq URI or key=value string `conninfo` carries a password (which belongs in
// a PGPASSFILE, not on a command line). A malformed one is reported by Connection::Open.
bool ConninfoHasPassword(const std::string& conninfo);

// A connection to one database. Thread-compatible: one thread uses it at a time.
class Connection {
 public:
  // Connects with `conninfo`, a libpq URI (postgresql://...) or key=value string; a password
  // comes from PGPASSWORD or PGPASSFILE as libpq reads them, never from intaked's flags.
  // Unless `conninfo` says otherwise, connecting times out after 10 s and the session is
  // named `application_name`. Returns kUnavailable if the server cannot be reached or
  // refuses the connection (libpq's reason goes to stderr, the status says only that), and
  // kInvalidArgument for a malformed `conninfo`. Neither repeats `conninfo` (it may hold a
  // password).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& conninfo,
                                                          absl::string_view application_name);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with `params` and returns its rows. The statement is prepared on its
  // first use on this connection and reused by its text after that. Errors as PgError.
  absl::StatusOr<Result> Exec(absl::string_view sql, absl::Span<const Param> params = {});

  // Sends `queries` in one round trip and returns their results in order. Each statement
  // still runs as if sent alone (its own snapshot, its own locks), in order; outside an
  // explicit transaction they form one implicit transaction. If one fails, the later ones do
  // not run and its error is returned, and `failed` (if not null) receives its index (or
  // queries.size() for a failure of no statement in particular, such as a lost connection
  // before any result); inside a transaction, the transaction is then aborted as with any
  // failed statement. Meant for a handful of statements: libpq sends them all before reading
  // any result.
  absl::StatusOr<std::vector<Result>> ExecAll(absl::Span<const Query> queries,
                                              size_t* failed = nullptr);

  // Runs `sql`, which may hold several statements but no parameters (schema scripts, session
  // settings). Errors as PgError.
  absl::Status ExecScript(absl::string_view sql);

  // Reads whatever the server has sent without blocking, and returns the notifications
  // received so far. kUnavailable if the connection is lost.
  absl::StatusOr<std::vector<Notification>> TakeNotifications();

  // False once the connection is lost; it never comes back (open a new one).
  bool ok() const;
  // "database D on H:P" (H a socket directory or a host), for logs: never a password.
  std::string Describe() const;
  // The server process serving this connection (pg_backend_pid()).
  int backend_pid() const;
  // The socket, to wait for notifications with poll().
  int socket() const;

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  // ExecAll's work; sets `failed` only if a statement failed.
  absl::StatusOr<std::vector<Result>> RunPipeline(absl::Span<const Query> queries, size_t& failed);

  PGconn* const conn_;
  // The statements prepared on this connection, by text, and their names.
  absl::flat_hash_map<std::string, std::string> prepared_;
  int next_statement_ = 1;  // Names are s1, s2, ...; never reused.
};

}  // namespace intake::store::postgres

#endif  // INTAKE_SERVER_STORE_POSTGRES_CONNECTION_H_
