// The command line: finds the command the words name, parses the global and the command's
// flags, prints help, and runs the command.
#ifndef INTAKE_CLIENT_INTAKECTL_DISPATCH_H_
#define INTAKE_CLIENT_INTAKECTL_DISPATCH_H_

#include <string>
#include <vector>

#include "client/intakectl/command.h"
#include "client/intakectl/flags.h"

namespace intake::ctl {

// Every command, in the order help lists them.
std::vector<Command> AllCommands();

// The command line, split into the command's words and two sets of flag values.
struct CommandLine {
  std::vector<std::string> words;
  const Command* command = nullptr;  // Null for help, or a group without its command.
  bool help = false;
  FlagValues global;
  FlagValues flags;
};

// Parses `args` against `commands` into *line. Returns false after printing what is wrong on
// stderr; a message names flags and commands, never a flag's value (it may be a phone number).
bool ParseCommandLine(const std::vector<std::string>& args, const std::vector<Command>& commands,
                      CommandLine* line);

// Reads the global flags' values (--timeout, --output, ...) into *options. Returns false after
// printing what is wrong on stderr.
bool ApplyGlobalFlags(const FlagValues& flags, GlobalOptions* options);

// Runs intakectl with `args` (argv without the program name) and returns the exit code
// (exit_codes.h).
int RunIntakectl(const std::vector<std::string>& args);

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_DISPATCH_H_
