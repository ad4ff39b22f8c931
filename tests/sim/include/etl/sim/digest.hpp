// Hex digests for simulated records (randomuser's login.md5/sha1/sha256 of password + salt):
// small self-contained MD5, SHA-1 and SHA-256, so the simulators need no crypto library.
// Not for security: simulated data only.
#pragma once

#include <string>
#include <string_view>

namespace etl {

// Lowercase hex digest of `data`: 32, 40 and 64 characters.
std::string sim_md5_hex(std::string_view data);
std::string sim_sha1_hex(std::string_view data);
std::string sim_sha256_hex(std::string_view data);

}  // namespace etl
