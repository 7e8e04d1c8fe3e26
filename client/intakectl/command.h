// The command table: what a command is (its words, help, flags and handler), the options every
// command shares, and the lists of commands each group file contributes.
#ifndef INTAKE_CLIENT_INTAKECTL_COMMAND_H_
#define INTAKE_CLIENT_INTAKECTL_COMMAND_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/intakectl/flags.h"

namespace intake::ctl {

enum class OutputFormat { kTable, kJson };

// The global flags, accepted anywhere on the command line.
struct GlobalOptions {
  // --addr; empty means the default of the listener the command talks to (see connection.h).
  std::string addr;
  std::string token_file;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // Deadline of every unary call, and of connecting for `leads tail`.
  absl::Duration timeout = absl::Seconds(10);
  OutputFormat output = OutputFormat::kTable;
  // Show phone numbers, names, postal codes and messages in table output.
  bool show_pii = false;
  // Extra diagnostics on stderr; heartbeats in `leads tail`.
  bool verbose = false;
};

// One run of one command.
struct Invocation {
  GlobalOptions global;
  FlagValues flags;

  bool json() const { return global.output == OutputFormat::kJson; }
};

// Runs a command and returns the process's exit code (exit_codes.h). Data goes to stdout,
// diagnostics to stderr.
using Handler = int (*)(const Invocation& run);

struct Command {
  // "providers"; empty for a one-word command such as "submit".
  absl::string_view group;
  // "create"
  absl::string_view name;
  // One line for help.
  absl::string_view summary;
  // A complete command line.
  absl::string_view example;
  std::vector<FlagSpec> flags;
  Handler run = nullptr;

  // "providers create", or "submit".
  std::string Path() const;
};

// The ids help examples show where a real one goes (`leads list`, `tokens issue` and
// `quarantine list` print them), shaped like the server's. The examples spell them out; a test runs
// every example against a real server with real ids in their place.
inline constexpr absl::string_view kExampleLeadId = "lead-0190c5a4e2b17f3d9a6c1e8b5d2f4a07";
inline constexpr absl::string_view kExampleTokenId = "tok-8c2f0e6a1b9d4c3e7f5a2b10";
// `quarantine list` prints these.
inline constexpr absl::string_view kExampleSubmissionId = "sub-0190c5a4e2b17f3d5b8e9c0a1f2d3e4b";

// Each group's commands, in the order help lists them; one file per group.
std::vector<Command> ProviderCommands();    // providers.cc
std::vector<Command> TokenCommands();       // tokens.cc
std::vector<Command> ListingCommands();     // listings.cc
std::vector<Command> LeadCommands();        // leads.cc, lead_tail.cc
std::vector<Command> IntakeCommands();      // intake.cc
std::vector<Command> PrivacyCommands();     // privacy.cc
std::vector<Command> QuarantineCommands();  // quarantine.cc
std::vector<Command> DisclosureCommands();  // disclosures.cc
std::vector<Command> ServerCommands();      // server_info.cc: stats, health
std::vector<Command> BackupCommands();      // backup.cc

// The tail command, kept in its own file for its size; LeadCommands() includes it.
Command LeadTailCommand();

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_COMMAND_H_
