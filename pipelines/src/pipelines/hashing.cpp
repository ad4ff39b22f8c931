#include "etl/pipelines/hashing.hpp"

#include <array>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace etl {
namespace {

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string stable_key(std::span<const boost::json::value> values) {
  // Boost.JSON writes a value one way only (keys in their order, no spaces): the text is a
  // canonical form of the values for this purpose.
  const auto text = boost::json::serialize(boost::json::array(values.begin(), values.end()));
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return hex(digest.data(), 16);
}

std::string secret_hash(std::string_view secret, std::string_view salt, int iterations) {
  std::array<unsigned char, 32> out{};
  if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(out.size()), out.data()) != 1)
    throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  return hex(out.data(), out.size());
}

}  // namespace etl
