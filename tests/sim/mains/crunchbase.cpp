// crunchbase-sim: the project's simulator of Crunchbase's organization search (API v4). See
// `crunchbase-sim --help` and docs/simulators.md. Prints "listening HOST:PORT" on stdout once
// ready; logs go to stderr.
#include "etl/sim/crunchbase.hpp"

int main(int argc, char** argv) {
  return etl::sim_upstream_main<etl::crunchbase_sim>(
      "crunchbase-sim", argc, argv, etl::parse_crunchbase_options, etl::crunchbase_usage);
}
