// intakectl end to end: the real binary, run as a person or a script would run it, against the
// real intaked. Each command's good path, its JSON output, and its exit codes on bad input, an
// unreachable server and a wrong token.
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/intakectl/command.h"
#include "client/intakectl/exit_codes.h"
#include "client/intakectl/hours.h"
#include "client/intakectl/output.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.pb.h"
#include "gtest/gtest.h"
#include "intake/v1/admin_service.pb.h"
#include "intake/v1/intake_service.grpc.pb.h"
#include "intake/v1/intake_service.pb.h"
#include "intake/v1/provider_service.pb.h"
#include "tests/e2e/intaked_process.h"
#include "tests/e2e/rpc_helpers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_pki.h"

extern char** environ;

namespace intake::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kPollInterval = absl::Milliseconds(10);
// A valid NANP number outside the fictional 555-01XX range, and its E.164 form.
constexpr char kPhone[] = "(305) 412-0142";
constexpr char kPhoneE164[] = "+13054120142";
constexpr char kMaskedPhone[] = "+1 ••• ••• 0142";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

template <typename Message>
bool ParsesAs(const std::string& json, Message* message) {
  return google::protobuf::util::JsonStringToMessage(json, message).ok();
}

struct CtlOptions {
  // Added to the environment, which otherwise is this process's minus every INTAKE_* variable.
  std::vector<std::string> env;
  // The working directory; a fresh empty one if empty, so ./var/admin.token is never found by
  // accident.
  std::string cwd;
};

struct CtlResult {
  std::optional<int> exit_code;  // nullopt: did not end in time (then killed)
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const CtlResult& r) {
  return os << "exit " << (r.exit_code ? std::to_string(*r.exit_code) : "none") << "\nstdout:\n"
            << r.out << "\nstderr:\n"
            << r.err;
}

// One intakectl process, its stdout and stderr going to files.
class Ctl {
 public:
  Ctl(std::vector<std::string> args, const CtlOptions& options) {
    const std::string binary = INTAKECTL_PATH;
    std::vector<std::string> argv_copies = {binary};
    argv_copies.insert(argv_copies.end(), args.begin(), args.end());
    std::vector<char*> argv;
    argv.reserve(argv_copies.size() + 1);
    for (std::string& a : argv_copies) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_copies;
    for (char** e = environ; *e != nullptr; ++e) {
      if (!absl::StartsWith(*e, "INTAKE_")) env_copies.emplace_back(*e);
    }
    env_copies.insert(env_copies.end(), options.env.begin(), options.env.end());
    std::vector<char*> envp;
    envp.reserve(env_copies.size() + 1);
    for (std::string& e : env_copies) envp.push_back(e.data());
    envp.push_back(nullptr);

    const std::string cwd = options.cwd.empty() ? scratch_.File("cwd") : options.cwd;
    std::filesystem::create_directories(cwd);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    posix_spawn_file_actions_addopen(&actions, 1, Stdout().c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addopen(&actions, 2, Stderr().c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    const int err = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) {
      ADD_FAILURE() << "cannot start " << binary << ": " << strerror(err);
      pid_ = -1;
    }
  }

  ~Ctl() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Ctl(const Ctl&) = delete;
  Ctl& operator=(const Ctl&) = delete;

  void Signal(int signal) const { kill(pid_, signal); }

  // Waits until stdout holds `lines` lines; false if it does not within `timeout`.
  bool WaitForLines(size_t lines, absl::Duration timeout = absl::Seconds(20)) const {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      const std::string out = ReadFile(Stdout());
      if (static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) >= lines) return true;
      absl::SleepFor(kPollInterval);
    }
    return false;
  }

  // Waits for the process to end (killing it after `timeout`).
  CtlResult Wait(absl::Duration timeout = absl::Seconds(30)) {
    CtlResult result;
    const absl::Time deadline = absl::Now() + timeout;
    while (pid_ > 0) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
        pid_ = -1;
      } else if (r < 0 || absl::Now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
      } else {
        absl::SleepFor(kPollInterval);
      }
    }
    result.out = ReadFile(Stdout());
    result.err = ReadFile(Stderr());
    return result;
  }

 private:
  std::string Stdout() const { return scratch_.File("stdout"); }
  std::string Stderr() const { return scratch_.File("stderr"); }

  TempDir scratch_;
  pid_t pid_ = -1;
};

CtlResult RunCtl(std::vector<std::string> args, const CtlOptions& options = {}) {
  return Ctl(std::move(args), options).Wait();
}

// Nothing listens on port 1.
const std::vector<std::string> kUnreachable = {"--addr=127.0.0.1:1", "--timeout=2s"};

// Every command that calls AdminService with the admin token.
const std::vector<std::vector<std::string>> kAdminCommands = {
    {"providers", "create", "--id=acme", "--name=Acme"},
    {"providers", "get", "--id=acme"},
    {"providers", "list"},
    {"providers", "update", "--id=acme", "--daily_cap=3"},
    {"providers", "pause", "--id=acme"},
    {"providers", "resume", "--id=acme"},
    {"tokens", "issue", "--provider=acme"},
    {"tokens", "revoke", "--token_id=tok-1"},
    {"listings", "create", "--id=l1", "--provider=acme", "--name=L", "--region=FL"},
    {"listings", "list"},
    {"leads", "list"},
    {"leads", "get", "--lead=lead-1"},
    {"leads", "reassign", "--lead=lead-1", "--provider=acme"},
    {"leads", "tail"},
    {"stats"},
};

class IntakectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = IntakedProcess::Start();
    ASSERT_NE(server_, nullptr);
    token_file_ = server_->data_dir() + "/admin.token";
  }

  // intakectl on the admin listener with the admin token.
  CtlResult Admin(std::vector<std::string> args) {
    args.push_back("--addr=" + server_->admin_address());
    args.push_back("--token_file=" + token_file_);
    return RunCtl(std::move(args));
  }
  // intakectl on the public listener, with `token_file` if not empty.
  CtlResult Public(std::vector<std::string> args, const std::string& token_file = "") {
    args.push_back("--addr=" + server_->listen_address());
    if (!token_file.empty()) args.push_back("--token_file=" + token_file);
    return RunCtl(std::move(args));
  }

  void CreateProvider(const std::string& id) {
    const CtlResult r = Admin({"providers", "create", "--id=" + id, "--name=Provider " + id});
    ASSERT_EQ(r.exit_code, 0) << r;
  }
  void CreateListing(const std::string& id, const std::string& provider) {
    const CtlResult r = Admin({"listings", "create", "--id=" + id, "--provider=" + provider,
                               "--name=Center " + id, "--region=FL"});
    ASSERT_EQ(r.exit_code, 0) << r;
  }
  // A provider token written to a file in the scratch directory.
  std::string IssueTokenFile(const std::string& provider) {
    std::string path = scratch_.File(provider + ".token");
    const CtlResult r = Admin({"tokens", "issue", "--provider=" + provider, "--out_file=" + path});
    EXPECT_EQ(r.exit_code, 0) << r;
    return path;
  }
  CtlResult Submit(const std::string& phone, const std::string& listing = "") {
    std::vector<std::string> args = {"submit", "--phone=" + phone, "--name=Jordan Example",
                                     "--region=FL", "--consent_text=I agree to a call back."};
    if (!listing.empty()) args.push_back("--listing=" + listing);
    return Public(args);
  }
  // The first lead of `provider`, by id.
  std::string FirstLeadOf(const std::string& provider) {
    const CtlResult r = Admin({"leads", "list", "--provider=" + provider, "--output=json"});
    v1::AdminServiceListLeadsResponse leads;
    EXPECT_TRUE(ParsesAs(r.out, &leads)) << r;
    return leads.leads().empty() ? "" : leads.leads(0).lead_id();
  }

  TempDir scratch_;
  std::unique_ptr<IntakedProcess> server_;
  std::string token_file_;
};

// ---- Help and usage ----

TEST(IntakectlHelpTest, MainHelpListsCommandsFlagsAndExitCodes) {
  const CtlResult r = RunCtl({"--help"});
  ASSERT_EQ(r.exit_code, 0) << r;
  for (const char* text : {"providers create", "tokens issue", "listings list", "leads tail",
                           "leads contact", "submit", "optout", "purge", "health",
                           "--addr=", "--token_file=", "--output=", "Exit codes:", "6  invalid"}) {
    EXPECT_THAT(r.out, HasSubstr(text));
  }
}

TEST(IntakectlHelpTest, EveryCommandHasHelpWithAnExample) {
  for (const char* command : {"providers create",
                              "providers get",
                              "providers list",
                              "providers update",
                              "providers pause",
                              "providers resume",
                              "tokens issue",
                              "tokens revoke",
                              "listings create",
                              "listings list",
                              "leads list",
                              "leads get",
                              "leads reassign",
                              "leads tail",
                              "leads ack",
                              "leads contact",
                              "submit",
                              "stats",
                              "health",
                              "disclosures",
                              "optout",
                              "erase",
                              "purge"}) {
    std::vector<std::string> args = absl::StrSplit(command, ' ');
    args.push_back("--help");
    const CtlResult r = RunCtl(args);
    EXPECT_EQ(r.exit_code, 0) << command << "\n" << r;
    EXPECT_THAT(r.out, HasSubstr("Example:\n  intakectl " + std::string(command))) << r;
  }
}

// The commands `intakectl --help` lists: "providers create", ..., "submit", ...
std::vector<std::string> ListedCommands() {
  const CtlResult r = RunCtl({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r;
  std::vector<std::string> commands;
  bool listing = false;
  for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
    if (!listing) {
      listing = line == "Commands:";
      continue;
    }
    if (line.empty()) break;
    // "  providers create        Create a provider."; a summary's continuation is indented more.
    if (absl::ConsumePrefix(&line, "  ") && !absl::StartsWith(line, " ")) {
      commands.emplace_back(line.substr(0, line.find("  ")));
    }
  }
  return commands;
}

// The example line of `command`'s help ("" if it has none).
std::string ExampleOf(const std::string& command) {
  std::vector<std::string> args = absl::StrSplit(command, ' ');
  args.push_back("--help");
  const CtlResult r = RunCtl(args);
  constexpr char kHeading[] = "Example:\n  ";
  const size_t heading = r.out.find(kHeading);
  if (heading == std::string::npos) return "";
  const size_t start = heading + sizeof kHeading - 1;
  return r.out.substr(start, r.out.find('\n', start) - start);
}

// The words a POSIX shell makes of `line`, for the plain command lines help examples are:
// words separated by spaces, with double-quoted parts. nullopt for anything else a shell would
// treat specially (other quoting, escapes, expansions, operators, globs): the test refuses an
// example it cannot split exactly as a shell would.
std::optional<std::vector<std::string>> ShellWords(absl::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  bool quoted = false;
  for (const char c : line) {
    if (quoted) {
      if (c == '"') {
        quoted = false;
      } else if (c == '$' || c == '`' || c == '\\' || c == '!') {
        return std::nullopt;
      } else {
        word.push_back(c);
      }
    } else if (c == ' ') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (absl::StrContains("'\\$`;&|<>()*?[]{}#~!\t\n", c)) {
      return std::nullopt;
    } else {
      in_word = true;
      if (c == '"') {
        quoted = true;
      } else {
        word.push_back(c);
      }
    }
  }
  if (quoted) return std::nullopt;
  if (in_word) words.push_back(std::move(word));
  return words;
}

TEST(IntakectlHelpTest, ShellWordsSplitsAsAShellWould) {
  EXPECT_EQ(
      ShellWords(R"(intakectl submit --phone="(305) 736-5000" --name="Sam")"),
      (std::vector<std::string>{"intakectl", "submit", "--phone=(305) 736-5000", "--name=Sam"}));
  EXPECT_EQ(ShellWords("a  \"\"b"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ShellWords("a \"\""), (std::vector<std::string>{"a", ""}));
  for (const char* special :
       {"a 'b'", "a $B", "a \"$B\"", "a;b", "a | b", "a > f", "a*", "a \"b", "a\\ b", "~/a"}) {
    EXPECT_EQ(ShellWords(special), std::nullopt) << special;
  }
}

// Every command's help example, run as written against a real intaked from a directory holding
// the server's ./var, as a reader would run it: each succeeds. The order is one a reader could
// follow (a provider before its listing, a lead before its acknowledgement). Only what an
// example cannot know is filled in: the real ids in place of kExampleLeadId, kExampleTokenId
// and kExampleSubmissionId (of a bot's submission made for it), and the test server's addresses in
// place of the default ones (through INTAKE_ADDR and INTAKE_PUBLIC_ADDR, and where an example names
// one with --addr).
TEST(IntakectlHelpTest, EveryExampleRunsAsWritten) {
  const std::vector<std::string> order = {"providers create",
                                          "providers get",
                                          "providers list",
                                          "providers update",
                                          "listings create",
                                          "listings list",
                                          "tokens issue",
                                          "submit",
                                          "leads list",
                                          "leads get",
                                          "leads tail",
                                          "leads ack",
                                          "leads contact",
                                          "leads reassign",
                                          "providers pause",
                                          "providers resume",
                                          "stats",
                                          "health",
                                          "backup",
                                          "quarantine list",
                                          "quarantine release",
                                          "disclosures",
                                          "optout",
                                          "erase",
                                          "purge",
                                          "tokens revoke"};
  std::vector<std::string> listed = ListedCommands();
  std::vector<std::string> ordered = order;
  std::sort(listed.begin(), listed.end());
  std::sort(ordered.begin(), ordered.end());
  ASSERT_EQ(ordered, listed) << "each command help lists, once";

  TempDir checkout;
  std::unique_ptr<IntakedProcess> server = IntakedProcess::Start({}, checkout.File("var"));
  ASSERT_NE(server, nullptr);
  CtlOptions in_checkout;
  in_checkout.cwd = checkout.path();
  in_checkout.env = {"INTAKE_ADDR=" + server->admin_address(),
                     "INTAKE_PUBLIC_ADDR=" + server->listen_address()};
  std::string lead_id;
  std::string token_id;
  std::string submission_id;
  for (const std::string& command : order) {
    SCOPED_TRACE(command);
    std::string example = ExampleOf(command);
    ASSERT_TRUE(absl::StartsWith(example, "intakectl " + command + " ") ||
                example == "intakectl " + command)
        << example;
    const std::string as_written = example;
    if (absl::StrContains(example, ctl::kExampleLeadId)) {
      ASSERT_FALSE(lead_id.empty()) << "no lead yet";
      absl::StrReplaceAll({{ctl::kExampleLeadId, lead_id}}, &example);
    }
    if (absl::StrContains(example, ctl::kExampleTokenId)) {
      ASSERT_FALSE(token_id.empty()) << "no token yet";
      absl::StrReplaceAll({{ctl::kExampleTokenId, token_id}}, &example);
    }
    if (absl::StrContains(example, ctl::kExampleSubmissionId)) {
      ASSERT_FALSE(submission_id.empty()) << "no quarantined submission yet";
      absl::StrReplaceAll({{ctl::kExampleSubmissionId, submission_id}}, &example);
    }
    if (command == "quarantine list") {
      // Something for it to list (and for `quarantine release`): a bot's submission.
      v1::SubmitCallbackRequest bot = ValidRequest("(305) 736-5011");
      bot.set_honeypot("autofilled");
      v1::SubmitCallbackResponse submitted;
      ASSERT_TRUE(v1::IntakeService::NewStub(server->PublicChannel())
                      ->SubmitCallback(Context().get(), bot, &submitted)
                      .ok());
      const CtlResult held = RunCtl({"quarantine", "list", "--quiet"}, in_checkout);
      ASSERT_EQ(held.exit_code, 0) << held;
      submission_id = held.out.substr(0, held.out.find('\n'));
      ASSERT_TRUE(absl::StartsWith(submission_id, "sub-")) << held;
    }
    absl::StrReplaceAll({{"127.0.0.1:50051", server->listen_address()},
                         {"127.0.0.1:50052", server->admin_address()}},
                        &example);
    std::optional<std::vector<std::string>> words = ShellWords(example);
    ASSERT_TRUE(words.has_value()) << as_written;
    words->erase(words->begin());  // "intakectl": the binary under test.

    CtlResult r;
    if (command == "leads tail") {
      // It follows the stream until Ctrl-C: once it has shown the lead, interrupt it.
      Ctl tail(*words, in_checkout);
      EXPECT_TRUE(tail.WaitForLines(2)) << "the header and the lead's event";
      tail.Signal(SIGINT);
      r = tail.Wait();
      EXPECT_THAT(r.out, HasSubstr("ASSIGNED")) << as_written;
    } else {
      r = RunCtl(*words, in_checkout);
    }
    ASSERT_EQ(r.exit_code, 0) << as_written << "\n" << r;

    if (command == "disclosures") {
      // The example's caller is the submit example's, whose lead the tail, ack and contact
      // examples received with the provider's token.
      EXPECT_THAT(r.out, HasSubstr(lead_id)) << r;
      EXPECT_THAT(r.out, HasSubstr(token_id)) << r;
    }
    if (command == "submit") {
      const CtlResult leads = RunCtl({"leads", "list", "--quiet"}, in_checkout);
      ASSERT_EQ(leads.exit_code, 0) << leads;
      lead_id = leads.out.substr(0, leads.out.find('\n'));
      ASSERT_TRUE(absl::StartsWith(lead_id, "lead-")) << leads;
    } else if (command == "tokens issue") {
      const size_t at = r.out.find("tok-");
      ASSERT_NE(at, std::string::npos) << r;
      token_id = r.out.substr(at, r.out.find_first_of(" \n", at) - at);
    }
  }
  // What the examples did, seen from the server: the lead was acknowledged, contacted, and
  // then erased.
  const CtlResult lead =
      RunCtl({"leads", "get", "--lead=" + lead_id, "--output=json"}, in_checkout);
  ASSERT_EQ(lead.exit_code, 0) << lead;
  EXPECT_THAT(lead.out, HasSubstr("LEAD_STATE_ERASED")) << lead;
}

TEST(IntakectlHelpTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"frobnicate"},
           {"providers"},
           {"providers", "explode"},
           {"providers", "list", "--colour=red"},
           {"providers", "list", "extra"},
           {"providers", "get", "--id"},
           {"providers", "get", "--id=a", "--id=b"},
           {"providers", "list", "--output=xml"},
           {"providers", "list", "--timeout=-1s"},
           {"providers", "list", "--show-pii=maybe"},
           {"-x"},
       }) {
    const CtlResult r = RunCtl(args);
    EXPECT_EQ(r.exit_code, ctl::kExitUsage) << absl::StrJoin(args, " ") << "\n" << r;
    EXPECT_THAT(r.err, HasSubstr("intakectl")) << r;
    EXPECT_EQ(r.out, "") << r;
  }
}

// Input the CLI can tell is bad is refused before anything is sent: the exit code is 2 even
// with no server to send it to.
TEST(IntakectlHelpTest, BadLocalInputExitsTwoWithoutConnecting) {
  // A token, so that only the input can make these fail before connecting.
  TempDir scratch;
  WriteFile(scratch.File("token"), "some-token\n");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"providers", "create", "--id=Bad_Id", "--name=X"},
           {"providers", "create", "--id=acme"},
           {"providers", "create", "--id=acme", "--name=X", "--regions=FL,XX"},
           {"providers", "create", "--id=acme", "--name=X", "--regions=FL,FL"},
           {"providers", "create", "--id=acme", "--name=X", "--daily_cap=twenty"},
           {"providers", "create", "--id=acme", "--name=X", "--daily_cap=-1"},
           {"providers", "create", "--id=acme", "--name=X", "--hours=mon-fri@17:00-09:00"},
           {"providers", "create", "--id=acme", "--name=X", "--hours=someday@09:00-17:00"},
           {"providers", "create", "--id=acme", "--name=", "--regions=FL"},
           {"providers", "update", "--id=acme"},
           {"providers", "get"},
           {"tokens", "issue", "--provider=-acme"},
           {"tokens", "revoke"},
           {"listings", "create", "--id=l1", "--provider=acme", "--name=L", "--region=ZZ"},
           {"listings", "create", "--id=l1", "--provider=acme", "--name=L"},
           {"leads", "list", "--state=lost"},
           {"leads", "list", "--provider=acme", "--unassigned"},
           {"leads", "list", "--page_size=0"},
           {"leads", "get"},
           {"leads", "reassign", "--lead=lead-1"},
           {"leads", "contact", "--lead=lead-1", "--outcome=maybe"},
           {"leads", "contact", "--lead=lead-1"},
           {"leads", "tail", "--max_events=some"},
           {"submit", "--consent_text=ok"},
           {"submit", "--phone=2127365000"},
           {"submit", "--phone=2127365000", "--consent_text=ok", "--region=Florida"},
           {"submit", "--phone=2127365000", "--consent_text=ok", "--request_id=no spaces"},
           {"optout"},
           {"disclosures"},
           {"erase", "--phone=2127365000"},
           {"purge", "--older_than=30d"},
           {"purge", "--older_than=yesterday", "--yes"},
           // Ages too large for any timestamp (24 * n would overflow int64), never a purge.
           {"purge", "--older_than=999999999999999999d", "--yes"},
           {"purge", "--older_than=3000000d", "--yes"},
           {"purge", "--older_than=inf", "--yes"},
           {"purge", "--older_than=0d", "--yes"},
           {"purge", "--older_than=0000-12-31T00:00:00Z", "--yes"},
       }) {
    std::vector<std::string> full = args;
    full.insert(full.end(), kUnreachable.begin(), kUnreachable.end());
    full.push_back("--token_file=" + scratch.File("token"));
    const CtlResult r = RunCtl(full);
    EXPECT_EQ(r.exit_code, ctl::kExitUsage) << absl::StrJoin(args, " ") << "\n" << r;
    EXPECT_THAT(r.err, Not(HasSubstr("UNAVAILABLE"))) << r;
  }
}

TEST(IntakectlHelpTest, PhoneNumbersAreMaskedUnlessAsked) {
  EXPECT_EQ(ctl::ShowPhone("+13055550123", false), "+1 ••• ••• 0123");
  EXPECT_EQ(ctl::ShowPhone("+13055550123", true), "+13055550123");
  EXPECT_EQ(ctl::ShowPhone("", false), "");
  EXPECT_EQ(ctl::ShowPii("Jordan", false), "•••");
}

TEST(IntakectlHelpTest, HoursRoundTrip) {
  std::vector<v1::OpeningPeriod> periods;
  std::string error;
  ASSERT_TRUE(
      ctl::ParseHours("mon-fri@09:00-17:00,sat@10:00-14:00,sun@00:00-24:00", &periods, &error))
      << error;
  EXPECT_EQ(periods.size(), 7u);
  google::protobuf::RepeatedPtrField<v1::OpeningPeriod> field(periods.begin(), periods.end());
  EXPECT_EQ(ctl::FormatHours(field), "mon-fri@09:00-17:00,sat@10:00-14:00,sun@00:00-24:00");
  EXPECT_TRUE(ctl::ParseHours("always", &periods, &error));
  EXPECT_TRUE(periods.empty());
  EXPECT_FALSE(ctl::ParseHours("mon@09:00-24:01", &periods, &error));
  EXPECT_FALSE(ctl::ParseHours("fri-mon@09:00-17:00", &periods, &error));
}

// ---- Connection and exit codes per failure class ----

TEST_F(IntakectlTest, EveryCommandExitsThreeWhenTheServerIsUnreachable) {
  std::vector<std::vector<std::string>> commands = kAdminCommands;
  commands.insert(commands.end(), {
                                      {"leads", "ack", "--lead=lead-1"},
                                      {"leads", "contact", "--lead=lead-1", "--outcome=reached"},
                                      {"submit", "--phone=2127365000", "--consent_text=ok"},
                                      {"health"},
                                      {"optout", "--phone=2127365000"},
                                      {"disclosures", "--phone=2127365000"},
                                      {"erase", "--phone=2127365000", "--yes"},
                                      {"purge", "--older_than=30d", "--yes"},
                                  });
  for (const std::vector<std::string>& args : commands) {
    std::vector<std::string> full = args;
    full.insert(full.end(), kUnreachable.begin(), kUnreachable.end());
    full.push_back("--token_file=" + token_file_);
    const CtlResult r = RunCtl(full);
    EXPECT_EQ(r.exit_code, ctl::kExitUnreachable) << absl::StrJoin(args, " ") << "\n" << r;
    EXPECT_THAT(r.err, HasSubstr("127.0.0.1:1")) << r;
  }
}

TEST_F(IntakectlTest, AWrongTokenExitsFour) {
  const std::string wrong = scratch_.File("wrong.token");
  WriteFile(wrong, "not-the-token\n");
  for (const std::vector<std::string>& args : kAdminCommands) {
    std::vector<std::string> full = args;
    full.push_back("--addr=" + server_->admin_address());
    full.push_back("--token_file=" + wrong);
    const CtlResult r = RunCtl(full);
    EXPECT_EQ(r.exit_code, ctl::kExitDenied) << absl::StrJoin(args, " ") << "\n" << r;
    EXPECT_THAT(r.err, HasSubstr("UNAUTHENTICATED")) << r;
  }
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"leads", "ack", "--lead=lead-1"},
           {"leads", "contact", "--lead=lead-1", "--outcome=reached"},
           {"leads", "list", "--as_provider"},
           {"leads", "get", "--lead=lead-1", "--as_provider"},
           {"leads", "tail", "--as_provider"},
       }) {
    const CtlResult r = Public(args, wrong);
    EXPECT_EQ(r.exit_code, ctl::kExitDenied) << absl::StrJoin(args, " ") << "\n" << r;
  }
  // A provider token on AdminService is PERMISSION_DENIED, the same class.
  CreateProvider("acme");
  const CtlResult r = RunCtl({"providers", "list", "--addr=" + server_->admin_address(),
                              "--token_file=" + IssueTokenFile("acme")});
  EXPECT_EQ(r.exit_code, ctl::kExitDenied) << r;
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED")) << r;
}

TEST_F(IntakectlTest, NoTokenAnywhereIsAUsageError) {
  const CtlResult r = RunCtl({"providers", "list", "--addr=" + server_->admin_address()});
  EXPECT_EQ(r.exit_code, ctl::kExitUsage) << r;
  EXPECT_THAT(r.err, HasSubstr("INTAKE_TOKEN")) << r;
  const CtlResult provider = RunCtl({"leads", "ack", "--lead=lead-1", "--addr=127.0.0.1:1"});
  EXPECT_EQ(provider.exit_code, ctl::kExitUsage) << provider;
}

TEST_F(IntakectlTest, TokenComesFromTheEnvironmentOrTheLocalDataDirectory) {
  const std::string token = server_->AdminToken();
  CtlOptions from_env;
  from_env.env = {"INTAKE_TOKEN=" + token, "INTAKE_ADDR=" + server_->admin_address()};
  CtlResult r = RunCtl({"providers", "list"}, from_env);
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("ID")) << r;

  // Run where the server's data directory is ./var, as after `make run`.
  const std::string cwd = scratch_.File("checkout");
  std::filesystem::create_directories(cwd + "/var");
  WriteFile(cwd + "/var/admin.token", token + "\n");
  CtlOptions in_checkout;
  in_checkout.cwd = cwd;
  r = RunCtl({"providers", "list", "--addr=" + server_->admin_address()}, in_checkout);
  EXPECT_EQ(r.exit_code, 0) << r;
  // --token_file wins over both.
  WriteFile(scratch_.File("wrong.token"), "wrong\n");
  from_env.cwd = cwd;
  r = RunCtl({"providers", "list", "--token_file=" + scratch_.File("wrong.token")}, from_env);
  EXPECT_EQ(r.exit_code, ctl::kExitDenied) << r;
}

// ---- providers ----

TEST_F(IntakectlTest, ProvidersCreateGetListPauseResumeUpdate) {
  CtlResult r = Admin({"providers", "create", "--id=acme", "--name=Acme Recovery",
                       "--regions=fl,GA", "--daily_cap=20", "--time_zone=America/Chicago",
                       "--hours=mon-fri@08:00-20:00,sat@10:00-14:00"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("Acme Recovery"));
  EXPECT_THAT(r.out, HasSubstr("FL,GA"));
  EXPECT_THAT(r.out, HasSubstr("mon-fri@08:00-20:00,sat@10:00-14:00"));
  EXPECT_THAT(r.out, HasSubstr("ACTIVE"));

  r = Admin({"providers", "get", "--id=acme"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("America/Chicago"));
  EXPECT_THAT(r.out, HasSubstr("20"));

  CreateProvider("beta");
  r = Admin({"providers", "list"});
  ASSERT_EQ(r.exit_code, 0) << r;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r;
  EXPECT_THAT(lines[0], HasSubstr("ID    NAME"));  // Aligned to the widest cell.
  EXPECT_THAT(lines[1], HasSubstr("acme  Acme Recovery"));
  EXPECT_THAT(lines[2], HasSubstr("beta  Provider beta"));
  EXPECT_THAT(lines[2], HasSubstr("all"));  // Nationwide.

  r = Admin({"providers", "pause", "--id=acme"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("PAUSED"));
  r = Admin({"providers", "resume", "--id=acme"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("ACTIVE"));

  r = Admin(
      {"providers", "update", "--id=acme", "--daily_cap=0", "--hours=always", "--output=json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  v1::UpdateProviderResponse updated;
  ASSERT_TRUE(ParsesAs(r.out, &updated)) << r;
  EXPECT_EQ(updated.provider().daily_cap(), 0u);
  EXPECT_TRUE(updated.provider().hours().empty());
  EXPECT_EQ(updated.provider().regions_size(), 2);  // Not in the mask: unchanged.
  EXPECT_EQ(updated.provider().time_zone(), "America/Chicago");
}

TEST_F(IntakectlTest, ProvidersJsonIsTheResponseMessage) {
  CtlResult r = Admin({"providers", "create", "--id=acme", "--name=Acme", "--regions=FL",
                       "--paused", "--output=json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  v1::CreateProviderResponse created;
  ASSERT_TRUE(ParsesAs(r.out, &created)) << r;
  EXPECT_EQ(created.provider().provider_id(), "acme");
  EXPECT_EQ(created.provider().state(), v1::PROVIDER_STATE_PAUSED);

  r = Admin({"providers", "get", "--id=acme", "--output", "json"});
  v1::GetProviderResponse got;
  ASSERT_TRUE(ParsesAs(r.out, &got)) << r;
  EXPECT_EQ(got.provider().display_name(), "Acme");

  CreateProvider("beta");
  r = Admin({"providers", "list", "--output=json"});
  v1::ListProvidersResponse list;
  ASSERT_TRUE(ParsesAs(r.out, &list)) << r;
  ASSERT_EQ(list.providers_size(), 2);
  EXPECT_EQ(list.providers(1).provider_id(), "beta");
  EXPECT_THAT(r.out, HasSubstr("\"providers\""));
}

TEST_F(IntakectlTest, ProviderErrorsFromTheServer) {
  CtlResult r = Admin({"providers", "get", "--id=nobody"});
  EXPECT_EQ(r.exit_code, ctl::kExitNotFound) << r;
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
  r = Admin({"providers", "pause", "--id=nobody"});
  EXPECT_EQ(r.exit_code, ctl::kExitNotFound) << r;

  // The zone is left to the server's tz database: its field violation is printed.
  r = Admin({"providers", "create", "--id=mars", "--name=Mars", "--time_zone=Mars/Olympus"});
  EXPECT_EQ(r.exit_code, ctl::kExitInvalid) << r;
  EXPECT_THAT(r.err, HasSubstr("\n  time_zone: ")) << r;

  // Overlapping hours are the server's to judge too.
  r = Admin({"providers", "create", "--id=over", "--name=Over",
             "--hours=mon@09:00-12:00,mon@11:00-13:00"});
  EXPECT_EQ(r.exit_code, ctl::kExitInvalid) << r;
  EXPECT_THAT(r.err, HasSubstr("  hours[")) << r;

  CreateProvider("acme");
  r = Admin({"providers", "create", "--id=acme", "--name=Again"});
  EXPECT_EQ(r.exit_code, ctl::kExitFailed) << r;
  EXPECT_THAT(r.err, HasSubstr("ALREADY_EXISTS"));
}

// ---- tokens ----

TEST_F(IntakectlTest, TokensIssueAndRevoke) {
  CreateProvider("acme");
  CtlResult r = Admin({"tokens", "issue", "--provider=acme", "--output=json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  v1::IssueProviderTokenResponse issued;
  ASSERT_TRUE(ParsesAs(r.out, &issued)) << r;
  ASSERT_FALSE(issued.token().empty());
  const std::string printed_token = scratch_.File("printed.token");
  WriteFile(printed_token, issued.token());
  r = Public({"leads", "list", "--as_provider"}, printed_token);
  EXPECT_EQ(r.exit_code, 0) << r;

  r = Admin({"tokens", "issue", "--provider=acme"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("token id:"));
  EXPECT_THAT(r.err, HasSubstr("shown only this once"));

  // --out_file: a new 0600 file, never an existing one.
  const std::string path = IssueTokenFile("acme");
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  r = Admin({"tokens", "issue", "--provider=acme", "--out_file=" + path});
  EXPECT_EQ(r.exit_code, ctl::kExitUsage) << r;

  r = Admin({"tokens", "revoke", "--token_id=" + issued.token_id()});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("revoked"));
  r = Public({"leads", "list", "--as_provider"}, printed_token);
  EXPECT_EQ(r.exit_code, ctl::kExitDenied) << r;
  // The other token still works.
  r = Public({"leads", "list", "--as_provider"}, path);
  EXPECT_EQ(r.exit_code, 0) << r;

  r = Admin({"tokens", "issue", "--provider=nobody"});
  EXPECT_EQ(r.exit_code, ctl::kExitNotFound) << r;
  r = Admin({"tokens", "revoke", "--token_id=tok-unknown"});
  EXPECT_EQ(r.exit_code, ctl::kExitNotFound) << r;
}

// ---- listings ----

TEST_F(IntakectlTest, ListingsCreateAndList) {
  CreateProvider("acme");
  CreateProvider("beta");
  CtlResult r = Admin({"listings", "create", "--id=acme-miami", "--provider=acme",
                       "--name=Acme Miami", "--region=fl"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("acme-miami"));
  EXPECT_THAT(r.out, HasSubstr("FL"));
  r = Admin({"listings", "create", "--id=beta-atl", "--provider=beta", "--name=Beta Atlanta",
             "--region=GA", "--output=json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  v1::CreateListingResponse created;
  ASSERT_TRUE(ParsesAs(r.out, &created)) << r;
  EXPECT_EQ(created.listing().region(), "GA");

  r = Admin({"listings", "list"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("acme-miami  acme      Acme Miami"));
  EXPECT_THAT(r.out, HasSubstr("beta-atl"));
  r = Admin({"listings", "list", "--provider=beta", "--output=json"});
  v1::ListListingsResponse list;
  ASSERT_TRUE(ParsesAs(r.out, &list)) << r;
  ASSERT_EQ(list.listings_size(), 1);
  EXPECT_EQ(list.listings(0).listing_id(), "beta-atl");

  r = Admin({"listings", "create", "--id=x", "--provider=nobody", "--name=X", "--region=FL"});
  EXPECT_EQ(r.exit_code, ctl::kExitNotFound) << r;
  r = Admin(
      {"listings", "create", "--id=acme-miami", "--provider=acme", "--name=X", "--region=FL"});
  EXPECT_EQ(r.exit_code, ctl::kExitFailed) << r;
}

// ---- submit ----

TEST_F(IntakectlTest, SubmitGoodPathAndServerValidation) {
  CreateProvider("acme");
  CreateListing("acme-miami", "acme");
  CtlResult r = Submit(kPhone, "acme-miami");
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("submission:"));
  EXPECT_THAT(r.out, HasSubstr("sub-"));

  r = Public({"submit", "--phone=" + std::string(kPhone), "--consent_text=I agree.",
              "--request_id=req-1", "--advertisers=Acme,Beta", "--output=json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  v1::SubmitCallbackResponse response;
  ASSERT_TRUE(ParsesAs(r.out, &response)) << r;
  EXPECT_FALSE(response.submission_id().empty());

  // The server judges the phone; each violation on its own line, the number never echoed.
  r = Submit("(305) 555-0142");
  EXPECT_EQ(r.exit_code, ctl::kExitInvalid) << r;
  EXPECT_THAT(r.err, HasSubstr("\n  caller.phone: ")) << r;
  EXPECT_THAT(r.err, Not(HasSubstr("555-0142")));
  r = Submit(kPhone, "no-such-listing");
  EXPECT_EQ(r.exit_code, ctl::kExitNotFound) << r;
}

// ---- leads ----

TEST_F(IntakectlTest, LeadsListMasksPhonesUnlessAsked) {
  CreateProvider("acme");
  CreateListing("acme-miami", "acme");
  ASSERT_EQ(Submit(kPhone, "acme-miami").exit_code, 0);

  CtlResult r = Admin({"leads", "list"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(kMaskedPhone));
  EXPECT_THAT(r.out, Not(HasSubstr(kPhoneE164)));
  EXPECT_THAT(r.out, HasSubstr("acme-miami"));
  EXPECT_THAT(r.out, HasSubstr("NEW"));

  r = Admin({"leads", "list", "--show-pii"});
  EXPECT_THAT(r.out, HasSubstr(kPhoneE164)) << r;

  r = Admin({"leads", "list", "--state=new", "--output=json"});
  v1::AdminServiceListLeadsResponse list;
  ASSERT_TRUE(ParsesAs(r.out, &list)) << r;
  ASSERT_EQ(list.leads_size(), 1);
  EXPECT_EQ(list.leads(0).provider_id(), "acme");
  r = Admin({"leads", "list", "--unassigned", "--output=json"});
  ASSERT_TRUE(ParsesAs(r.out, &list)) << r;
  EXPECT_EQ(list.leads_size(), 0);
}

TEST_F(IntakectlTest, LeadsGetReassignAckContact) {
  CreateProvider("acme");
  CreateProvider("beta");
  CreateListing("acme-miami", "acme");
  ASSERT_EQ(Submit(kPhone, "acme-miami").exit_code, 0);
  const std::string lead = FirstLeadOf("acme");
  ASSERT_FALSE(lead.empty());

  CtlResult r = Admin({"leads", "get", "--lead=" + lead});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr(kMaskedPhone));
  EXPECT_THAT(r.out, Not(HasSubstr("Jordan Example")));
  EXPECT_THAT(r.out, HasSubstr("LISTING_OWNER"));
  EXPECT_THAT(r.out, HasSubstr("consent text sha256:"));
  EXPECT_THAT(r.out, HasSubstr("ASSIGNED"));
  r = Admin({"leads", "get", "--lead=" + lead, "--show-pii", "--output=json"});
  v1::AdminServiceGetLeadResponse got;
  ASSERT_TRUE(ParsesAs(r.out, &got)) << r;
  EXPECT_EQ(got.lead().caller().phone(), kPhoneE164);
  EXPECT_EQ(got.evidence().consent_text_sha256().size(), 64u);
  r = Admin({"leads", "get", "--lead=lead-nope"});
  EXPECT_EQ(r.exit_code, ctl::kExitNotFound) << r;

  // The provider acknowledges it and records a call, with its own token.
  const std::string acme_token = IssueTokenFile("acme");
  r = Public({"leads", "ack", "--lead=" + lead}, acme_token);
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("ACKNOWLEDGED"));
  r = Public({"leads", "contact", "--lead=" + lead, "--outcome=left-voicemail",
              "--note=called at 5pm", "--output=json"},
             acme_token);
  ASSERT_EQ(r.exit_code, 0) << r;
  v1::RecordContactAttemptResponse contacted;
  ASSERT_TRUE(ParsesAs(r.out, &contacted)) << r;
  EXPECT_EQ(contacted.lead().state(), v1::LEAD_STATE_CONTACTED);
  EXPECT_EQ(contacted.lead().last_outcome(), v1::CONTACT_OUTCOME_LEFT_VOICEMAIL);
  r = Public({"leads", "get", "--lead=" + lead, "--as_provider"}, acme_token);
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("LEFT_VOICEMAIL"));

  // Ops move it; acme loses it (NOT_FOUND), beta has it.
  r = Admin({"leads", "reassign", "--lead=" + lead, "--provider=beta"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("MANUAL"));
  r = Public({"leads", "ack", "--lead=" + lead}, acme_token);
  EXPECT_EQ(r.exit_code, ctl::kExitNotFound) << r;
  r = Admin({"leads", "reassign", "--lead=" + lead, "--provider=nobody"});
  EXPECT_EQ(r.exit_code, ctl::kExitNotFound) << r;
}

// ---- leads tail ----

TEST_F(IntakectlTest, TailPrintsEventsAsJsonLinesAndKeepsItsCursor) {
  CreateProvider("acme");
  CreateListing("acme-miami", "acme");
  ASSERT_EQ(Submit(kPhone, "acme-miami").exit_code, 0);
  ASSERT_EQ(Submit("(212) 736-5000", "acme-miami").exit_code, 0);
  const std::string cursor = scratch_.File("cursor");

  CtlResult r =
      Admin({"leads", "tail", "--max_events=2", "--output=json", "--cursor_file=" + cursor});
  ASSERT_EQ(r.exit_code, 0) << r;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << r;
  for (size_t i = 0; i < lines.size(); ++i) {
    v1::WatchLeadsResponse event;
    ASSERT_TRUE(ParsesAs(lines[i], &event)) << lines[i];
    EXPECT_EQ(event.sequence(), i + 1);
    EXPECT_EQ(event.type(), v1::LEAD_EVENT_TYPE_ASSIGNED);
    EXPECT_EQ(event.provider_id(), "acme");
  }
  EXPECT_THAT(ReadFile(cursor), HasSubstr("sequence=2\n"));

  // The next run resumes after the cursor: only the new event.
  ASSERT_EQ(Submit("(212) 736-5001").exit_code, 0);
  r = Admin({"leads", "tail", "--max_events=1", "--cursor_file=" + cursor});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("SEQUENCE"));
  EXPECT_THAT(r.out, HasSubstr("\n3 "));
  EXPECT_THAT(r.out, Not(HasSubstr("\n1 ")));
  EXPECT_THAT(r.out, HasSubstr("+1 ••• ••• 5001"));
  EXPECT_THAT(ReadFile(cursor), HasSubstr("sequence=3\n"));
}

TEST_F(IntakectlTest, TailAsProviderFollowsSubscribeLeadsUntilInterrupted) {
  CreateProvider("acme");
  CreateListing("acme-miami", "acme");
  const std::string token = IssueTokenFile("acme");
  Ctl tail({"leads", "tail", "--as_provider", "--addr=" + server_->listen_address(),
            "--token_file=" + token},
           {});
  ASSERT_EQ(Submit(kPhone, "acme-miami").exit_code, 0);
  ASSERT_TRUE(tail.WaitForLines(2));  // The header and the event.
  tail.Signal(SIGINT);
  const CtlResult r = tail.Wait();
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("ASSIGNED"));
  EXPECT_THAT(r.out, HasSubstr(kMaskedPhone));
  EXPECT_THAT(r.out, Not(HasSubstr(kPhoneE164)));
}

TEST_F(IntakectlTest, TailReconnectsWithItsCursorAfterTheServerRestarts) {
  CreateProvider("acme");
  CreateListing("acme-miami", "acme");
  const std::string cursor = scratch_.File("cursor");
  Ctl tail({"leads", "tail", "--max_events=2", "--output=json", "--cursor_file=" + cursor,
            "--addr=" + server_->admin_address(), "--token_file=" + token_file_},
           {});
  ASSERT_EQ(Submit(kPhone, "acme-miami").exit_code, 0);
  ASSERT_TRUE(tail.WaitForLines(1));

  // Same ports and data directory, a new process: the stream ends UNAVAILABLE on the drain.
  const std::string data_dir = server_->data_dir();
  const std::vector<std::string> same_ports = {"--listen=" + server_->listen_address(),
                                               "--admin_listen=" + server_->admin_address()};
  ASSERT_EQ(server_->Stop(SIGTERM).exit_code, 0);
  std::unique_ptr<IntakedProcess> old_server = std::move(server_);
  server_ = IntakedProcess::Start(same_ports, data_dir);
  ASSERT_NE(server_, nullptr);
  ASSERT_EQ(Submit("(212) 736-5000", "acme-miami").exit_code, 0);

  const CtlResult r = tail.Wait();
  ASSERT_EQ(r.exit_code, 0) << r;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << r;
  v1::WatchLeadsResponse second;
  ASSERT_TRUE(ParsesAs(lines[1], &second)) << r;
  EXPECT_EQ(second.sequence(), 2u);
  EXPECT_THAT(r.err, HasSubstr("reconnecting")) << r;
  EXPECT_THAT(ReadFile(cursor), HasSubstr("sequence=2\n"));
}

TEST_F(IntakectlTest, TailWithACursorBeyondTheLogExitsSix) {
  const std::string cursor = scratch_.File("cursor");
  WriteFile(cursor, "sequence=99\n");
  const CtlResult r = Admin({"leads", "tail", "--cursor_file=" + cursor});
  EXPECT_EQ(r.exit_code, ctl::kExitInvalid) << r;
  EXPECT_THAT(r.err, HasSubstr("OUT_OF_RANGE")) << r;
  WriteFile(cursor, "garbage\n");
  EXPECT_EQ(Admin({"leads", "tail", "--cursor_file=" + cursor}).exit_code, ctl::kExitUsage);
}

// Heartbeats keep idle streams open; people see them only with --verbose, and they teach the
// cursor file which database its sequences belong to.
TEST(IntakectlTailTest, HeartbeatsShowOnlyWhenVerboseAndRecordTheInstance) {
  std::unique_ptr<IntakedProcess> server = IntakedProcess::Start({"--heartbeat_interval=50ms"});
  ASSERT_NE(server, nullptr);
  TempDir scratch;
  const std::string cursor = scratch.File("cursor");
  const std::vector<std::string> connect = {"--addr=" + server->admin_address(),
                                            "--token_file=" + server->data_dir() + "/admin.token"};
  std::vector<std::string> verbose_args = {
      "leads", "tail", "--verbose", "--output=json", "--max_events=1", "--cursor_file=" + cursor};
  verbose_args.insert(verbose_args.end(), connect.begin(), connect.end());
  std::vector<std::string> quiet_args = {"leads", "tail", "--max_events=1"};
  quiet_args.insert(quiet_args.end(), connect.begin(), connect.end());
  Ctl verbose(verbose_args, {});
  Ctl quiet(quiet_args, {});
  ASSERT_TRUE(verbose.WaitForLines(2));  // Two heartbeats.

  // A general-helpline lead with no provider at all: UNASSIGNED, shown on WatchLeads.
  const CtlResult submitted =
      RunCtl({"submit", "--phone=" + std::string(kPhone), "--consent_text=I agree.",
              "--addr=" + server->listen_address()});
  ASSERT_EQ(submitted.exit_code, 0) << submitted;

  const CtlResult v = verbose.Wait();
  ASSERT_EQ(v.exit_code, 0) << v;
  const std::vector<std::string> lines = absl::StrSplit(v.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 3u) << v;
  v1::WatchLeadsResponse heartbeat;
  ASSERT_TRUE(ParsesAs(lines[0], &heartbeat)) << v;
  EXPECT_EQ(heartbeat.type(), v1::LEAD_EVENT_TYPE_HEARTBEAT);
  ASSERT_FALSE(heartbeat.instance_id().empty());
  v1::WatchLeadsResponse last;
  ASSERT_TRUE(ParsesAs(lines.back(), &last)) << v;
  EXPECT_EQ(last.type(), v1::LEAD_EVENT_TYPE_ASSIGNED);
  EXPECT_EQ(last.lead().state(), v1::LEAD_STATE_UNASSIGNED);
  EXPECT_EQ(ReadFile(cursor),
            absl::StrCat("sequence=1\ninstance_id=", heartbeat.instance_id(), "\n"));

  const CtlResult q = quiet.Wait();
  ASSERT_EQ(q.exit_code, 0) << q;
  EXPECT_THAT(q.out, Not(HasSubstr("HEARTBEAT")));
  EXPECT_THAT(q.out, HasSubstr("ASSIGNED"));
  EXPECT_THAT(q.out, HasSubstr("UNASSIGNED"));
}

// A cursor from another database means nothing here: the tail starts again from 0.
TEST(IntakectlTailTest, ACursorOfAnotherDatabaseStartsOver) {
  std::unique_ptr<IntakedProcess> server = IntakedProcess::Start({"--heartbeat_interval=50ms"});
  ASSERT_NE(server, nullptr);
  TempDir scratch;
  const CtlResult submitted =
      RunCtl({"submit", "--phone=" + std::string(kPhone), "--consent_text=I agree.",
              "--addr=" + server->listen_address()});
  ASSERT_EQ(submitted.exit_code, 0) << submitted;
  const std::string cursor = scratch.File("cursor");
  WriteFile(cursor, "sequence=0\ninstance_id=some-other-database\n");

  // Event 1, then a heartbeat naming this database, then event 1 again from the start.
  const CtlResult r = RunCtl({"leads", "tail", "--max_events=2", "--cursor_file=" + cursor,
                              "--addr=" + server->admin_address(),
                              "--token_file=" + server->data_dir() + "/admin.token"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, HasSubstr("database changed")) << r;
  const std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r;
  EXPECT_TRUE(absl::StartsWith(lines[1], "1 ")) << r;
  EXPECT_TRUE(absl::StartsWith(lines[2], "1 ")) << r;
  EXPECT_THAT(ReadFile(cursor), HasSubstr("sequence=1\n"));
  EXPECT_THAT(ReadFile(cursor), Not(HasSubstr("some-other-database")));
}

// ---- stats, health ----

TEST_F(IntakectlTest, StatsTableAndJson) {
  CreateProvider("acme");
  CreateListing("acme-miami", "acme");
  ASSERT_EQ(Submit(kPhone, "acme-miami").exit_code, 0);
  CtlResult r = Admin({"stats"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("submissions:"));
  EXPECT_THAT(r.out, HasSubstr("PROVIDER"));
  EXPECT_THAT(r.out, HasSubstr("acme"));
  r = Admin({"stats", "--output=json"});
  v1::GetStatsResponse stats;
  ASSERT_TRUE(ParsesAs(r.out, &stats)) << r;
  EXPECT_EQ(stats.totals().leads(), 1u);
  ASSERT_EQ(stats.providers_size(), 1);
  EXPECT_EQ(stats.providers(0).provider_id(), "acme");
}

TEST_F(IntakectlTest, BackupJsonIsWhatTheServerSentButTheBytes) {
  const std::string out = scratch_.File("copy.db");
  const CtlResult r = Admin({"backup", "--out=" + out, "--output=json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, Not(HasSubstr("chunk"))) << "the bytes are in the file";
  v1::BackupDatabaseResponse printed;
  ASSERT_TRUE(ParsesAs(r.out, &printed)) << r;
  std::ifstream file(out, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(printed.info().size_bytes(), static_cast<int64_t>(bytes.size()));
  EXPECT_FALSE(printed.info().instance_id().empty());
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  EXPECT_EQ(printed.sha256(), absl::BytesToHexString(absl::string_view(
                                  reinterpret_cast<const char*>(hash), sizeof hash)));
}

TEST_F(IntakectlTest, HealthOnBothListeners) {
  CtlResult r = RunCtl({"health", "--addr=" + server_->admin_address()});
  ASSERT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("SERVING"));
  r = RunCtl({"health", "--addr=" + server_->listen_address(), "--output=json"});
  ASSERT_EQ(r.exit_code, 0) << r;
  grpc::health::v1::HealthCheckResponse health;
  ASSERT_TRUE(ParsesAs(r.out, &health)) << r;
  EXPECT_EQ(health.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  r = RunCtl({"health", "--addr=" + server_->admin_address(), "--service=no.such.Service"});
  EXPECT_EQ(r.exit_code, ctl::kExitNotFound) << r;
}

// intakectl's --tls_ca, --tls_cert and --tls_key against intaked serving TLS, with a client
// certificate required on the admin listener.
class IntakectlTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const CertFiles server_cert = ca_.IssueServer("intaked");
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadTextFile(ca_.cert());
    grpc::SslCredentialsOptions mtls = tls;
    mtls.pem_cert_chain = ReadTextFile(ops_.cert);
    mtls.pem_private_key = ReadTextFile(ops_.key);
    server_ =
        IntakedProcess::Start({"--tls_cert=" + server_cert.cert, "--tls_key=" + server_cert.key,
                               "--tls_client_ca=" + ca_.cert()},
                              "", {grpc::SslCredentials(tls), grpc::SslCredentials(mtls)});
    ASSERT_NE(server_, nullptr);
  }

  TempDir dir_;
  TestCa ca_{dir_.path(), "ctl-ca"};
  CertFiles ops_ = ca_.IssueClient("ops");
  std::unique_ptr<IntakedProcess> server_;
};

TEST_F(IntakectlTlsTest, AdminCommandsNeedTheCaAndAClientCertificate) {
  const std::vector<std::string> admin = {"providers", "list", "--addr=" + server_->admin_address(),
                                          "--token_file=" + server_->data_dir() + "/admin.token",
                                          "--timeout=5s"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = admin;
    args.insert(args.end(), extra.begin(), extra.end());
    return RunCtl(args);
  };
  CtlResult r =
      with({"--tls_ca=" + ca_.cert(), "--tls_cert=" + ops_.cert, "--tls_key=" + ops_.key});
  EXPECT_EQ(r.exit_code, 0) << r;
  r = with({"--tls_ca=" + ca_.cert()});
  EXPECT_EQ(r.exit_code, ctl::kExitUnreachable) << "no client certificate\n" << r;
  r = with({});
  EXPECT_EQ(r.exit_code, ctl::kExitUnreachable) << "plaintext\n" << r;
  r = with({"--tls_ca=" + ca_.cert(), "--tls_cert=" + ops_.cert});
  EXPECT_EQ(r.exit_code, ctl::kExitUsage) << "a certificate without its key\n" << r;
}

TEST_F(IntakectlTlsTest, PublicCommandsNeedOnlyTheCa) {
  CtlResult r = RunCtl({"health", "--addr=" + server_->listen_address(), "--tls_ca=" + ca_.cert()});
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("SERVING"));
  r = RunCtl({"submit", "--addr=" + server_->listen_address(), "--tls_ca=" + ca_.cert(),
              "--phone=" + std::string(kPhone), "--name=Sam", "--region=FL",
              "--consent_text=I agree to be called back."});
  EXPECT_EQ(r.exit_code, 0) << r;
  r = RunCtl({"health", "--addr=" + server_->listen_address(), "--timeout=5s"});
  EXPECT_EQ(r.exit_code, ctl::kExitUnreachable) << "plaintext\n" << r;
}

}  // namespace
}  // namespace intake::testing
