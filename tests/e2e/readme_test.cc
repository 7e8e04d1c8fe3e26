// The README's walkthrough, run verbatim against a real intaked, so the README cannot drift
// from the code. The walkthrough's ```sh blocks run in order in one bash script from a
// scratch directory that holds the server's ./var and build/bin/intakectl; a block after
// `<!-- readme-test: server -->` is the server (the test starts its own on port 0), and a
// block after `<!-- readme-test: background -->` runs in the background (another terminal).
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/e2e/intaked_process.h"

namespace intake::testing {
namespace {

struct Block {
  std::string marker;  // "", "server" or "background".
  std::string script;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The ```sh blocks of the "## Walkthrough" section, with the marker before each.
std::vector<Block> WalkthroughBlocks(const std::string& readme) {
  std::vector<Block> blocks;
  bool in_section = false, in_block = false;
  std::string marker;
  for (absl::string_view line : absl::StrSplit(readme, '\n')) {
    if (absl::StartsWith(line, "## ")) in_section = line == "## Walkthrough";
    if (!in_section) continue;
    if (in_block) {
      if (line == "```") {
        in_block = false;
      } else {
        absl::StrAppend(&blocks.back().script, line, "\n");
      }
    } else if (line == "```sh") {
      in_block = true;
      blocks.push_back({marker, ""});
      marker.clear();
    } else if (absl::ConsumePrefix(&line, "<!-- readme-test: ")) {
      marker = std::string(absl::StripSuffix(line, " -->"));
    }
  }
  return blocks;
}

TEST(ReadmeTest, TheWalkthroughWorksVerbatim) {
  const std::vector<Block> blocks =
      WalkthroughBlocks(ReadFile(std::string(INTAKE_SOURCE_DIR) + "/README.md"));
  ASSERT_GE(blocks.size(), 4u) << "the README lost its walkthrough";
  ASSERT_EQ(blocks[0].marker, "server");
  EXPECT_EQ(blocks[0].script, "make run\n");

  TempDir dir;
  auto server = IntakedProcess::Start({}, dir.File("var"));
  ASSERT_NE(server, nullptr);
  std::filesystem::create_directories(dir.File("build/bin"));
  std::filesystem::create_symlink(INTAKECTL_PATH, dir.File("build/bin/intakectl"));

  // One script, as a person would type it in terminals 2 and 3.
  std::string script = "set -euo pipefail\n";
  int background = 0;
  for (size_t i = 1; i < blocks.size(); ++i) {
    if (blocks[i].marker == "background") {
      absl::StrAppend(&script, "(\n", blocks[i].script, ") >background", background,
                      ".out 2>&1 &\nBACKGROUND", background, "=$!\n");
      ++background;
    } else {
      ASSERT_EQ(blocks[i].marker, "") << "unknown marker";
      absl::StrAppend(&script, blocks[i].script);
    }
  }
  for (int b = 0; b < background; ++b) absl::StrAppend(&script, "wait $BACKGROUND", b, "\n");
  {
    std::ofstream out(dir.File("walkthrough.sh"));
    out << script;
  }
  const std::string command =
      absl::StrCat("cd '", dir.path(), "' && INTAKE_ADDR=", server->admin_address(),
                   " INTAKE_PUBLIC_ADDR=", server->listen_address(),
                   " timeout 60 bash walkthrough.sh >walkthrough.out 2>&1");
  const int status = std::system(command.c_str());
  const std::string output = ReadFile(dir.File("walkthrough.out"));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the walkthrough failed:\n"
                                                             << script << "\n--- output ---\n"
                                                             << output;

  // Terminal 3 saw the lead arrive, and the figures show the recorded response.
  const std::string tail = ReadFile(dir.File("background0.out"));
  EXPECT_TRUE(absl::StrContains(tail, "sunrise-miami")) << tail;
  EXPECT_TRUE(absl::StrContains(output, "sunrise")) << output;
  EXPECT_TRUE(absl::StrContains(output, "100%")) << "response rate after the call:\n" << output;
}

}  // namespace
}  // namespace intake::testing
