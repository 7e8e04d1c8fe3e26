// The README's walkthrough and buf curl recipes, run verbatim against a real intaked, so the
// README cannot drift from the code. A section's ```sh blocks run in order in one bash script
// from a scratch directory that holds the server's ./var and build/bin/intakectl; a block after
// `<!-- readme-test: server -->` is the server (the test starts its own on port 0), and a
// block after `<!-- readme-test: background -->` runs in the background (another terminal).
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/shell_blocks.h"
#include "tests/testing/text_file.h"

namespace intake::testing {
namespace {

std::vector<ShellBlock> ReadmeSection(absl::string_view heading) {
  return SectionShellBlocks(ReadTextFile(std::string(INTAKE_SOURCE_DIR) + "/README.md"), heading);
}

// A scratch directory laid out as a reader's checkout: the server's data in ./var and
// build/bin/intakectl, with a real intaked on port 0 serving ./var.
class Checkout {
 public:
  Checkout() {
    server_ = IntakedProcess::Start({}, dir_.File("var"));
    std::filesystem::create_directories(dir_.File("build/bin"));
    std::filesystem::create_symlink(INTAKECTL_PATH, dir_.File("build/bin/intakectl"));
  }

  bool ok() const { return server_ != nullptr; }
  std::string File(const std::string& name) const { return dir_.File(name); }

  // Runs `blocks` in order as one bash script in the checkout, as a person would type them,
  // each background block (another terminal) in its own process group as $BACKGROUND<n> with
  // its output in background<n>.out, then `epilogue`. intakectl finds intaked through
  // INTAKE_ADDR and INTAKE_PUBLIC_ADDR. Returns the script's exit status.
  int Run(const std::vector<ShellBlock>& blocks, const std::string& epilogue) {
    script_ = "set -euo pipefail\nset -m\n";
    int background = 0;
    for (const ShellBlock& block : blocks) {
      if (block.marker == "background") {
        absl::StrAppend(&script_, "(\n", block.script, ") >background", background,
                        ".out 2>&1 &\nBACKGROUND", background, "=$!\n");
        ++background;
      } else {
        EXPECT_EQ(block.marker, "") << "unknown marker";
        absl::StrAppend(&script_, block.script);
      }
    }
    absl::StrAppend(&script_, epilogue);
    {
      std::ofstream out(dir_.File("readme.sh"));
      out << script_;
    }
    const std::string command =
        absl::StrCat("cd '", dir_.path(), "' && INTAKE_ADDR=", server_->admin_address(),
                     " INTAKE_PUBLIC_ADDR=", server_->listen_address(),
                     " timeout 60 bash readme.sh >readme.out 2>&1");
    return std::system(command.c_str());
  }

  // The script and what it printed, for failure messages.
  std::string Transcript() const {
    return absl::StrCat(script_, "\n--- output ---\n", ReadTextFile(dir_.File("readme.out")));
  }

 private:
  TempDir dir_;
  std::unique_ptr<IntakedProcess> server_;
  std::string script_;
};

bool Succeeded(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

TEST(ReadmeTest, TheWalkthroughWorksVerbatim) {
  std::vector<ShellBlock> blocks = ReadmeSection("## Walkthrough");
  ASSERT_GE(blocks.size(), 4u) << "the README lost its walkthrough";
  ASSERT_EQ(blocks[0].marker, "server");
  EXPECT_EQ(blocks[0].script, "make run\n");
  blocks.erase(blocks.begin());  // The test's own intaked is the server.

  Checkout checkout;
  ASSERT_TRUE(checkout.ok());
  // Terminals 2 and 3; the tail in terminal 3 ends by itself after the first lead.
  ASSERT_TRUE(Succeeded(checkout.Run(blocks, "wait $BACKGROUND0\n"))) << "the walkthrough failed:\n"
                                                                      << checkout.Transcript();

  // Terminal 3 saw the lead arrive, and the figures show the recorded response.
  const std::string output = ReadTextFile(checkout.File("readme.out"));
  const std::string tail = ReadTextFile(checkout.File("background0.out"));
  EXPECT_TRUE(absl::StrContains(tail, "sunrise-miami")) << tail;
  EXPECT_TRUE(absl::StrContains(output, "sunrise")) << output;
  EXPECT_TRUE(absl::StrContains(output, "100%")) << "response rate after the call:\n" << output;
}

// The privacy requests, continuing from the walkthrough: the caller's disclosures show the
// dashboard token that received the lead, the quarantine (empty), then the opt-out, the
// erasure and a purge.
TEST(ReadmeTest, ThePrivacyRequestsWorkVerbatim) {
  std::vector<ShellBlock> blocks = ReadmeSection("## Walkthrough");
  ASSERT_GE(blocks.size(), 4u) << "the README lost its walkthrough";
  blocks.erase(blocks.begin());  // The test's own intaked is the server.
  const std::vector<ShellBlock> privacy = ReadmeSection("## Privacy requests");
  ASSERT_EQ(privacy.size(), 1u) << "the README lost its privacy requests";
  // The walkthrough's tail has shown the lead (so its stream disclosed it) before they run.
  blocks.push_back({"", "wait $BACKGROUND0\n"});
  blocks.insert(blocks.end(), privacy.begin(), privacy.end());

  Checkout checkout;
  ASSERT_TRUE(checkout.ok());
  ASSERT_TRUE(Succeeded(checkout.Run(blocks, ""))) << "the privacy requests failed:\n"
                                                   << checkout.Transcript();
  const std::string output = ReadTextFile(checkout.File("readme.out"));
  for (const char* expected : {"sunrise-miami  ", " sunrise ", " tok-", "SUBMISSION",
                               "opted out 1 lead(s)", "erased 1 lead(s)", "purged 0 lead(s)"}) {
    EXPECT_TRUE(absl::StrContains(output, expected)) << expected << " in:\n" << output;
  }
}

// buf curl through server reflection: services and methods listed, health checked, an
// AdminService call made from JSON, and WatchLeads followed until a lead arrives.
TEST(ReadmeTest, TheBufCurlRecipesWorkVerbatim) {
  const std::vector<ShellBlock> blocks = ReadmeSection("## Calling intaked with buf curl");
  ASSERT_GE(blocks.size(), 5u) << "the README lost its buf curl recipes";
  ASSERT_EQ(blocks.back().marker, "background") << "the last recipe follows WatchLeads";

  Checkout checkout;
  ASSERT_TRUE(checkout.ok());
  // The test's part: the pinned buf on PATH whatever INTAKE_TOOLS_DIR is; a lead for the
  // provider the recipes created, which the stream in the background must show; then stop it.
  const std::string epilogue = absl::StrCat(
      "build/bin/intakectl submit --phone='(305) 736-5000' --region=FL --consent_text='I agree.'\n",
      "timeout 30 bash -c 'until grep -q LEAD_EVENT_TYPE_ASSIGNED background0.out; do ",
      "sleep 0.1; done'\n", "kill -- -$BACKGROUND0\n");
  std::vector<ShellBlock> with_buf = blocks;
  with_buf.insert(
      with_buf.begin(),
      {"", absl::StrCat("export PATH=\"", std::filesystem::path(BUF_PATH).parent_path().string(),
                        ":$PATH\"\n")});
  ASSERT_TRUE(Succeeded(checkout.Run(with_buf, epilogue))) << "the recipes failed:\n"
                                                           << checkout.Transcript();

  const std::string output = ReadTextFile(checkout.File("readme.out"));
  for (const char* expected :
       {"intake.v1.AdminService\n", "grpc.health.v1.Health\n", "grpc.health.v1.Health/Check\n",
        "intake.v1.ProviderService/SubscribeLeads\n", R"("status": "SERVING")",
        R"("providerId": "harbor")"}) {
    EXPECT_TRUE(absl::StrContains(output, expected)) << expected << " in:\n" << output;
  }
  const std::string stream = ReadTextFile(checkout.File("background0.out"));
  EXPECT_TRUE(absl::StrContains(stream, R"("providerId": "harbor")")) << stream;
}

}  // namespace
}  // namespace intake::testing
