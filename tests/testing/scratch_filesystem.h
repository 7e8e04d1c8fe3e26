// A small filesystem of the test's own, mounted on a fresh directory, for fault tests that need
// a disk to fill up or to turn read-only under a running server. Needs root (mount); where
// mounting is not allowed, Create returns nullptr and says why, and the test skips.
#ifndef INTAKE_TESTS_TESTING_SCRATCH_FILESYSTEM_H_
#define INTAKE_TESTS_TESTING_SCRATCH_FILESYSTEM_H_

#include <cstdint>
#include <memory>
#include <string>

namespace intake::testing {

class ScratchFilesystem {
 public:
  enum class Kind {
    // tmpfs of the given size: fills up like a disk (ENOSPC).
    kTmpfs,
    // ext4 in a file on a loop device, mounted with errors=remount-ro: TriggerError() makes
    // the kernel remount it read-only at once, open files included, as it does when a real
    // disk reports an error.
    kExt4,
  };

  // Mounts a new filesystem of `kind` and `bytes`; nullptr with *why_not if this machine does
  // not let the test mount one.
  static std::unique_ptr<ScratchFilesystem> Create(Kind kind, uint64_t bytes, std::string* why_not);
  // Unmounts (lazily, should a process still hold files there) and removes everything.
  ~ScratchFilesystem();
  ScratchFilesystem(const ScratchFilesystem&) = delete;
  ScratchFilesystem& operator=(const ScratchFilesystem&) = delete;

  // Where it is mounted.
  const std::string& path() const { return mount_point_; }

  // kExt4 only: reports a filesystem error, so the kernel remounts it read-only. True once
  // the mount is read-only.
  bool TriggerError();
  // kExt4 only: unmounts, checks (e2fsck) and mounts the filesystem again read-write, as an
  // operator would after the error; files written before it are there again. Every process
  // using it must have ended. True on success.
  bool Remount();

 private:
  ScratchFilesystem() = default;
  bool Mount(std::string* why_not);

  Kind kind_ = Kind::kTmpfs;
  uint64_t bytes_ = 0;
  std::string root_;         // Temporary directory holding the image and the mount point.
  std::string image_;        // kExt4: the filesystem image.
  std::string mount_point_;  // root_/mnt
  bool mounted_ = false;
};

}  // namespace intake::testing

#endif  // INTAKE_TESTS_TESTING_SCRATCH_FILESYSTEM_H_
