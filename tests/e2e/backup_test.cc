// Backups end to end: AdminService.BackupDatabase's stream as a client sees it, and
// `intakectl backup` during a steady submit load, restored into a fresh data directory with
// its data key (and refused without it).
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/intakectl/dispatch.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "tests/e2e/database.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"

namespace intake::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

v1::SubmitCallbackRequest Submission(const std::string& phone) {
  v1::SubmitCallbackRequest r;
  r.mutable_caller()->set_name("Jordan Example");
  r.mutable_caller()->set_phone(phone);
  r.mutable_caller()->set_region("FL");
  r.mutable_consent()->set_granted(true);
  r.mutable_consent()->set_text("I agree to be called back.");
  return r;
}

// A unique valid NANP number for each n < 10000.
std::string Phone(int n) { return absl::StrCat("+1212736", 10000 + n).erase(8, 1); }

// Every lead's phone number, through AdminService.ListLeads (so the sealed data must open).
std::set<std::string> LeadPhones(IntakedProcess& server) {
  std::unique_ptr<v1::AdminService::Stub> admin = v1::AdminService::NewStub(server.AdminChannel());
  std::set<std::string> phones;
  v1::AdminServiceListLeadsRequest request;
  request.set_page_size(1000);
  do {
    v1::AdminServiceListLeadsResponse page;
    const grpc::Status status =
        admin->ListLeads(Context(server.AdminToken()).get(), request, &page);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) break;
    for (const v1::Lead& lead : page.leads()) phones.insert(lead.caller().phone());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return phones;
}

// Backs up with `intakectl backup` (the CLI's code, run in this process).
int IntakectlBackup(const IntakedProcess& server, const std::string& out) {
  return ctl::RunIntakectl({"backup", "--out=" + out, "--addr=" + server.admin_address(),
                            "--token_file=" + server.data_dir() + "/admin.token"});
}

TEST(BackupTest, StreamSendsInfoThenTheBytesThenTheirHash) {
  std::unique_ptr<IntakedProcess> server = IntakedProcess::Start();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<v1::IntakeService::Stub> intake =
      v1::IntakeService::NewStub(server->PublicChannel());
  v1::SubmitCallbackResponse submitted;
  ASSERT_TRUE(intake->SubmitCallback(Context().get(), Submission(Phone(1)), &submitted).ok());

  std::unique_ptr<v1::AdminService::Stub> admin = v1::AdminService::NewStub(server->AdminChannel());
  auto context = Context(server->AdminToken());
  auto reader = admin->BackupDatabase(context.get(), v1::BackupDatabaseRequest());
  std::vector<v1::BackupDatabaseResponse> messages;
  v1::BackupDatabaseResponse message;
  while (reader->Read(&message)) messages.push_back(message);
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_GE(messages.size(), 3u);
  const v1::BackupInfo& info = messages.front().info();
  EXPECT_TRUE(messages.front().chunk().empty());
  EXPECT_EQ(info.schema_version(),
            QueryInt(server->data_dir() + "/intake.db", "SELECT version FROM schema_version"));
  EXPECT_EQ(info.instance_id(),
            QueryText(server->data_dir() + "/intake.db", "SELECT instance_id FROM instance"));
  EXPECT_EQ(info.data_key_id(),
            QueryText(server->data_dir() + "/intake.db", "SELECT data_key_id FROM instance"));
  EXPECT_EQ(info.head_sequence(), 1u);
  EXPECT_GT(info.snapshot_time().seconds(), 0);
  std::string bytes;
  for (size_t i = 1; i + 1 < messages.size(); ++i) {
    EXPECT_FALSE(messages[i].has_info());
    EXPECT_TRUE(messages[i].sha256().empty());
    bytes += messages[i].chunk();
  }
  EXPECT_EQ(static_cast<int64_t>(bytes.size()), info.size_bytes());
  EXPECT_TRUE(absl::StartsWith(bytes, std::string("SQLite format 3\0", 16)));
  EXPECT_TRUE(messages.back().chunk().empty());
  ASSERT_EQ(messages.back().sha256().size(), 64u);

  // The same bytes through intakectl, whose file is kept only when their hash matches.
  TempDir out;
  ASSERT_EQ(IntakectlBackup(*server, out.File("copy.db")), 0);
  EXPECT_EQ(ReadFile(out.File("copy.db")).size(), bytes.size());
  EXPECT_EQ(
      std::filesystem::status(out.File("copy.db")).permissions() & std::filesystem::perms::all,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_FALSE(std::filesystem::exists(out.File("copy.db.partial")));
}

TEST(BackupTest, OnlyTheAdminTokenMayBackUp) {
  std::unique_ptr<IntakedProcess> server = IntakedProcess::Start();
  ASSERT_NE(server, nullptr);
  std::unique_ptr<v1::AdminService::Stub> admin = v1::AdminService::NewStub(server->AdminChannel());
  for (const std::string& token : {std::string(), std::string("not-a-token")}) {
    auto context = Context(token);
    auto reader = admin->BackupDatabase(context.get(), v1::BackupDatabaseRequest());
    v1::BackupDatabaseResponse message;
    EXPECT_FALSE(reader->Read(&message));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // Not served on the public listener at all.
  std::unique_ptr<v1::AdminService::Stub> public_admin =
      v1::AdminService::NewStub(server->PublicChannel());
  auto context = Context(server->AdminToken());
  auto reader = public_admin->BackupDatabase(context.get(), v1::BackupDatabaseRequest());
  v1::BackupDatabaseResponse message;
  EXPECT_FALSE(reader->Read(&message));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

// The test: a backup made during a steady submit load, restored into a fresh data
// directory with its data key, holds every lead whose submission was answered OK before the
// backup began.
TEST(BackupTest, RestoredBackupHoldsEveryLeadAcknowledgedBeforeItBegan) {
  std::unique_ptr<IntakedProcess> server = IntakedProcess::Start();
  ASSERT_NE(server, nullptr);

  struct Ack {
    std::string phone;
    absl::Time time;
  };
  absl::Mutex mu;
  std::vector<Ack> acks;
  int next_phone = 0;
  bool stop = false;
  const auto submitter = [&] {
    std::unique_ptr<v1::IntakeService::Stub> intake =
        v1::IntakeService::NewStub(server->PublicChannel());
    // Bounded: at most 9000 submissions in all, or 60 s.
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (absl::Now() < give_up) {
      std::string phone;
      {
        absl::MutexLock lock(&mu);
        if (stop || next_phone >= 9000) return;
        phone = Phone(next_phone++);
      }
      v1::SubmitCallbackResponse response;
      const grpc::Status status =
          intake->SubmitCallback(Context().get(), Submission(phone), &response);
      const absl::Time now = absl::Now();
      ASSERT_TRUE(status.ok()) << status.error_message();
      absl::MutexLock lock(&mu);
      acks.push_back({phone, now});
    }
  };
  const auto acked = [&] {
    absl::MutexLock lock(&mu);
    return acks.size();
  };
  const auto wait_for_acks = [&](size_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (acked() < n && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
    ASSERT_GE(acked(), n);
  };

  std::vector<std::thread> load;
  load.reserve(4);
  for (int i = 0; i < 4; ++i) load.emplace_back(submitter);
  wait_for_acks(300);
  TempDir backups;
  const absl::Time began = absl::Now();
  const int backup_exit = IntakectlBackup(*server, backups.File("intake-backup.db"));
  const absl::Time ended = absl::Now();
  const size_t acked_at_end = acked();
  wait_for_acks(acked_at_end + 100);  // The load went on after the backup.
  {
    absl::MutexLock lock(&mu);
    stop = true;
  }
  for (std::thread& t : load) t.join();
  ASSERT_EQ(backup_exit, 0);

  std::set<std::string> before;
  std::set<std::string> all;
  size_t during = 0;
  for (const Ack& ack : acks) {
    all.insert(ack.phone);
    if (ack.time < began) before.insert(ack.phone);
    if (ack.time >= began && ack.time <= ended) ++during;
  }
  std::cout << "acknowledged before the backup: " << before.size() << ", while it ran: " << during
            << ", in all: " << all.size() << "\n";

  // Restore: a fresh data directory with the backup as intake.db and the server's data.key.
  TempDir restored;
  std::filesystem::copy_file(backups.File("intake-backup.db"), restored.File("intake.db"));
  std::filesystem::copy_file(server->data_dir() + "/data.key", restored.File("data.key"));
  EXPECT_EQ(QueryText(restored.File("intake.db"), "PRAGMA integrity_check"), "ok");
  std::unique_ptr<IntakedProcess> restarted = IntakedProcess::Start({}, restored.path());
  ASSERT_NE(restarted, nullptr);
  const std::set<std::string> phones = LeadPhones(*restarted);
  for (const std::string& phone : before) {
    EXPECT_TRUE(phones.count(phone)) << phone << " was acknowledged before the backup began";
  }
  for (const std::string& phone : phones) {
    EXPECT_TRUE(all.count(phone)) << phone << " was never submitted";
  }
  EXPECT_LT(phones.size(), all.size()) << "leads acknowledged after the backup are not in it";
}

// Without its data key a restored database is refused at start, with a message saying what
// to do; with another key too. Never does intaked make a new key for an existing database.
TEST(BackupTest, RestoreWithoutItsDataKeyIsRefused) {
  std::unique_ptr<IntakedProcess> server = IntakedProcess::Start();
  ASSERT_NE(server, nullptr);
  TempDir backups;
  ASSERT_EQ(IntakectlBackup(*server, backups.File("b.db")), 0);
  const std::vector<std::string> args = {"--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0"};

  TempDir no_key;
  std::filesystem::copy_file(backups.File("b.db"), no_key.File("intake.db"));
  std::vector<std::string> no_key_args = args;
  no_key_args.push_back("--data_dir=" + no_key.path());
  ExitResult refused = RunIntaked(no_key_args);
  EXPECT_EQ(refused.exit_code, 1) << refused.stderr_text;
  EXPECT_TRUE(absl::StrContains(refused.stderr_text, "data.key is missing")) << refused.stderr_text;
  EXPECT_FALSE(std::filesystem::exists(no_key.File("data.key"))) << "no new key was made";

  TempDir other_key;
  std::filesystem::copy_file(backups.File("b.db"), other_key.File("intake.db"));
  std::ofstream(other_key.File("data.key")) << std::string(64, 'a') << "\n";
  std::vector<std::string> other_key_args = args;
  other_key_args.push_back("--data_dir=" + other_key.path());
  refused = RunIntaked(other_key_args);
  EXPECT_EQ(refused.exit_code, 1) << refused.stderr_text;
  EXPECT_TRUE(absl::StrContains(refused.stderr_text, "is sealed with data key"))
      << refused.stderr_text;
}

}  // namespace
}  // namespace intake::testing
