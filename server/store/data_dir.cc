#include "server/store/data_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace intake::store {
namespace {

absl::Status SystemError(absl::string_view what, const std::string& path, int err) {
  return absl::FailedPreconditionError(
      absl::StrFormat("%s %s: %s", what, path, std::strerror(err)));
}

// Makes the directory entry for a new file durable.
void SyncDirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

absl::Status PrepareDataDir(const std::string& path) {
  if (path.empty()) return absl::FailedPreconditionError("the data directory path is empty");
  std::error_code ec;
  const std::filesystem::path dir(path);
  if (dir.has_parent_path() && !dir.parent_path().empty()) {
    std::filesystem::create_directories(dir.parent_path(), ec);
    if (ec) return SystemError("cannot create data directory", path, ec.value());
  }
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return SystemError("cannot create data directory", path, errno);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return SystemError("cannot use data directory", path, errno);
  if (!S_ISDIR(st.st_mode)) return SystemError("cannot use data directory", path, ENOTDIR);
  if (::access(path.c_str(), R_OK | W_OK | X_OK) != 0) {
    return SystemError("cannot use data directory", path, errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrFormat("%s does not exist", path));
    return SystemError("cannot read", path, errno);
  }
  if (!S_ISREG(st.st_mode)) return SystemError("cannot read", path, EISDIR);
  std::ifstream in(path, std::ios::binary);
  if (!in) return SystemError("cannot read", path, errno != 0 ? errno : EACCES);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return SystemError("cannot read", path, EIO);
  std::string secret(absl::StripAsciiWhitespace(contents.str()));
  if (secret.empty()) return absl::FailedPreconditionError(absl::StrFormat("%s is empty", path));
  return secret;
}

absl::StatusOr<std::string> ReadOrCreateSecretFile(const std::string& path,
                                                   absl::FunctionRef<std::string()> generate) {
  absl::StatusOr<std::string> existing = ReadSecretFile(path);
  if (!absl::IsNotFound(existing.status())) return existing;

  // Written in full to a private file first, then linked into place: link() fails if the
  // name exists, so a concurrent starter either wins whole or reads the winner's secret.
  const std::string tmp = absl::StrFormat("%s.%d.tmp", path, ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return SystemError("cannot create", path, errno);
  const std::string contents = generate() + "\n";
  bool ok = ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size());
  ok = ok && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (ok && ::link(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ok = err == EEXIST;  // Another process won the race; its secret stands.
  }
  ::unlink(tmp.c_str());
  if (!ok) return SystemError("cannot create", path, err);
  SyncDirectoryOf(path);
  return ReadSecretFile(path);
}

}  // namespace intake::store
