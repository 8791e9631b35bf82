// Known answers for OLPC canonical JSON: securesystemslib's own test vectors, key ids that
// securesystemslib computed for python-tuf's test repository, and the rules (no floats, raw
// bytes, keys sorted by UTF-8 bytes) one case at a time.
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/sha256.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace json = ecluse::json;
using json::Json;

namespace {

std::string canon(const Json& v) {
  auto out = json::canonical(v);
  REQUIRE(out.has_value());
  return *out;
}

std::string canon_text(const std::string& text) {
  auto parsed = json::parse_strict(text);
  REQUIRE(parsed.failure == json::ParseFailure::none);
  return canon(parsed.value);
}

}  // namespace

TEST_CASE("json::canonical refuses values that have no canonical form") {
  SUBCASE("a float") {
    CHECK_FALSE(json::canonical(Json(8.0)).has_value());
  }
  SUBCASE("a float inside an object") {
    CHECK_FALSE(json::canonical(Json{{"x", 8.0}}).has_value());
  }
  SUBCASE("a float deep inside an array") {
    CHECK_FALSE(json::canonical(Json{{"a", Json::array({1, Json::array({2, 0.5})})}}).has_value());
  }
  SUBCASE("a float parsed from text, even with an integral value") {
    auto parsed = json::parse_strict(R"({"version": 1.0})");
    REQUIRE(parsed.failure == json::ParseFailure::none);
    CHECK_FALSE(json::canonical(parsed.value).has_value());
  }
  SUBCASE("a binary value") {
    CHECK_FALSE(json::canonical(Json::binary({1, 2, 3})).has_value());
  }
}

// securesystemslib tests/test_formats.py, test_encode_canonical.
TEST_CASE("json::canonical matches securesystemslib's encode_canonical vectors") {
  CHECK(canon(Json("")) == R"("")");
  CHECK(canon(Json::array({1, 2, 3})) == "[1,2,3]");
  CHECK(canon(Json::array()) == "[]");
  CHECK(canon(Json::object()) == "{}");
  CHECK(canon(Json{{"A", Json::array({99})}}) == R"({"A":[99]})");
  CHECK(canon(Json{{"A", true}}) == R"({"A":true})");
  CHECK(canon(Json{{"B", false}}) == R"({"B":false})");
  CHECK(canon(Json{{"x", 3}, {"y", 2}}) == R"({"x":3,"y":2})");
  CHECK(canon(Json{{"x", 3}, {"y", nullptr}}) == R"({"x":3,"y":null})");
  CHECK(canon(Json("\"")) == R"("\"")");
  CHECK(canon(Json("\\")) == R"("\\")");
  CHECK(canon(Json("\\\"")) == R"("\\\"")");
}

// python-tuf tests/repository_data/repository/metadata/1.root.json: its key ids are the
// SHA-256 of securesystemslib's canonical JSON of each key object.
TEST_CASE("json::canonical reproduces key ids securesystemslib computed") {
  const auto key_id = [](const std::string& text) {
    return ecluse::crypto::sha256(canon_text(text)).value().hex();
  };
  SUBCASE("an ed25519 key") {
    CHECK(key_id(R"({"keyid_hash_algorithms": ["sha256", "sha512"], "keytype": "ed25519",
      "keyval": {"public": "e8bd29d20025d3ac755a27b8d8efe185e368244000d9d3b76e32afb968cb0ea8"}})")
          == "182216b8800c50ddf000043b31ddf90d815c754ab4e0b31a5952a839b371bed9");
  }
  SUBCASE("an RSA key: the PEM's newlines are written as raw bytes") {
    const std::string pem =
        R"(-----BEGIN PUBLIC KEY-----\nMIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEAsDqUoiFJZX+5gm5pyI1l\n)"
        R"(Vc/N3yjJVOIl9GyiK0mRyzV3IzUQzhjq8nhk0eLfzXw2XwIAYOJC6dR/tGRG4JDx\n)"
        R"(Jkez5FFH4zLosr/XzT7CG5zxJ3kKICLD1v9rZQr5ZgARQDOpkxzPz46rGnE0sHd7\n)"
        R"(MpnpPMScA1pMIzwM1RoPS4ntZipI1cl9M7HMQ6mkBp8/DNKCqaDWixJqaGgWrhhK\n)"
        R"(hI/1mzBliMKriNxPKSCGVlOk/QpZft+y1fs42s0DMd5BOFBo+ZcoXLYRncg9S3A2\n)"
        R"(xx/jT69Bt3ceiAZqnp7f6M+ZzoUifSelaoL7QIYg/GkEl+0oxTD0yRphGiCKwn9c\n)"
        R"(pSbn7NgnbjqSgIMeEtlf/5Coyrs26pyFf/9GbusddPSxxxwIJ/7IJuF7P1Yy0WpZ\n)"
        R"(kMeY83h9n2IdnEYi+rpdbLJPQd7Fpu2xrdA3Fokj8AvCpcmxn8NIXZuK++r8/xsE\n)"
        R"(AUL30HH7dgVn50AvdPaJnqAORT3OlabW0DK9prcwKnyzAgMBAAE=\n-----END PUBLIC KEY-----)";
    CHECK(key_id(R"({"keyid_hash_algorithms": ["sha256", "sha512"], "keytype": "rsa",
      "keyval": {"public": ")"
                 + pem + R"("}})")
          == "5602f4df0cd26b2112f0833b1ce8d5fcbb595754961d3a04f37b9815e2ced503");
  }
}

TEST_CASE("json::canonical writes strings with only quote and backslash escaped") {
  SUBCASE("control characters stay raw") {
    CHECK(canon(Json("a\nb\tc\r\x01")) == "\"a\nb\tc\r\x01\"");
  }
  SUBCASE("a parsed \\u escape becomes its raw UTF-8 bytes") {
    CHECK(canon_text(R"("caf\u00e9 \ud83d\udca9")") == "\"caf\xc3\xa9 \xf0\x9f\x92\xa9\"");
  }
  SUBCASE("U+2028 and U+2029 stay raw") {
    CHECK(canon(Json("\xe2\x80\xa8 \xe2\x80\xa9")) == "\"\xe2\x80\xa8 \xe2\x80\xa9\"");
  }
  SUBCASE("a backslash before u1234 is escaped, not read as an escape") {
    CHECK(canon(Json("\\u1234")) == R"("\\u1234")");
  }
  SUBCASE("a slash is not escaped") {
    CHECK(canon(Json("a/b")) == R"("a/b")");
  }
  SUBCASE("escapes in keys too") {
    CHECK(canon(Json{{"k\"\\", 1}}) == R"({"k\"\\":1})");
  }
}

TEST_CASE("json::canonical sorts object keys by their UTF-8 bytes") {
  SUBCASE("ASCII: upper case before lower case, shorter prefix first") {
    CHECK(canon(Json{{"b", 1}, {"a", 2}, {"B", 3}, {"ab", 4}}) == R"({"B":3,"a":2,"ab":4,"b":1})");
  }
  SUBCASE("non-ASCII after ASCII") {
    CHECK(canon(Json{{"\xc3\xa9", 1}, {"z", 2}}) == "{\"z\":2,\"\xc3\xa9\":1}");
  }
  SUBCASE("U+FFFD before U+1F4A9 (UTF-8 byte order, not UTF-16 order)") {
    CHECK(canon(Json{{"\xf0\x9f\x92\xa9", 1}, {"\xef\xbf\xbd", 2}})
          == "{\"\xef\xbf\xbd\":2,\"\xf0\x9f\x92\xa9\":1}");
  }
}

TEST_CASE("json::canonical writes integers, booleans, null and nesting without whitespace") {
  SUBCASE("negative and extreme integers") {
    CHECK(canon(Json::array({-1, 0, -9007199254740993LL})) == "[-1,0,-9007199254740993]");
    CHECK(canon(Json(std::numeric_limits<std::uint64_t>::max())) == "18446744073709551615");
    CHECK(canon(Json(std::numeric_limits<std::int64_t>::min())) == "-9223372036854775808");
  }
  SUBCASE("booleans and null") {
    CHECK(canon(Json::array({true, false, nullptr})) == "[true,false,null]");
  }
  SUBCASE("nested objects and arrays, arrays keep their order") {
    const std::string text = R"({
      "signed": {"_type": "targets", "version": 2,
                 "targets": {"b/x": {"length": 3, "hashes": {"sha256": "ab"}, "custom": {}},
                             "a": {"length": 0, "hashes": {}}}},
      "signatures": [{"sig": "02", "keyid": "k2"}, {"keyid": "k1", "sig": "01"}]
    })";
    CHECK(canon_text(text)
          == R"({"signatures":[{"keyid":"k2","sig":"02"},{"keyid":"k1","sig":"01"}],)"
             R"("signed":{"_type":"targets","targets":{"a":{"hashes":{},"length":0},)"
             R"("b/x":{"custom":{},"hashes":{"sha256":"ab"},"length":3}},"version":2}})");
  }
  SUBCASE("the same value parsed from differently spaced text") {
    CHECK(canon_text("{ \"a\" : [ 1 , { \"b\" : null } ] }") == R"({"a":[1,{"b":null}]})");
  }
}
