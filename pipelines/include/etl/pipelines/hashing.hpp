// The transform's two hashes: a stable key for a record (the same upstream record gets the same
// key on every run, so a re-run updates instead of duplicating) and a salted slow hash for a
// secret (a password, an identity number), so that no clear text reaches a sink. Both are hex
// text. OpenSSL's libcrypto does the work.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace etl {

// 32 hex digits (128 bits) of the SHA-256 of `values` as one JSON array: equal values in the
// same order give the same key; a null is a value like any other, and so is its place.
std::string stable_key(std::span<const boost::json::value> values);

// PBKDF2-HMAC-SHA256 of `secret` with `salt` and `iterations` rounds: 32 bytes as 64 hex
// digits. Throws std::runtime_error if OpenSSL fails (out of memory: a bug to report, not data).
std::string secret_hash(std::string_view secret, std::string_view salt, int iterations);

}  // namespace etl
