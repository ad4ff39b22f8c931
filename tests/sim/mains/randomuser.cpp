// randomuser-sim: the project's simulator of randomuser.me 1.4. See `randomuser-sim --help` and
// docs/simulators.md. Prints "listening HOST:PORT" on stdout once ready; logs go to stderr.
#include <iostream>
#include <string_view>
#include <vector>

#include "etl/sim/randomuser.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string why;
  const auto options = etl::parse_randomuser_options(args, &why);
  if (!options) {
    std::cerr << "randomuser-sim: " << why << '\n';
    return 2;
  }
  if (options->common.help) {
    std::cout << etl::randomuser_usage();
    return 0;
  }
  return etl::sim_serve([&] { return std::make_unique<etl::randomuser_sim>(*options); },
                        options->common.log_level);
}
