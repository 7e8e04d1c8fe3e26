#include "tests/testing/pg_server.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace intake::testing {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(10);
// tmpfs is used only if it has this much room: a cluster takes about 40 MB and grows its WAL.
constexpr uint64_t kMinTmpfsBytes = uint64_t{512} << 20;

std::string DefaultParentDir() {
  struct statvfs fs;
  if (statvfs("/dev/shm", &fs) == 0 && access("/dev/shm", W_OK) == 0 &&
      static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize >= kMinTmpfsBytes) {
    return "/dev/shm";
  }
  return std::filesystem::temp_directory_path();
}

// Starts `argv` as uid/gid with stdout and stderr appended to `log_path`. The child gets
// SIGQUIT (PostgreSQL's immediate shutdown) if the calling thread dies first.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, uid_t uid, gid_t gid,
                            const std::string& log_path) {
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return absl::UnavailableError(absl::StrCat("cannot open ", log_path));
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const bool switch_user = geteuid() != uid;
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::UnavailableError("fork failed");
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here on: the test process has threads.
    if (switch_user && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) {
      _exit(126);
    }
    // After setuid, which clears the death signal.
    prctl(PR_SET_PDEATHSIG, SIGQUIT);
    if (getppid() != parent) _exit(1);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(log_fd, STDOUT_FILENO) < 0 ||
        dup2(log_fd, STDERR_FILENO) < 0) {
      _exit(126);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  close(log_fd);
  return pid;
}

// Waits up to `timeout` for `pid` to exit; returns its wait status, or nullopt on timeout.
std::optional<int> WaitExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0) return -1;
    if (absl::Now() > deadline) return std::nullopt;
    absl::SleepFor(kPollInterval);
  }
}

// Runs `sql` over a new connection to `conninfo`.
absl::Status Exec(const std::string& conninfo, absl::string_view sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  absl::Status status;
  if (PQstatus(conn) != CONNECTION_OK) {
    status = absl::UnavailableError(absl::StrCat("connecting: ", PQerrorMessage(conn)));
  } else {
    PGresult* result = PQexec(conn, std::string(sql).c_str());
    const ExecStatusType rc = PQresultStatus(result);
    if (rc != PGRES_COMMAND_OK && rc != PGRES_TUPLES_OK) {
      status = absl::InternalError(absl::StrCat(sql, ": ", PQresultErrorMessage(result)));
    }
    PQclear(result);
  }
  PQfinish(conn);
  return status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgServer>> PgServer::Start(Options options) {
  const std::string initdb = options.bin_dir + "/initdb";
  if (access(initdb.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(initdb, " is missing: run deploy/install-deps.sh (PostgreSQL 15)"));
  }
  std::unique_ptr<PgServer> server(new PgServer());
  server->options_ = std::move(options);
  server->uid_ = geteuid();
  server->gid_ = getegid();
  if (server->uid_ == 0) {
    const passwd* account = getpwnam("postgres");
    if (account == nullptr) {
      return absl::FailedPreconditionError(
          "running as root and there is no `postgres` account to run PostgreSQL as: run "
          "deploy/install-deps.sh");
    }
    server->uid_ = account->pw_uid;
    server->gid_ = account->pw_gid;
  }

  const std::string parent =
      server->options_.parent_dir.empty() ? DefaultParentDir() : server->options_.parent_dir;
  std::string pattern = parent + "/intake-pg-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create a directory in ", parent));
  }
  server->dir_ = pattern;
  if (chown(server->dir_.c_str(), server->uid_, server->gid_) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot chown ", server->dir_));
  }

  const absl::Time deadline = absl::Now() + server->options_.start_timeout;
  absl::StatusOr<pid_t> init =
      Spawn({initdb, "--pgdata=" + server->dir_ + "/data", "--username=postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"},
            server->uid_, server->gid_, server->dir_ + "/initdb.log");
  if (!init.ok()) return init.status();
  const std::optional<int> init_status = WaitExit(*init, deadline - absl::Now());
  if (!init_status || !WIFEXITED(*init_status) || WEXITSTATUS(*init_status) != 0) {
    if (!init_status) {
      kill(*init, SIGKILL);
      waitpid(*init, nullptr, 0);
    }
    std::ifstream log(server->dir_ + "/initdb.log");
    std::stringstream text;
    text << log.rdbuf();
    return absl::UnavailableError(absl::StrCat("initdb failed:\n", text.str()));
  }
  if (absl::Status s = server->Launch(); !s.ok()) return s;
  if (absl::Status s = server->ExecAsSuperuser("postgres", "CREATE ROLE intake LOGIN"); !s.ok()) {
    return s;
  }
  return server;
}

absl::Status PgServer::Launch() {
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  absl::StatusOr<pid_t> pid =
      Spawn({options_.bin_dir + "/postgres", "-D", dir_ + "/data", "-c", "listen_addresses=", "-c",
             "unix_socket_directories=" + dir_, "-c", "fsync=on", "-c", "synchronous_commit=on",
             "-c", "full_page_writes=on", "-c", "shared_buffers=32MB"},
            uid_, gid_, dir_ + "/server.log");
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  const std::string conninfo = Uri("postgres", "postgres");
  while (PQping(conninfo.c_str()) != PQPING_OK) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat("postgres exited at start:\n", Log()));
    }
    if (absl::Now() > deadline) {
      Shutdown(SIGQUIT);
      return absl::UnavailableError(absl::StrCat("postgres did not start in time:\n", Log()));
    }
    absl::SleepFor(kPollInterval);
  }
  return absl::OkStatus();
}

void PgServer::Shutdown(int signal) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  if (!WaitExit(pid_, absl::Seconds(60))) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

PgServer::~PgServer() {
  Shutdown(SIGINT);  // Fast shutdown.
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

absl::StatusOr<std::string> PgServer::CreateDatabase() {
  const std::string name = absl::StrCat("test_", next_database_++);
  absl::Status status =
      ExecAsSuperuser("postgres", absl::StrCat("CREATE DATABASE ", name, " OWNER intake"));
  if (!status.ok()) return status;
  return name;
}

std::string PgServer::Uri(absl::string_view database, absl::string_view user) const {
  return absl::StrCat("postgresql:///", database, "?host=", dir_, "&user=", user);
}

absl::Status PgServer::ExecAsSuperuser(absl::string_view database, absl::string_view sql) const {
  return Exec(Uri(database, "postgres"), sql);
}

void PgServer::Stop() { Shutdown(SIGINT); }

absl::Status PgServer::Resume() { return Launch(); }

absl::Status PgServer::CrashAndRestart() {
  Shutdown(SIGQUIT);
  return Launch();
}

std::string PgServer::Log() const {
  std::ifstream log(dir_ + "/server.log");
  std::stringstream text;
  text << log.rdbuf();
  return text.str();
}

absl::StatusOr<PgServer*> SharedPgServer() {
  // Destroyed at exit, which stops the server.
  static absl::StatusOr<std::unique_ptr<PgServer>> server = PgServer::Start();
  if (!server.ok()) return server.status();
  return server->get();
}

}  // namespace intake::testing
