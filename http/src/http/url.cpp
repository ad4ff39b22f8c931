#include "etl/http/url.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include <boost/asio/ip/address_v6.hpp>

#include "etl/core/error.hpp"

namespace etl {
namespace {

struct scheme_info {
  std::string_view name;
  std::uint16_t default_port;
};

constexpr std::array<scheme_info, 4> supported_schemes{{
    {"http", 80},
    {"redis", 6379},
    {"postgresql", 5432},
    {"postgres", 5432},
}};

// Records the reason and returns the error every parse failure shares.
error_code fail(std::string* why, std::string reason) {
  if (why != nullptr) {
    *why = std::move(reason);
  }
  return errc::invalid_url;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) {
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

int hex_value(char c) {
  if (is_digit(c)) {
    return c - '0';
  }
  return to_lower(c) - 'a' + 10;
}

// Spaces and control or non-ASCII bytes are never valid anywhere in a URL; say which and where,
// since a stray space from a shell variable is the most common typo.
std::optional<std::string> find_invalid_byte(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b == ' ') {
      return "contains a space at position " + std::to_string(i + 1);
    }
    if (b < 0x20 || b >= 0x7f) {
      return "contains a control or non-ASCII byte at position " + std::to_string(i + 1) +
             " (percent-encode it)";
    }
  }
  return std::nullopt;
}

// Checks that every character of a URL part is allowed there (RFC 3986 sets) and that every
// '%' starts a two-digit hex escape. `extra` lists the delimiters allowed in this part.
std::optional<std::string> check_part(std::string_view part, std::string_view what,
                                      std::string_view extra) {
  for (std::size_t i = 0; i < part.size(); ++i) {
    const char c = part[i];
    if (c == '%') {
      if (i + 2 >= part.size() || !is_hex(part[i + 1]) || !is_hex(part[i + 2])) {
        return "bad percent-escape in the " + std::string(what) + " (expected %XX)";
      }
      i += 2;
      continue;
    }
    if (is_unreserved(c) || is_sub_delim(c) || extra.find(c) != std::string_view::npos) {
      continue;
    }
    return "character '" + std::string(1, c) + "' in the " + std::string(what) +
           " must be percent-encoded";
  }
  return std::nullopt;
}

std::string percent_decode(std::string_view part) {
  std::string out;
  out.reserve(part.size());
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (part[i] == '%') {
      out.push_back(static_cast<char>(hex_value(part[i + 1]) * 16 + hex_value(part[i + 2])));
      i += 2;
    } else {
      out.push_back(part[i]);
    }
  }
  return out;
}

// A port: decimal digits only, within [min_port, 65535].
std::optional<std::uint16_t> parse_port(std::string_view text, unsigned min_port,
                                        std::string* why) {
  if (text.empty()) {
    fail(why, "empty port after ':'");
    return std::nullopt;
  }
  for (const char c : text) {
    if (!is_digit(c)) {
      fail(why, "port '" + std::string(text) + "' is not a number");
      return std::nullopt;
    }
  }
  unsigned long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min_port || value > 65535) {
    fail(why,
         "port " + std::string(text) + " is out of range (" + std::to_string(min_port) + "-65535)");
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// A host as written between "//" (or the start of a listen address) and its port: either an
// IPv6 literal in brackets or a name / IPv4 address. Returns the host without brackets, and
// the rest of `text` after it.
std::optional<std::pair<std::string, std::string_view>> split_host(std::string_view text,
                                                                   std::string* why) {
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      fail(why, "IPv6 address without its closing ']'");
      return std::nullopt;
    }
    const std::string literal(text.substr(1, close - 1));
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(literal, ec);
    if (ec || literal.find('%') != std::string::npos) {
      fail(why, "'" + literal + "' is not an IPv6 address");
      return std::nullopt;
    }
    return std::pair{literal, text.substr(close + 1)};
  }
  const auto colon = text.find(':');
  const std::string_view host = text.substr(0, colon);
  if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
    fail(why, "IPv6 addresses go in brackets, e.g. [::1]:8000");
    return std::nullopt;
  }
  for (const char c : host) {
    if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_') {
      fail(why, "character '" + std::string(1, c) + "' is not allowed in a host name");
      return std::nullopt;
    }
  }
  return std::pair{std::string(host), text.substr(host.size())};
}

bool needs_brackets(const std::string& host) {
  return host.find(':') != std::string::npos;
}

std::string host_and_port(const std::string& host, std::uint16_t port) {
  std::string out = needs_brackets(host) ? "[" + host + "]" : host;
  return out + ":" + std::to_string(port);
}

}  // namespace

std::string url::origin() const {
  return scheme + "://" + host_and_port(host, port);
}

std::string url::redacted() const {
  std::string out = scheme + "://";
  if (!user.empty() || !password.empty()) {
    out += user;
    if (!password.empty()) {
      out += ":***";
    }
    out += "@";
  }
  return out + host_and_port(host, port) + target;
}

result<url> parse_url(std::string_view text, std::string* why) {
  if (text.empty()) {
    return fail(why, "empty URL");
  }
  if (auto bad = find_invalid_byte(text)) {
    return fail(why, *bad);
  }
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0 || !is_alpha(text.front())) {
    return fail(why, "no scheme: expected an absolute URL such as http://host:port/path");
  }
  url out;
  for (const char c : text.substr(0, sep)) {
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') {
      return fail(why, "no scheme: expected an absolute URL such as http://host:port/path");
    }
    out.scheme.push_back(to_lower(c));
  }
  if (out.scheme == "https") {
    return fail(why, "https is not supported: this service has no TLS, use http://");
  }
  const auto known = std::find_if(supported_schemes.begin(), supported_schemes.end(),
                                  [&](const scheme_info& s) { return s.name == out.scheme; });
  if (known == supported_schemes.end()) {
    return fail(why, "unsupported scheme '" + out.scheme +
                         "' (expected http, redis, postgresql or postgres)");
  }

  std::string_view rest = text.substr(sep + 3);
  const auto authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  // The last '@' ends the user info, so a stray '@' in a password is reported as one to encode
  // rather than taken for the host.
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    if (auto bad = check_part(userinfo, "user or password", ":")) {
      return fail(why, *bad);
    }
    const auto colon = userinfo.find(':');
    out.user = percent_decode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) {
      out.password = percent_decode(userinfo.substr(colon + 1));
    }
  }

  auto host = split_host(authority, why);
  if (!host) {
    return errc::invalid_url;
  }
  out.host = std::move(host->first);
  if (out.host.empty()) {
    return fail(why, "empty host");
  }
  const std::string_view after_host = host->second;
  if (after_host.empty()) {
    out.port = known->default_port;
  } else if (after_host.front() != ':') {
    return fail(why, "unexpected '" + std::string(after_host) + "' after the host");
  } else {
    auto port = parse_port(after_host.substr(1), 1, why);
    if (!port) {
      return errc::invalid_url;
    }
    out.port = *port;
  }

  const auto fragment = rest.find('#');
  if (fragment != std::string_view::npos) {
    if (auto bad = check_part(rest.substr(fragment + 1), "fragment", ":@/?")) {
      return fail(why, *bad);
    }
    rest = rest.substr(0, fragment);
  }
  if (auto bad = check_part(rest, "path or query", ":@/?")) {
    return fail(why, *bad);
  }
  out.target = rest.empty() || rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
  return out;
}

result<std::pair<std::string, std::uint16_t>> parse_host_port(std::string_view text,
                                                              std::string* why) {
  if (text.empty()) {
    return fail(why, "empty address: expected host:port such as 127.0.0.1:8000");
  }
  if (auto bad = find_invalid_byte(text)) {
    return fail(why, *bad);
  }
  if (text.find("://") != std::string_view::npos) {
    return fail(why, "expected host:port such as 127.0.0.1:8000, not a URL");
  }
  auto host = split_host(text, why);
  if (!host) {
    return errc::invalid_url;
  }
  const std::string_view after_host = host->second;
  if (after_host.empty()) {
    return fail(why, "missing port: expected host:port such as 127.0.0.1:8000");
  }
  if (after_host.front() != ':') {
    return fail(why, "unexpected '" + std::string(after_host) + "' after the host");
  }
  auto port = parse_port(after_host.substr(1), 0, why);
  if (!port) {
    return errc::invalid_url;
  }
  std::string name = host->first.empty() ? std::string("0.0.0.0") : std::move(host->first);
  return std::pair{std::move(name), *port};
}

std::string percent_encode(std::string_view text, std::string_view safe) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
        safe.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string redact_query(std::string_view target, const std::vector<std::string>& secret_names) {
  const auto q = target.find('?');
  if (q == std::string_view::npos || secret_names.empty())
    return std::string(target);
  std::string out(target.substr(0, q + 1));
  std::string_view rest = target.substr(q + 1);
  // Each `name=value` pair in turn; a fragment cannot occur in a request target.
  for (;;) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    const auto name = pair.substr(0, pair.find('='));
    const bool secret = std::any_of(secret_names.begin(), secret_names.end(), [&](const auto& s) {
      return name == s || name == percent_encode(s, "-._~");
    });
    if (secret)
      out.append(name).append("=***");
    else
      out += pair;
    if (amp == std::string_view::npos)
      break;
    out += '&';
    rest = rest.substr(amp + 1);
  }
  return out;
}

}  // namespace etl
