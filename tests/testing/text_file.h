// Reading a whole file in a test.
#ifndef INTAKE_TESTS_TESTING_TEXT_FILE_H_
#define INTAKE_TESTS_TESTING_TEXT_FILE_H_

#include <fstream>
#include <sstream>
#include <string>

namespace intake::testing {

// The contents of the file at `path` ("" if it cannot be read).
inline std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace intake::testing

#endif  // INTAKE_TESTS_TESTING_TEXT_FILE_H_
