// The pipelines unit tests' way to the shipped specs (pipelines/specs/, as the binaries carry
// them): one by name.
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>

#include "etl/pipelines/spec_loader.hpp"

namespace etl {

// The shipped spec named `name`. Throws std::runtime_error (failing the test that asked) when
// the specs do not load or none has that name.
inline pipeline_spec shipped_spec(std::string_view name) {
  auto all = load_pipelines({});
  if (!all)
    throw std::runtime_error(all.error().describe());
  const auto it = std::find_if(all->begin(), all->end(),
                               [&](const pipeline_spec& p) { return p.name == name; });
  if (it == all->end())
    throw std::runtime_error("no shipped spec named " + std::string(name));
  return *it;
}

}  // namespace etl
