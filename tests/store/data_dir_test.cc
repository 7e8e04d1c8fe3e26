#include "server/store/data_dir.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace intake::store {
namespace {

using ::intake::testing::TempDir;

mode_t Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(PrepareDataDirTest, CreatesMissingDirectoryPrivately) {
  TempDir dir;
  const std::string path = dir.File("a/b/var");
  ASSERT_TRUE(PrepareDataDir(path).ok());
  EXPECT_TRUE(std::filesystem::is_directory(path));
  EXPECT_EQ(Mode(path), 0700u);
  EXPECT_TRUE(PrepareDataDir(path).ok()) << "an existing directory is fine";
}

TEST(PrepareDataDirTest, RegularFileInTheWayIsRefused) {
  TempDir dir;
  std::ofstream(dir.File("file")) << "x";
  absl::Status direct = PrepareDataDir(dir.File("file"));
  EXPECT_EQ(direct.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(direct.message().find(dir.File("file")), std::string::npos) << direct;
  EXPECT_EQ(PrepareDataDir(dir.File("file/var")).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(PrepareDataDir("").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SecretFileTest, CreatesOnceWithMode0600ThenReusesIt) {
  TempDir dir;
  const std::string path = dir.File("admin.token");
  int generated = 0;
  auto generate = [&] {
    ++generated;
    return std::string("secret-") + std::to_string(generated);
  };
  EXPECT_EQ(ReadOrCreateSecretFile(path, generate).value(), "secret-1");
  EXPECT_EQ(Mode(path), 0600u);
  EXPECT_EQ(ReadOrCreateSecretFile(path, generate).value(), "secret-1");
  EXPECT_EQ(generated, 1);
}

TEST(SecretFileTest, ReadsAnOperatorsFileTrimmed) {
  TempDir dir;
  std::ofstream(dir.File("t")) << "  operator-token\n\n";
  EXPECT_EQ(ReadSecretFile(dir.File("t")).value(), "operator-token");
}

TEST(SecretFileTest, MissingEmptyAndUnreadableFilesAreDistinguished) {
  TempDir dir;
  EXPECT_EQ(ReadSecretFile(dir.File("none")).status().code(), absl::StatusCode::kNotFound);
  std::ofstream(dir.File("empty")) << "\n";
  EXPECT_EQ(ReadSecretFile(dir.File("empty")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::filesystem::create_directory(dir.File("dir"));
  EXPECT_EQ(ReadSecretFile(dir.File("dir")).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      ReadOrCreateSecretFile(dir.File("dir"), [] { return std::string("x"); }).status().code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST(SecretFileTest, MessagesNeverContainTheSecret) {
  TempDir dir;
  std::ofstream(dir.File("t")) << "";
  absl::StatusOr<std::string> secret =
      ReadOrCreateSecretFile(dir.File("t"), [] { return std::string("never-shown"); });
  ASSERT_FALSE(secret.ok());
  EXPECT_EQ(secret.status().message().find("never-shown"), std::string::npos);
}

TEST(SecretFileTest, CreationFailureLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.File("missing-dir/admin.token");
  EXPECT_EQ(ReadOrCreateSecretFile(path, [] { return std::string("s"); }).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace intake::store
