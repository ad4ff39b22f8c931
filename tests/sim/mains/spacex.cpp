// spacex-sim: the project's simulator of the SpaceX API (v5 launches, v4 crew). See `spacex-sim
// --help` and docs/simulators.md. Prints "listening HOST:PORT" on stdout once ready; logs go to
// stderr.
#include "etl/sim/spacex.hpp"

int main(int argc, char** argv) {
  return etl::sim_upstream_main<etl::spacex_sim>("spacex-sim", argc, argv,
                                                 etl::parse_spacex_options, etl::spacex_usage);
}
