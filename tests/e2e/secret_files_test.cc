// The admin token and data key from files named by flags (a mounted Kubernetes Secret, a
// systemd credential) instead of the data directory: used as they are, never made.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.grpc.pb.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"

namespace intake::testing {
namespace {

constexpr char kAdminToken[] = "mounted-admin-token-0123456789abcdef";

TEST(SecretFilesTest, MountedAdminTokenAndDataKeyAreUsedAndNothingIsMadeInTheDataDir) {
  TempDir secrets;
  std::ofstream(secrets.File("admin.token")) << kAdminToken << "\n";
  std::ofstream(secrets.File("data.key")) << std::string(64, 'b') << "\n";
  TempDir data;
  std::unique_ptr<IntakedProcess> server =
      IntakedProcess::Start({"--admin_token_file=" + secrets.File("admin.token"),
                             "--data_key_file=" + secrets.File("data.key")},
                            data.path());
  ASSERT_NE(server, nullptr);
  std::unique_ptr<v1::AdminService::Stub> admin = v1::AdminService::NewStub(server->AdminChannel());
  v1::GetStatsResponse stats;
  const grpc::Status status =
      admin->GetStats(Context(kAdminToken).get(), v1::GetStatsRequest(), &stats);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(std::filesystem::exists(data.File("admin.token")));
  EXPECT_FALSE(std::filesystem::exists(data.File("data.key")));
  ASSERT_EQ(server->Stop(SIGTERM).exit_code, 0);

  // The database now belongs to that key: another one named by the flag is refused.
  std::ofstream(secrets.File("other.key")) << std::string(64, 'c') << "\n";
  const ExitResult refused =
      RunIntaked({"--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0", "--data_dir=" + data.path(),
                  "--admin_token_file=" + secrets.File("admin.token"),
                  "--data_key_file=" + secrets.File("other.key")});
  EXPECT_EQ(refused.exit_code, 1) << refused.stderr_text;
  EXPECT_TRUE(absl::StrContains(refused.stderr_text, "is sealed with data key"))
      << refused.stderr_text;
}

TEST(SecretFilesTest, AMissingFileNamedByAFlagIsAStartUpErrorNeverMade) {
  TempDir secrets;
  TempDir data;
  for (const std::string flag : {"--admin_token_file=", "--data_key_file="}) {
    const ExitResult result =
        RunIntaked({"--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0",
                    "--data_dir=" + data.path(), flag + secrets.File("missing")});
    EXPECT_EQ(result.exit_code, 1) << flag;
    EXPECT_TRUE(absl::StrContains(result.stderr_text, "does not exist")) << result.stderr_text;
    EXPECT_FALSE(std::filesystem::exists(secrets.File("missing"))) << flag;
  }
}

}  // namespace
}  // namespace intake::testing
