// Bad start-up conditions end with one clear line on stderr and exit code 1; bad flags with
// a usage error. Never a crash, never a stack trace.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/intaked_process.h"

namespace intake::testing {
namespace {

std::vector<std::string> Args(const std::string& data_dir) {
  return {"--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0", "--data_dir=" + data_dir};
}

// Exit code 1 and exactly one stderr line that contains `expected`.
void ExpectOneLineFailure(const ExitResult& result, const std::string& expected) {
  EXPECT_EQ(result.exit_code, 1) << result.stderr_text;
  EXPECT_EQ(std::count(result.stderr_text.begin(), result.stderr_text.end(), '\n'), 1)
      << result.stderr_text;
  EXPECT_TRUE(absl::StrContains(result.stderr_text, expected)) << result.stderr_text;
  EXPECT_TRUE(absl::StartsWith(result.stderr_text, "intaked: ")) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "") << "nothing is announced as serving";
}

// A TCP port bound on 127.0.0.1 for the fixture's lifetime.
class BusyPort {
 public:
  BusyPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(fd_, 1), 0);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~BusyPort() { close(fd_); }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  int fd_;
  int port_ = 0;
};

TEST(StartupTest, DataDirUnderARegularFile) {
  TempDir dir;
  std::ofstream(dir.File("file")) << "x";
  ExpectOneLineFailure(RunIntaked(Args(dir.File("file/var"))), "cannot create data directory");
}

TEST(StartupTest, DataDirIsARegularFile) {
  TempDir dir;
  std::ofstream(dir.File("file")) << "x";
  ExpectOneLineFailure(RunIntaked(Args(dir.File("file"))), "cannot use data directory");
}

TEST(StartupTest, CorruptDatabase) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("var"));
  std::ofstream(dir.File("var/intake.db")) << std::string(8192, 'z');
  // With its key: an existing database without one is refused before it is read.
  std::ofstream(dir.File("var/data.key")) << std::string(64, 'a');
  ExpectOneLineFailure(RunIntaked(Args(dir.File("var"))), "not a database");
}

// A database copied (not restored from a backup) into a data directory whose data.key is
// another: refused at start, before any lead read could fail, and the key is left as it was.
TEST(StartupTest, DatabaseSealedWithAnotherDataKey) {
  TempDir dir;
  {
    std::unique_ptr<IntakedProcess> server = IntakedProcess::Start({}, dir.File("first"));
    ASSERT_NE(server, nullptr);
    ASSERT_EQ(server->Stop(SIGTERM).exit_code, 0);
  }
  std::filesystem::create_directory(dir.File("var"));
  std::filesystem::copy_file(dir.File("first/intake.db"), dir.File("var/intake.db"));
  const std::string other_key(64, 'b');
  std::ofstream(dir.File("var/data.key")) << other_key << "\n";
  ExpectOneLineFailure(RunIntaked(Args(dir.File("var"))), "is sealed with data key");
  std::ifstream key(dir.File("var/data.key"));
  std::string kept;
  std::getline(key, kept);
  EXPECT_EQ(kept, other_key);
}

TEST(StartupTest, DatabaseFromANewerIntaked) {
  TempDir dir;
  {
    auto server = IntakedProcess::Start({}, dir.File("var"));
    ASSERT_NE(server, nullptr);
    ASSERT_EQ(server->Stop(SIGTERM).exit_code, 0);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("var/intake.db").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 4242", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ExpectOneLineFailure(RunIntaked(Args(dir.File("var"))), "schema version 4242");
}

TEST(StartupTest, UnreadableAdminTokenFile) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("var/admin.token"));
  ExpectOneLineFailure(RunIntaked(Args(dir.File("var"))), "admin.token");
}

TEST(StartupTest, EmptyAdminTokenFile) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("var"));
  std::ofstream(dir.File("var/admin.token")) << "\n";
  ExpectOneLineFailure(RunIntaked(Args(dir.File("var"))), "admin.token is empty");
}

TEST(StartupTest, PublicPortInUse) {
  TempDir dir;
  BusyPort busy;
  ExpectOneLineFailure(RunIntaked({"--listen=" + busy.address(), "--admin_listen=127.0.0.1:0",
                                   "--data_dir=" + dir.File("var")}),
                       "cannot listen on " + busy.address() + " (--listen)");
}

TEST(StartupTest, AdminPortInUse) {
  TempDir dir;
  BusyPort busy;
  ExpectOneLineFailure(RunIntaked({"--listen=127.0.0.1:0", "--admin_listen=" + busy.address(),
                                   "--data_dir=" + dir.File("var")}),
                       "(--admin_listen)");
}

TEST(StartupTest, MalformedListenAddress) {
  TempDir dir;
  ExpectOneLineFailure(RunIntaked({"--listen=not an address", "--admin_listen=127.0.0.1:0",
                                   "--data_dir=" + dir.File("var")}),
                       "cannot listen on not an address");
}

TEST(FlagsTest, EnvironmentSetsFlagsAndTheCommandLineWins) {
  TempDir dir;
  // The data dir comes from the environment (and is refused, proving it was read)...
  std::ofstream(dir.File("file")) << "x";
  ExitResult from_env = RunIntaked({"--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0"},
                                   {"INTAKE_DATA_DIR=" + dir.File("file")});
  EXPECT_EQ(from_env.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(from_env.stderr_text, dir.File("file"))) << from_env.stderr_text;
  // ...unless the command line says otherwise.
  ExitResult overridden = RunIntaked(
      {"--listen=not an address", "--admin_listen=127.0.0.1:0", "--data_dir=" + dir.File("var")},
      {"INTAKE_DATA_DIR=" + dir.File("file")});
  EXPECT_TRUE(absl::StrContains(overridden.stderr_text, "cannot listen")) << overridden.stderr_text;
}

TEST(FlagsTest, BadEnvironmentValueIsAUsageError) {
  ExitResult result = RunIntaked({}, {"INTAKE_SHUTDOWN_GRACE=soon"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(result.stderr_text, "INTAKE_SHUTDOWN_GRACE")) << result.stderr_text;
}

TEST(FlagsTest, HelpExplainsEveryFlagAndItsEnvironmentVariable) {
  ExitResult result = RunIntaked({"--help"});
  const std::string help = result.stdout_text + result.stderr_text;
  for (const char* flag :
       {"--listen", "--admin_listen", "--data_dir", "--ports_file", "--shutdown_grace"}) {
    EXPECT_TRUE(absl::StrContains(help, flag)) << flag;
  }
  for (const char* env : {"INTAKE_LISTEN", "INTAKE_ADMIN_LISTEN", "INTAKE_DATA_DIR",
                          "INTAKE_PORTS_FILE", "INTAKE_SHUTDOWN_GRACE"}) {
    EXPECT_TRUE(absl::StrContains(help, env)) << env;
  }
}

}  // namespace
}  // namespace intake::testing
