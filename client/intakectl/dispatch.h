// The command line: finds the command the words name, parses the global and the command's
// flags, prints help, and runs the command.
#ifndef INTAKE_CLIENT_INTAKECTL_DISPATCH_H_
#define INTAKE_CLIENT_INTAKECTL_DISPATCH_H_

#include <string>
#include <vector>

namespace intake::ctl {

// Runs intakectl with `args` (argv without the program name) and returns the exit code
// (exit_codes.h).
int RunIntakectl(const std::vector<std::string>& args);

}  // namespace intake::ctl

#endif  // INTAKE_CLIENT_INTAKECTL_DISPATCH_H_
