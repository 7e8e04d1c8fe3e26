// A private PostgreSQL 15 server for tests: initdb into a fresh directory, a Unix socket in
// that directory (no TCP), run as an unprivileged account, stopped and removed by the test.
//
// Settings, and why each is safe for what the tests prove:
// - fsync, synchronous_commit and full_page_writes stay on (pinned on the command line, so a
//   packaged postgresql.conf cannot turn them off): the commit path the tests exercise is the
//   production one.
// - The cluster lives on tmpfs (/dev/shm) when it has room, else under TMPDIR. An fsync there
//   returns at once, which removes the reference disk's 100-700 ms stalls from test times; it
//   weakens no test, because what a test can do to a server (kill it, restart it) never loses
//   the page cache, so no test could tell a synced file from an unsynced one anyway. A test
//   that wants the disk in the path passes Options::parent_dir.
// - initdb --no-sync: the freshly created catalog is not flushed; a test cluster never
//   outlives an OS crash.
// - --locale=C, UTF8: results and collation do not depend on the machine's locale.
// - Trust authentication on the socket only: it lives in a directory of mode 0700 owned by the
//   server's account, so only that account and root can reach it.
// - Fewer shared buffers (32 MB): several test binaries run clusters at once on one machine.
// Measured on the reference 2-core machine under load: initdb about 1.5 s, start 0.3 s, each
// CreateDatabase 0.1 s; so a test binary shares one server (SharedPgServer) and each test gets
// a database of its own.
//
// PostgreSQL refuses to run as root, and CI runs as root: the server (and initdb) then run as
// the `postgres` system account, which Debian's postgresql-common package creates (installed
// by deploy/install-deps.sh). As any other user, they run as that user.
#ifndef INTAKE_TESTS_TESTING_PG_SERVER_H_
#define INTAKE_TESTS_TESTING_PG_SERVER_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace intake::testing {

class PgServer {
 public:
  struct Options {
    // The folder to create the server's directory in; empty: /dev/shm if it has room, else
    // TMPDIR.
    std::string parent_dir;
    // Where PostgreSQL's programs live (Debian's layout).
    std::string bin_dir = "/usr/lib/postgresql/15/bin";
    // How long initdb plus start-up may take.
    absl::Duration start_timeout = absl::Seconds(120);
  };

  // Creates a cluster in a new directory, starts its server and creates the login role
  // `intake` (not a superuser, as intaked would run in production). Returns kFailedPrecondition
  // if PostgreSQL is not installed or there is no unprivileged account to run it as,
  // kUnavailable (with the server's log) if it does not start in time.
  static absl::StatusOr<std::unique_ptr<PgServer>> Start(Options options);
  static absl::StatusOr<std::unique_ptr<PgServer>> Start() { return Start(Options()); }

  // Stops the server (fast shutdown: open sessions are ended) and removes its directory.
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Creates a new, empty database owned by `intake` and returns its name (Uri() makes its
  // URI). Each call gets a fresh name. Thread-safe.
  absl::StatusOr<std::string> CreateDatabase();

  // The libpq URI of `database` for `user` over this server's socket.
  std::string Uri(absl::string_view database, absl::string_view user = "intake") const;

  // Runs `sql` (one or more statements) as the superuser in `database`.
  absl::Status ExecAsSuperuser(absl::string_view database, absl::string_view sql) const;

  // Stops the server (fast shutdown), keeping its files; Resume starts it again on them. Not
  // thread-safe.
  void Stop();
  absl::Status Resume();

  // Ends the server the way a crash would (immediate shutdown: no checkpoint, open sessions
  // cut), then starts it again on the same files, which replays the WAL. Not thread-safe.
  absl::Status CrashAndRestart();

  // The folder holding the socket (the URI's host).
  const std::string& socket_dir() const { return dir_; }
  // What the server has logged so far, for failure messages.
  std::string Log() const;

 private:
  PgServer() = default;
  // Starts the postmaster on the existing cluster and waits until it accepts connections.
  absl::Status Launch();
  // Stops the postmaster with `signal` and waits for it to exit.
  void Shutdown(int signal);

  Options options_;
  std::string dir_;  // Socket, log and data/ (the cluster).
  uid_t uid_ = 0;    // The account the server runs as.
  gid_t gid_ = 0;
  pid_t pid_ = -1;  // The postmaster.
  std::atomic<int> next_database_{1};
};

// One server for the whole test binary, started on first use and stopped when the binary
// exits (a binary that crashes takes it along: the server gets SIGQUIT when the thread that
// started it dies). Tests call it from the main thread. Returns the start-up failure to every
// caller if it did not start.
absl::StatusOr<PgServer*> SharedPgServer();

}  // namespace intake::testing

#endif  // INTAKE_TESTS_TESTING_PG_SERVER_H_
