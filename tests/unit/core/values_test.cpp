// Versions, timestamps, strict JSON and SHA-256 known answers.
#include <ecluse/core/clock.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/core/version.hpp>
#include <ecluse/crypto/sha256.hpp>

#include <doctest/doctest.h>

using ecluse::Version;

TEST_CASE("core::Version::parse rejects malformed versions") {
  for (const char* bad : {"",
                          "v1",
                          "1.",
                          ".1",
                          "1..2",
                          "01.2",
                          "1.2.3.4.5",
                          "1.2-",
                          "1.2-a..b",
                          "1.2-01",
                          "1.2+build",
                          "1 .2",
                          "1234567890",
                          "-1",
                          "1.2-ü"}) {
    CAPTURE(bad);
    CHECK_FALSE(Version::parse(bad).has_value());
  }
}

TEST_CASE("core::Version orders by semver precedence") {
  const auto v = [](const char* s) {
    return Version::parse(s).value();
  };
  CHECK(v("1.2.3") < v("1.2.10"));
  CHECK(v("1.2") == v("1.2.0"));
  CHECK(v("2") > v("1.99.99.99"));
  CHECK(v("1.0.0-rc.1") < v("1.0.0"));
  CHECK(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
  CHECK(v("1.0.0-alpha.2") < v("1.0.0-alpha.10"));
  CHECK(v("1.0.0-2") < v("1.0.0-alpha"));
  CHECK(v("16.0.17928.20114").text() == "16.0.17928.20114");
}

TEST_CASE("core::parse_utc accepts only YYYY-MM-DDTHH:MM:SSZ with a real date") {
  CHECK(ecluse::format_utc(ecluse::parse_utc("2026-02-28T23:59:59Z").value())
        == "2026-02-28T23:59:59Z");
  for (const char* bad : {"2026-02-29T00:00:00Z",
                          "2026-13-01T00:00:00Z",
                          "2026-11-23T24:00:00Z",
                          "2026-11-23 12:00:00Z",
                          "2026-11-23T12:00:00+01:00",
                          "2026-11-23T12:00:00.5Z",
                          "2026-11-23",
                          "",
                          "2026-1a-23T12:00:00Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(ecluse::parse_utc(bad).has_value());
  }
}

TEST_CASE("json::parse_strict refuses duplicate keys at any depth and malformed input") {
  using ecluse::json::ParseFailure;
  CHECK(ecluse::json::parse_strict(R"({"a":1,"b":{"c":1,"c":2}})").failure
        == ParseFailure::duplicate_key);
  CHECK(ecluse::json::parse_strict(R"({"a":1,"a":1})").detail == "a");
  CHECK(ecluse::json::parse_strict(R"([{"a":1},{"a":2}])").failure == ParseFailure::none);
  CHECK(ecluse::json::parse_strict("{\"a\":\"\xff\"}").failure == ParseFailure::malformed);
  CHECK(ecluse::json::parse_strict("{\"a\":1").failure == ParseFailure::malformed);
  CHECK(ecluse::json::parse_strict("").failure == ParseFailure::malformed);
}

TEST_CASE("json::dump_line keeps an entry on one ASCII line whatever its strings hold") {
  const ecluse::json::Json j{{"name", "evil\n{\"seq\":2}\r\u2028\xc3\xa9"}};
  const auto line = ecluse::json::dump_line(j);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find('\r') == std::string::npos);
  for (const char c : line) {
    CHECK(static_cast<unsigned char>(c) < 0x80);
  }
  CHECK(ecluse::json::parse_strict(line).value == j);
}

TEST_CASE("crypto::sha256 matches the FIPS 180-2 known answers") {
  CHECK(ecluse::crypto::sha256("abc").value().hex()
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(ecluse::crypto::sha256("").value().hex()
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto h = ecluse::crypto::Sha256::create().value();
  CHECK(h.update("a").has_value());
  CHECK(h.update("bc").has_value());
  CHECK(h.finish().value().hex()
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK_FALSE(h.finish().has_value());
}

TEST_CASE("crypto::Digest::from_hex accepts only 64 lowercase hex digits") {
  const std::string ok(64, 'a');
  CHECK(ecluse::crypto::Digest::from_hex(ok).has_value());
  CHECK_FALSE(ecluse::crypto::Digest::from_hex(std::string(64, 'A')).has_value());
  CHECK_FALSE(ecluse::crypto::Digest::from_hex(std::string(63, 'a')).has_value());
  CHECK_FALSE(ecluse::crypto::Digest::from_hex(std::string(63, 'a') + "g").has_value());
}

TEST_CASE("core::printable escapes terminal control sequences and keeps ordinary text") {
  CHECK(ecluse::printable("acme/cloud 1.2 é") == "acme/cloud 1.2 é");
  CHECK(ecluse::printable("a\x1b[2Jb") == "a\\x1b[2Jb");
  CHECK(ecluse::printable("line\nfake") == "line\\x0afake");
  CHECK(ecluse::printable("\x7f") == "\\x7f");
  CHECK(ecluse::printable("\xc2\x9b"
                          "31m")
        == "\\xc2\\x9b31m");
  CHECK(ecluse::printable("\x9b"
                          "31m")
        == "\\x9b31m");
  CHECK(ecluse::printable("a\xe2\x80\xae" "b") == "a\\xe2\\x80\\xae" "b");
  CHECK(ecluse::printable("\xc0\xaf") == "\\xc0\\xaf");
}

TEST_CASE("json::parse_strict refuses documents nested deeper than 64 levels without recursing") {
  const std::string deep = std::string(400000, '[') + std::string(400000, ']');
  CHECK(ecluse::json::parse_strict(deep).failure == ecluse::json::ParseFailure::malformed);
  const std::string ok = std::string(60, '[') + std::string(60, ']');
  CHECK(ecluse::json::parse_strict(ok).failure == ecluse::json::ParseFailure::none);
}

TEST_CASE("json::parse_strict builds the same document as nlohmann for every value type") {
  const std::string text =
      R"({"a":[1,-2,3.5,"x",true,false,null,{"k":[[],{}]},[{"a":1},{"a":2}]],)"
      R"("b":{"c":{"d":[18446744073709551615,-9223372036854775808,1e300]}},"e":"\u00e9\ud83d\ude00"})";
  const auto parsed = ecluse::json::parse_strict(text);
  REQUIRE(parsed.failure == ecluse::json::ParseFailure::none);
  CHECK(parsed.value == ecluse::json::Json::parse(text));
  CHECK(ecluse::json::parse_strict("[1] x").failure == ecluse::json::ParseFailure::malformed);
  CHECK(ecluse::json::parse_strict("[1,]").failure == ecluse::json::ParseFailure::malformed);
  const auto dup = ecluse::json::parse_strict(R"([{"a":{"b":1}},{"a":{"b":1,"b":2}}])");
  CHECK(dup.failure == ecluse::json::ParseFailure::duplicate_key);
  CHECK(dup.detail == "b");
  CHECK(dup.value.is_null());
  std::string deep64(63, '[');
  deep64 += std::string(63, ']');
  CHECK(ecluse::json::parse_strict(deep64).failure == ecluse::json::ParseFailure::none);
}
