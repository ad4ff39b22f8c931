#include "etl/config/option_set.hpp"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <utility>

namespace etl {
namespace {

constexpr std::string_view flag_prefix = "--";

bool is_variable_name(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) {
    return false;
  }
  for (const char c : name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

std::string shown_value(const option_spec& spec, std::string_view raw) {
  return spec.secret ? std::string("a value that is not shown") : "'" + std::string(raw) + "'";
}

option_error make_error(option_error_kind kind, std::string option, std::string message) {
  return option_error{kind, std::move(option), std::move(message)};
}

// Appends `text` folded at spaces so that no line passes `width`, each line indented.
void append_wrapped(std::string& out, std::string_view text, std::size_t indent,
                    std::size_t width) {
  std::size_t column = indent;
  out.append(indent, ' ');
  bool first = true;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    if (!first && column + 1 + word.size() > width) {
      out += '\n';
      out.append(indent, ' ');
      column = indent;
      first = true;
    }
    if (!first) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    first = false;
  }
  out += '\n';
}

}  // namespace

void throw_exception_from_error(const value_problem& e, const boost::source_location&) {
  throw std::invalid_argument(e.message);
}

void throw_exception_from_error(const option_error& e, const boost::source_location&) {
  throw std::invalid_argument(e.message);
}

bool option_values::declared(std::string_view name) const noexcept {
  return entries_.find(name) != entries_.end();
}

const option_value* option_values::lookup(std::string_view name) const noexcept {
  const auto it = entries_.find(name);
  if (it == entries_.end() || !it->second.value) {
    return nullptr;
  }
  return &*it->second.value;
}

value_source option_values::source(std::string_view name) const noexcept {
  const auto it = entries_.find(name);
  return it == entries_.end() ? value_source::default_value : it->second.source;
}

std::string option_values::label(std::string_view name) const {
  if (source(name) == value_source::flag) {
    return flag_name(name) + " (" + std::string(name) + ")";
  }
  return std::string(name);
}

std::optional<std::string> process_environment(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) {
    return std::nullopt;
  }
  return std::string(v);
}

std::string flag_name(std::string_view option_name) {
  if (option_name.starts_with("ETL_")) {
    option_name.remove_prefix(4);
  }
  std::string out(flag_prefix);
  for (const char c : option_name) {
    if (c == '_') {
      out += '-';
    } else if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

option_set& option_set::add(option_spec spec) {
  if (!is_variable_name(spec.name)) {
    throw std::logic_error("option name '" + spec.name + "' is not an upper-case variable name");
  }
  if (contains(spec.name) || find_flag(flag_name(spec.name)) != nullptr) {
    throw std::logic_error("option " + spec.name + " declared twice");
  }
  if (!spec.parse) {
    throw std::logic_error("option " + spec.name + " has no parser");
  }
  if (spec.default_text) {
    if (auto r = spec.parse(*spec.default_text); !r) {
      throw std::logic_error("default of " + spec.name + " " + r.error().message);
    }
  }
  specs_.push_back(std::move(spec));
  return *this;
}

bool option_set::contains(std::string_view name) const noexcept {
  for (const auto& s : specs_) {
    if (s.name == name) {
      return true;
    }
  }
  return false;
}

const option_spec* option_set::find_flag(std::string_view flag) const noexcept {
  for (const auto& s : specs_) {
    if (flag_name(s.name) == flag) {
      return &s;
    }
  }
  return nullptr;
}

boost::system::result<option_values, option_error> option_set::parse(int argc,
                                                                     const char* const* argv,
                                                                     const env_lookup& env) const {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    args.emplace_back(argv[i]);
  }
  return parse(args, env);
}

boost::system::result<option_values, option_error> option_set::parse(
    const std::vector<std::string>& args, const env_lookup& env) const {
  // --help wins over every mistake around it: someone asking for help gets it.
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      return make_error(option_error_kind::help_requested, a, "help requested");
    }
  }

  // What the command line gave, by option name; nothing means "unset it" (an empty value for an
  // option without a default).
  std::map<std::string, std::optional<std::string>, std::less<>> given;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with(flag_prefix) || arg.size() == flag_prefix.size()) {
      return make_error(option_error_kind::unexpected_argument, arg,
                        "unexpected argument '" + arg +
                            "': options are written --name value or --name=value (see --help)");
    }
    const auto eq = arg.find('=');
    const std::string flag = arg.substr(0, eq);
    const option_spec* spec = find_flag(flag);
    if (spec == nullptr) {
      return make_error(option_error_kind::unknown_flag, flag,
                        "unknown option " + flag + " (see --help)");
    }
    const std::string label = flag + " (" + spec->name + ")";
    if (given.contains(spec->name)) {
      return make_error(option_error_kind::unexpected_argument, spec->name,
                        label + ": given more than once");
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (spec->is_bool) {
      // A bare boolean flag means true; it takes the next word only when that is a boolean.
      const bool next_is_bool = i + 1 < args.size() && spec->parse(args[i + 1]).has_value();
      value = next_is_bool ? args[++i] : "true";
    } else if (i + 1 < args.size() && !args[i + 1].starts_with(flag_prefix)) {
      value = args[++i];
    } else {
      return make_error(option_error_kind::missing_value, spec->name,
                        label + ": needs a value (" + flag + " " + spec->value_hint + ")");
    }
    if (value.empty()) {
      if (spec->default_text) {
        return make_error(option_error_kind::missing_value, spec->name,
                          label + ": needs a value (" + flag + " " + spec->value_hint + ")");
      }
      given.emplace(spec->name, std::nullopt);
      continue;
    }
    given.emplace(spec->name, std::move(value));
  }

  option_values out;
  for (const auto& spec : specs_) {
    option_values::entry e;
    std::optional<std::string> raw;
    std::string label = spec.name;
    if (const auto it = given.find(spec.name); it != given.end()) {
      e.source = value_source::flag;
      raw = it->second;
      label = flag_name(spec.name) + " (" + spec.name + ")";
    } else if (auto from_env = env ? env(spec.name) : std::nullopt;
               from_env && !from_env->empty()) {
      e.source = value_source::environment;
      raw = std::move(from_env);
    } else {
      e.source = value_source::default_value;
      raw = spec.default_text;
    }
    if (raw) {
      auto parsed = spec.parse(*raw);
      if (!parsed) {
        return make_error(
            option_error_kind::invalid_value, spec.name,
            label + ": " + parsed.error().message + ", got " + shown_value(spec, *raw));
      }
      e.value = std::move(*parsed);
    }
    out.entries_.emplace(spec.name, std::move(e));
  }
  return out;
}

std::string option_set::help_text(std::string_view program, std::string_view summary) const {
  constexpr std::size_t width = 100;
  std::string out;
  out += std::string(program) + ": " + std::string(summary) + "\n\n";
  out += "Usage: " + std::string(program) + " [--option value | --option=value]...\n\n";
  append_wrapped(out,
                 "Options. Each is also read from the environment variable shown beside it; a "
                 "flag wins over the variable, the variable over the default. An empty variable "
                 "counts as unset.",
                 0, width);
  out += '\n';
  bool any_duration = false;
  bool any_bool = false;
  for (const auto& spec : specs_) {
    const std::string flag = flag_name(spec.name);
    std::string head = "  " + flag + " " + spec.value_hint;
    head += head.size() < 44 ? std::string(44 - head.size(), ' ') : std::string(" ");
    out += head + spec.name + "\n";
    std::string text = spec.help;
    if (spec.secret) {
      text += " (default: unset; the value is never shown)";
    } else if (spec.default_text) {
      text += " (default: " + *spec.default_text + ")";
    } else {
      text += " (default: unset)";
    }
    append_wrapped(out, text, 6, width);
    any_duration = any_duration || spec.value_hint == "<duration>";
    any_bool = any_bool || spec.is_bool;
  }
  out += "  -h, --help\n";
  append_wrapped(out, "print this help and exit", 6, width);
  out += '\n';
  if (any_duration) {
    append_wrapped(out,
                   "Durations are a whole number with a unit: ms, s, m or h (250ms, 20s, 2m, "
                   "1h); 0 needs none.",
                   0, width);
  }
  if (any_bool) {
    append_wrapped(out,
                   "Booleans are true/false, 1/0 or yes/no; a boolean flag alone (--flag) means "
                   "true.",
                   0, width);
  }
  return out;
}

option_values parse_or_exit(const option_set& options, int argc, const char* const* argv,
                            std::string_view summary) {
  const std::string program = argc > 0 ? argv[0] : "etl";
  const std::string name = program.substr(program.find_last_of('/') + 1);
  auto r = options.parse(argc, argv, process_environment);
  if (r) {
    return std::move(*r);
  }
  if (r.error().kind == option_error_kind::help_requested) {
    std::fputs(options.help_text(name, summary).c_str(), stdout);
    std::exit(0);
  }
  std::fprintf(stderr, "%s: %s\n", name.c_str(), r.error().message.c_str());
  std::exit(2);
}

}  // namespace etl
