// A fresh directory under the test's TMPDIR, removed with everything in it on destruction.
#ifndef INTAKE_TESTS_TESTING_TEMP_DIR_H_
#define INTAKE_TESTS_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace intake::testing {

class TempDir {
 public:
  TempDir() : TempDir(std::filesystem::temp_directory_path().string()) {}
  // Under `base` instead, e.g. /dev/shm for a data directory whose fsyncs must cost nothing.
  explicit TempDir(const std::string& base) {
    std::string pattern = (std::filesystem::path(base) / "intake-test-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace intake::testing

#endif  // INTAKE_TESTS_TESTING_TEMP_DIR_H_
