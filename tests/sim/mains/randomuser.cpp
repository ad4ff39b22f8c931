// randomuser-sim: the project's simulator of randomuser.me 1.4. See `randomuser-sim --help` and
// docs/simulators.md. Prints "listening HOST:PORT" on stdout once ready; logs go to stderr.
#include "etl/sim/randomuser.hpp"

int main(int argc, char** argv) {
  return etl::sim_upstream_main<etl::randomuser_sim>(
      "randomuser-sim", argc, argv, etl::parse_randomuser_options, etl::randomuser_usage);
}
