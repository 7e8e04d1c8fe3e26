#include "tests/testing/scratch_filesystem.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace intake::testing {
namespace {

// Runs a shell command with its output discarded; true if it exited 0.
bool Run(const std::string& command) {
  return std::system(absl::StrCat(command, " >/dev/null 2>&1").c_str()) == 0;
}

// The first line `command` prints, without its newline.
std::string Output(const std::string& command) {
  std::string line;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[512];
    if (fgets(buffer, sizeof buffer, pipe) != nullptr) line = buffer;
    pclose(pipe);
  }
  return std::string(absl::StripSuffix(line, "\n"));
}

}  // namespace

std::unique_ptr<ScratchFilesystem> ScratchFilesystem::Create(Kind kind, uint64_t bytes,
                                                             std::string* why_not) {
  if (geteuid() != 0) {
    *why_not = "mounting a scratch filesystem needs root";
    return nullptr;
  }
  std::unique_ptr<ScratchFilesystem> fs(new ScratchFilesystem());
  fs->kind_ = kind;
  fs->bytes_ = bytes;
  std::string pattern = std::filesystem::temp_directory_path() / "intake-fs-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    *why_not = "mkdtemp failed";
    return nullptr;
  }
  fs->root_ = pattern;
  fs->mount_point_ = fs->root_ + "/mnt";
  std::filesystem::create_directory(fs->mount_point_);
  if (kind == Kind::kExt4) {
    fs->image_ = fs->root_ + "/ext4.img";
    if (!Run(absl::StrCat("truncate -s ", bytes, " ", fs->image_, " && mkfs.ext4 -q -F ",
                          fs->image_))) {
      *why_not = "cannot make an ext4 image (mkfs.ext4 from e2fsprogs)";
      return nullptr;
    }
  }
  if (!fs->Mount(why_not)) return nullptr;
  return fs;
}

bool ScratchFilesystem::Mount(std::string* why_not) {
  const std::string command =
      kind_ == Kind::kTmpfs
          ? absl::StrCat("mount -t tmpfs -o size=", bytes_, ",mode=0755 tmpfs ", mount_point_)
          : absl::StrCat("mount -o loop,errors=remount-ro ", image_, " ", mount_point_);
  mounted_ = Run(command);
  if (!mounted_) *why_not = absl::StrCat("this machine refused `", command, "`");
  return mounted_;
}

ScratchFilesystem::~ScratchFilesystem() {
  if (mounted_) Run(absl::StrCat("umount -l ", mount_point_));
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

bool ScratchFilesystem::TriggerError() {
  if (kind_ != Kind::kExt4) return false;
  const std::string device = Output(absl::StrCat("findmnt -n -o SOURCE ", mount_point_));
  const std::string trigger = absl::StrCat(
      "/sys/fs/ext4/", std::filesystem::path(device).filename().string(), "/trigger_fs_error");
  {
    std::ofstream out(trigger);
    out << "intake fault test\n";
    if (!out.flush()) return false;
  }
  // Read-only now means a new file cannot be made, root or not.
  const std::string probe = mount_point_ + "/.probe";
  const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    close(fd);
    unlink(probe.c_str());
    return false;
  }
  return errno == EROFS;
}

bool ScratchFilesystem::Remount() {
  if (kind_ != Kind::kExt4 || !mounted_) return false;
  if (!Run(absl::StrCat("umount ", mount_point_))) return false;
  mounted_ = false;
  Run(absl::StrCat("e2fsck -fy ", image_));  // Exits 1 when it fixed something.
  std::string why_not;
  return Mount(&why_not);
}

}  // namespace intake::testing
