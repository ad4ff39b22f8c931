// Reads pipeline specs (YAML, or JSON, which is YAML too) and refuses a bad one with its file,
// line and field: an unknown key or kind, a missing or mistyped field, a placeholder that names
// nothing, a name that is not snake_case, two specs with one name. The server and the workers
// load every spec at start-up and stop when one is bad, so a mistake never reaches a task.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "etl/pipelines/spec.hpp"

namespace etl {

// What is wrong with a spec, and where.
struct spec_error {
  std::string file;
  int line = 0;       // 1-based; 0 when the file could not be read at all
  int column = 0;     // 1-based
  std::string field;  // the dotted path of the field, e.g. "source.paginator.kind"
  std::string message;

  // "file:line:column: field: message", for logs and start-up errors.
  std::string describe() const;
};

using spec_result = boost::system::result<pipeline_spec, spec_error>;

[[noreturn]] void throw_exception_from_error(const spec_error& e,
                                             const boost::source_location& loc);

// Parses and validates one spec's text; `file` names it in errors.
spec_result parse_pipeline_spec(std::string_view text, const std::string& file);

// Reads and validates the spec in `path`.
spec_result load_pipeline_spec(const std::filesystem::path& path);

using specs_result = boost::system::result<std::vector<pipeline_spec>, spec_error>;

// Every spec (*.yaml, *.yml, *.json) in `dirs`, in order, sorted by file name within a folder.
// Fails with the first bad spec, a folder that cannot be read, or a name two specs share.
specs_result load_pipeline_specs(const std::vector<std::filesystem::path>& dirs);

// A spec file compiled into the binaries (pipelines/specs/ at build time).
struct shipped_spec {
  std::string_view file;  // "pipelines/specs/animals.yaml"
  std::string_view text;
};
std::span<const shipped_spec> shipped_pipeline_specs() noexcept;

// The pipelines a binary runs: the shipped specs, then those in `user_dirs` (ETL_PIPELINES_DIR).
// Fails as load_pipeline_specs, a user's spec that takes a shipped name included.
specs_result load_pipelines(const std::vector<std::filesystem::path>& user_dirs);

// load_pipelines at a binary's start: the shipped specs and ETL_PIPELINES_DIR's (`user_dir`,
// empty: none). Logs the pipelines it loaded, or the bad spec's file, line, field and why.
specs_result load_pipelines_at_start(const std::string& user_dir);

}  // namespace etl
