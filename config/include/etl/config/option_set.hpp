// A small declarative registry of command-line / environment options. Each binary declares the
// options it uses (an environment variable name, a default, a one-line help and a typed
// parser), then parses its argv and environment once at start-up.
//
// Every option is an environment variable ETL_FOO_BAR and a flag --foo-bar (the name without
// "ETL_", lower case, '_' -> '-'), given as "--foo-bar value" or "--foo-bar=value". A flag wins
// over the environment, the environment over the default. An empty environment variable counts
// as unset. A boolean flag alone ("--hedge") means true. Unknown flags, stray arguments, a flag
// given twice and bad values are errors that name the option; "--help" (or "-h") is reported
// so that the binary prints help_text() and exits 0. Typed options: option_types.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

namespace etl {

using std::chrono::milliseconds;

// A parsed value. Choices, URLs and addresses are kept as their validated text.
using option_value = std::variant<std::string, std::int64_t, bool, milliseconds, double>;

// What a parser says about a bad value, as a phrase that follows the option's name:
// "must be an integer from 1 to 256".
struct value_problem {
  std::string message;
};
[[noreturn]] void throw_exception_from_error(const value_problem& e,
                                             const boost::source_location& loc);
using value_result = boost::system::result<option_value, value_problem>;

struct option_spec {
  std::string name;        // the environment variable, e.g. "ETL_WORKER_PROCESSES"
  std::string help;        // one line
  std::string value_hint;  // how the value looks, in help: "<1..256>", "text|json"
  // The default, as text parsed like any input; nothing: the option is unset unless given.
  std::optional<std::string> default_text;
  bool is_bool = false;  // may be given as a bare flag ("--hedge" means true)
  bool secret = false;   // its value is never shown: not in help, not in error messages
  std::function<value_result(std::string_view)> parse;
};

enum class option_error_kind {
  help_requested,       // not a mistake: print help_text() and exit 0
  unknown_flag,         // a --flag no declared option has
  missing_value,        // a flag at the end of argv, or followed by another flag
  invalid_value,        // a value its parser rejected, or settings that contradict each other
  unexpected_argument,  // a word that is not a flag, or a flag given twice
};

struct option_error {
  option_error_kind kind = option_error_kind::invalid_value;
  std::string option;   // the variable ("ETL_LISTEN") or the flag as typed ("--bogus")
  std::string message;  // one line for the operator, naming the option and what is wrong
};
// Thrown only when a caller asks a failed result for its value: a bug.
[[noreturn]] void throw_exception_from_error(const option_error& e,
                                             const boost::source_location& loc);

enum class value_source { default_value, environment, flag };

// The parsed options of one binary. Reading an option that was not declared is allowed (it has
// no value, see find); asking for the wrong type is a bug and throws std::logic_error.
class option_values {
 public:
  // True when `name` was declared in the option_set that produced these values.
  bool declared(std::string_view name) const noexcept;

  // The value of `name` when it is declared and set (by its default, the environment or a
  // flag). Throws std::logic_error when the value has another type than T.
  template <class T>
  std::optional<T> find(std::string_view name) const {
    const option_value* v = lookup(name);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (const T* typed = std::get_if<T>(v)) {
      return *typed;
    }
    throw std::logic_error("option " + std::string(name) + " read with the wrong type");
  }

  // The value of `name`; throws std::logic_error when it is undeclared, unset or of another
  // type (all bugs: declare a default for options a binary cannot do without).
  template <class T>
  T get(std::string_view name) const {
    if (auto v = find<T>(name)) {
      return *v;
    }
    throw std::logic_error("option " + std::string(name) + " is not declared or has no value");
  }

  // Where the value came from; value_source::default_value for undeclared or unset options.
  value_source source(std::string_view name) const noexcept;

  // How to name the option in a message: "--post-timeout (ETL_POST_TIMEOUT)" when a flag gave
  // it, else the variable's name.
  std::string label(std::string_view name) const;

 private:
  friend class option_set;
  struct entry {
    std::optional<option_value> value;
    value_source source = value_source::default_value;
  };
  const option_value* lookup(std::string_view name) const noexcept;

  std::map<std::string, entry, std::less<>> entries_;
};

// Reads one environment variable; nothing when it is not set.
using env_lookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (std::getenv). Start-up only: getenv races with setenv.
std::optional<std::string> process_environment(const std::string& name);

// The flag of an option: "ETL_WORKER_PROCESSES" -> "--worker-processes".
std::string flag_name(std::string_view option_name);

class option_set {
 public:
  // Declares an option. Throws std::logic_error (a bug) for a name declared twice, a name that
  // is not an upper-case variable name, a missing parser, or a default its parser rejects.
  option_set& add(option_spec spec);

  bool contains(std::string_view name) const noexcept;
  const std::vector<option_spec>& specs() const noexcept { return specs_; }

  // Parses `args` (the arguments after the program name) and the environment through `env`.
  // Fails with an option_error: help_requested, unknown_flag, missing_value, invalid_value or
  // unexpected_argument, its message naming the flag or variable and the bad value.
  boost::system::result<option_values, option_error> parse(const std::vector<std::string>& args,
                                                           const env_lookup& env) const;
  // The same with main()'s argc/argv (argv[0] is the program and is skipped).
  boost::system::result<option_values, option_error> parse(int argc, const char* const* argv,
                                                           const env_lookup& env) const;

  // The --help text: usage, then every option with its flag, variable, value hint, default
  // (never a secret's) and help line, then how durations and booleans are written.
  std::string help_text(std::string_view program, std::string_view summary) const;

 private:
  const option_spec* find_flag(std::string_view flag) const noexcept;

  std::vector<option_spec> specs_;
};

// For main(): parses argv and the process environment. On --help prints help_text() to stdout
// and exits 0; on any other error prints "<program>: <message>" to stderr and exits 2.
option_values parse_or_exit(const option_set& options, int argc, const char* const* argv,
                            std::string_view summary);

}  // namespace etl
