// The transform's hashes against values computed by others: PBKDF2-HMAC-SHA256 against the
// test vectors of RFC 7914 section 11, the stable key against Python's hashlib over the same
// JSON text; and the randomuser spec's fields that use them.
#include <gtest/gtest.h>

#include <algorithm>

#include <boost/json.hpp>

#include "etl/pipelines/hashing.hpp"
#include "etl/pipelines/records.hpp"
#include "etl/pipelines/spec_loader.hpp"
#include "shipped_spec.hpp"

namespace etl {
namespace {

namespace js = boost::json;

TEST(hashing, pbkdf2_matches_rfc_7914) {
  EXPECT_EQ(secret_hash("passwd", "salt", 1),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
  EXPECT_EQ(secret_hash("Password", "NaCl", 80000),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56");
}

TEST(hashing, a_stable_key_is_the_sha256_of_the_values_as_json) {
  // python3 -c "import hashlib,json; print(hashlib.sha256(json.dumps(['a',None,1],
  //   separators=(',',':')).encode()).hexdigest()[:32])"
  const std::vector<js::value> values{js::value("a"), js::value(nullptr), js::value(1)};
  EXPECT_EQ(stable_key(values), "2dcc62c53b98b8e92287b0da6b2bf383");
  // A value's place counts: the same values in another order are another key.
  const std::vector<js::value> swapped{js::value(nullptr), js::value("a"), js::value(1)};
  EXPECT_NE(stable_key(swapped), stable_key(values));
}

const char* user =
    R"({"gender":"female","name":{"title":"Miss","first":"Kolodara","last":"Pryadchenko"},
  "location":{"street":{"number":4048,"name":"Gruzecka "},"city":"Oleksandrivsk","state":"Hmelnicka",
  "country":"Ukraine","postcode":84756,"coordinates":{"latitude":"78.4705","longitude":"-43.9953"},
  "timezone":{"offset":"+5:45","description":"Kathmandu"}},"email":"kolodara.pryadchenko@example.com",
  "login":{"uuid":"1c3fa0a2-8b5e-4f7e-9a51-2d6c1f0e7a10","username":"redcat123","password":"hunter2",
  "salt":"abcdefgh","md5":"x","sha1":"y","sha256":"z"},"dob":{"date":"1989-01-24T01:58:14.293Z","age":33},
  "registered":{"date":"2010-05-01T10:00:00.000Z","age":12},"phone":"(096) Y12-4696","cell":"(098) 123-4567",
  "id":{"name":"","value":null},"picture":{"large":"l","medium":"m","thumbnail":"t"},"nat":"UA"})";

TEST(hashing, randomuser_keys_are_stable_and_its_secrets_hashed) {
  const auto spec = shipped_spec("randomuser");
  ASSERT_TRUE(spec.secrets);
  EXPECT_EQ(spec.secrets->salt_env, "ETL_HASH_SALT");
  const transform_secrets secrets{"pepper", 1000};
  auto value = [&](const js::object& record, const std::string& field) {
    auto r = type_record(record, spec.fields, &secrets);
    if (!r)
      return js::value(r.error().describe());
    const auto at = std::find_if(spec.fields.begin(), spec.fields.end(),
                                 [&](const field_spec& f) { return f.name == field; });
    return r->values.at(static_cast<std::size_t>(at - spec.fields.begin()));
  };
  const auto record = js::parse(user).as_object();
  EXPECT_EQ(value(record, "password_hash"), js::value(secret_hash("hunter2", "pepper", 1000)));
  EXPECT_TRUE(value(record, "id_value_hash").is_null());
  EXPECT_EQ(value(record, "postcode"), js::value("84756"));
  EXPECT_EQ(value(record, "latitude"), js::value(78.4705));
  EXPECT_EQ(value(record, "street_name"), js::value("Gruzecka "));  // as the upstream wrote it
  // The user's key follows login.uuid only; the address's follows the address only.
  auto moved = record;
  moved["email"] = "other@example.com";
  EXPECT_EQ(value(moved, "user_id"), value(record, "user_id"));
  moved["location"].as_object()["city"] = "Kyiv";
  EXPECT_NE(value(moved, "address_id"), value(record, "address_id"));
  EXPECT_EQ(value(moved, "user_id"), value(record, "user_id"));
  // A postcode may be text; coordinates that are not numbers reject the record.
  moved["location"].as_object()["postcode"] = "W4Q 0U0";
  EXPECT_EQ(value(moved, "postcode"), js::value("W4Q 0U0"));
  moved["location"].as_object()["coordinates"].as_object()["latitude"] = "north";
  EXPECT_EQ(value(moved, "latitude"), js::value("latitude: 'north' is not a decimal number"));
}

TEST(hashing, a_secret_field_without_secrets_is_refused_at_load) {
  auto r = parse_pipeline_spec(R"(name: s
source:
  kind: rest
  base_url: {default: "http://127.0.0.1:1"}
  path: /x
  key: id
  paginator: {kind: single}
transform:
  fields:
    id: {type: string}
    pw: {type: string, derive: secret_hash}
sinks:
  - {kind: files, format: csv, folder: s}
)",
                               "s.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().describe(),
            "s.yaml:9:3: transform: fields.pw is a secret_hash: the spec needs secrets: "
            "{salt_env: NAME}");
}

}  // namespace
}  // namespace etl
