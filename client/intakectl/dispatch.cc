#include "client/intakectl/dispatch.h"

#include <iostream>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "client/intakectl/command.h"
#include "client/intakectl/exit_codes.h"
#include "client/intakectl/flags.h"

namespace intake::ctl {
namespace {

constexpr size_t kHelpColumn = 26;
constexpr size_t kHelpWidth = 100;

// Prints `label`, then `text` from kHelpColumn on, wrapped at kHelpWidth.
void PrintHelpLine(absl::string_view label, absl::string_view text, std::ostream& out) {
  out << label;
  size_t column = label.size();
  if (column >= kHelpColumn) {
    out << "\n";
    column = 0;
  }
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (column > kHelpColumn && column + 1 + word.size() > kHelpWidth) {
      out << "\n";
      column = 0;
    }
    if (column < kHelpColumn) {
      out << std::string(kHelpColumn - column, ' ');
      column = kHelpColumn;
    } else {
      out << ' ';
      ++column;
    }
    out << word;
    column += word.size();
  }
  out << "\n";
}

const std::vector<FlagSpec>& GlobalFlags() {
  static const auto* const flags = new std::vector<FlagSpec>{
      {"addr", "HOST:PORT",
       "server address (default: $INTAKE_ADDR or 127.0.0.1:50052, the admin listener; for "
       "submit and provider commands $INTAKE_PUBLIC_ADDR or 127.0.0.1:50051)"},
      {"token_file", "PATH",
       "file holding the bearer token (default: $INTAKE_TOKEN; for admin commands then "
       "./var/admin.token)"},
      {"tls_ca", "PATH", "CA certificates (PEM) to verify the server with; turns TLS on"},
      {"tls_cert", "PATH", "client certificate (PEM), for servers that require mTLS"},
      {"tls_key", "PATH", "the client certificate's private key (PEM)"},
      {"timeout", "DURATION", "deadline of each call, e.g. 500ms, 30s (default 10s)"},
      {"output", "FORMAT", "table (default, for people) or json (protobuf JSON, for scripts)"},
      {"show_pii", "", "show callers' phone numbers, names and messages in tables"},
      {"verbose", "", "more diagnostics on stderr; heartbeats in leads tail"},
      {"help", "", "help for intakectl, a group or a command"},
  };
  return *flags;
}

}  // namespace

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto group :
       {ProviderCommands, TokenCommands, ListingCommands, LeadCommands, IntakeCommands,
        PrivacyCommands, QuarantineCommands, DisclosureCommands, ServerCommands, BackupCommands}) {
    for (Command& c : group()) all.push_back(std::move(c));
  }
  return all;
}

namespace {

const Command* FindCommand(const std::vector<Command>& commands,
                           const std::vector<std::string>& words) {
  for (const Command& c : commands) {
    if (c.group.empty() ? words.size() == 1 && words[0] == c.name
                        : words.size() == 2 && words[0] == c.group && words[1] == c.name) {
      return &c;
    }
  }
  return nullptr;
}

bool IsGroup(const std::vector<Command>& commands, absl::string_view word) {
  for (const Command& c : commands) {
    if (c.group == word) return true;
  }
  return false;
}

void PrintFlags(const std::vector<FlagSpec>& flags, std::ostream& out) {
  for (const FlagSpec& f : flags) {
    std::string name = absl::StrCat("  --", f.name);
    if (!f.is_bool()) absl::StrAppend(&name, "=", f.value_name);
    PrintHelpLine(name, f.help, out);
  }
}

void PrintCommandList(const std::vector<Command>& commands, absl::string_view group,
                      std::ostream& out) {
  for (const Command& c : commands) {
    if (!group.empty() && c.group != group) continue;
    PrintHelpLine(absl::StrCat("  ", c.Path()), c.summary, out);
  }
}

void PrintMainHelp(const std::vector<Command>& commands, std::ostream& out) {
  out << "intakectl: the Intake ops CLI.\n\n"
         "Usage: intakectl <command> [flags]        (intakectl <command> --help for its flags)\n\n"
         "Commands:\n";
  PrintCommandList(commands, "", out);
  out << "\nGlobal flags (anywhere on the line; '-' and '_' are the same in flag names, so\n"
         "--show-pii is --show_pii; --name=value or --name value):\n";
  PrintFlags(GlobalFlags(), out);
  out << "\nData goes to stdout, diagnostics to stderr. Tables mask callers' personal data\n"
         "unless --show-pii; --output=json prints what the server returned, unmasked.\n\n"
      << kExitCodeHelp;
}

void PrintCommandHelp(const Command& c, std::ostream& out) {
  out << c.summary << "\n\nUsage: intakectl " << c.Path() << (c.flags.empty() ? "" : " [flags]")
      << "\n";
  if (!c.flags.empty()) {
    out << "\nFlags:\n";
    PrintFlags(c.flags, out);
  }
  out << "\nExample:\n  " << c.example
      << "\n\nGlobal flags (--addr, --token_file, --output, ...) and exit codes: intakectl "
         "--help\n";
}

bool ParseFlag(const std::vector<std::string>& args, size_t* i, CommandLine* line) {
  const absl::string_view arg = args[*i];
  const size_t equals = arg.find('=');
  const std::string name = absl::StrReplaceAll(
      arg.substr(2, equals == absl::string_view::npos ? arg.npos : equals - 2), {{"-", "_"}});
  const FlagSpec* spec = FindFlag(GlobalFlags(), name);
  FlagValues* values = &line->global;
  if (spec == nullptr && line->command != nullptr) {
    spec = FindFlag(line->command->flags, name);
    values = &line->flags;
  }
  if (spec == nullptr) {
    if (line->command != nullptr) {
      return UsageError(absl::StrCat("unknown flag --", name, " for ", line->command->Path()));
    }
    return UsageError(absl::StrCat("unknown flag --", name,
                                   line->words.empty() ? ""
                                                       : " (command flags go after the "
                                                         "command)"));
  }
  std::string value;
  if (equals != absl::string_view::npos) {
    value = std::string(arg.substr(equals + 1));
  } else if (spec->is_bool()) {
    value = "true";
  } else if (*i + 1 < args.size()) {
    value = args[++*i];
  } else {
    return UsageError(absl::StrCat("--", name, " needs a value"));
  }
  if (spec->is_bool() && !ParseBool(value).has_value()) {
    return UsageError(absl::StrCat("--", name, " takes no value (or true/false)"));
  }
  if (name == "help") {
    line->help = ParseBool(value).value_or(false);
    return true;
  }
  if (!values->Set(name, std::move(value))) {
    return UsageError(absl::StrCat("--", name, " is given twice"));
  }
  return true;
}

}  // namespace

bool ParseCommandLine(const std::vector<std::string>& args, const std::vector<Command>& commands,
                      CommandLine* line) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || (arg == "help" && line->words.empty())) {
      line->help = true;
    } else if (absl::StartsWith(arg, "--") && arg.size() > 2) {
      if (!ParseFlag(args, &i, line)) return false;
    } else if (absl::StartsWith(arg, "-")) {
      return UsageError("flags take the form --name=value");
    } else if (line->command != nullptr) {
      // Not echoed: it may be a phone number typed without its flag.
      return UsageError(absl::StrCat("unexpected argument after ", line->command->Path(),
                                     " (values go in flags: --name=value)"));
    } else {
      line->words.push_back(arg);
      line->command = FindCommand(commands, line->words);
      if (line->command == nullptr &&
          !(line->words.size() == 1 && IsGroup(commands, line->words[0]))) {
        return UsageError(absl::StrCat("unknown command '", absl::StrJoin(line->words, " "), "'"));
      }
    }
  }
  return true;
}

bool ApplyGlobalFlags(const FlagValues& flags, GlobalOptions* options) {
  options->addr = flags.Get("addr");
  options->token_file = flags.Get("token_file");
  options->tls_ca = flags.Get("tls_ca");
  options->tls_cert = flags.Get("tls_cert");
  options->tls_key = flags.Get("tls_key");
  options->show_pii = flags.Bool("show_pii");
  options->verbose = flags.Bool("verbose");
  if (flags.Has("timeout")) {
    // Parsed aside: a refused value never replaces the default.
    absl::Duration timeout;
    if (!absl::ParseDuration(flags.Get("timeout"), &timeout) || timeout <= absl::ZeroDuration()) {
      return UsageError("--timeout: must be a positive duration such as 500ms or 30s");
    }
    options->timeout = timeout;
  }
  if (flags.Has("output")) {
    const std::string output = flags.Get("output");
    if (output == "table") {
      options->output = OutputFormat::kTable;
    } else if (output == "json") {
      options->output = OutputFormat::kJson;
    } else {
      return UsageError("--output: must be table or json");
    }
  }
  return true;
}

std::string Command::Path() const {
  return group.empty() ? std::string(name) : absl::StrCat(group, " ", name);
}

int RunIntakectl(const std::vector<std::string>& args) {
  const std::vector<Command> commands = AllCommands();
  CommandLine line;
  if (!ParseCommandLine(args, commands, &line)) {
    std::cerr << "(see: intakectl "
              << (line.command != nullptr ? line.command->Path() + " " : std::string())
              << "--help)\n";
    return kExitUsage;
  }
  if (line.help) {
    if (line.command != nullptr) {
      PrintCommandHelp(*line.command, std::cout);
    } else if (!line.words.empty()) {
      std::cout << "Commands of " << line.words[0] << ":\n";
      PrintCommandList(commands, line.words[0], std::cout);
    } else {
      PrintMainHelp(commands, std::cout);
    }
    return kExitOk;
  }
  if (line.command == nullptr) {
    if (line.words.empty()) {
      PrintMainHelp(commands, std::cerr);
    } else {
      std::cerr << "intakectl: " << line.words[0] << " needs a command:\n";
      PrintCommandList(commands, line.words[0], std::cerr);
    }
    return kExitUsage;
  }
  Invocation run;
  if (!ApplyGlobalFlags(line.global, &run.global)) {
    std::cerr << "(see: intakectl --help)\n";
    return kExitUsage;
  }
  run.flags = std::move(line.flags);
  const int exit_code = line.command->run(run);
  if (exit_code == kExitUsage) {
    std::cerr << "(see: intakectl " << line.command->Path() << " --help)\n";
  }
  return exit_code;
}

}  // namespace intake::ctl
