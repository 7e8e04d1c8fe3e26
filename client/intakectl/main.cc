// intakectl: the Intake ops CLI. Everything but argv lives in the intakectl library.
#include <string>
#include <vector>

#include "client/intakectl/dispatch.h"

int main(int argc, char** argv) {
  return intake::ctl::RunIntakectl(std::vector<std::string>(argv + 1, argv + argc));
}
