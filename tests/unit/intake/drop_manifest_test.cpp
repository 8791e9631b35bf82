// drop.json v1: one rejection per defect, each with its own reason code.
#include <ecluse/intake/drop_manifest.hpp>

#include <doctest/doctest.h>

#include "support/support.hpp"

using ecluse::intake::parse_drop_manifest;
using ecluse::json::Json;

namespace {

Json valid() {
  return ecluse::test::DropBuilder{}.manifest();
}

std::string reason_of(const std::string& text) {
  const auto r = parse_drop_manifest(text);
  return r ? std::string("accepted") : r.error().reason;
}

std::string reason_of_json(const Json& j) {
  return reason_of(j.dump());
}

}  // namespace

TEST_CASE("intake::parse_drop_manifest accepts a valid v1 drop.json") {
  const auto m = parse_drop_manifest(valid().dump()).value();
  CHECK(m.vendor == "acme");
  CHECK(m.version.text() == "1.2.3");
  CHECK(m.artifacts.size() == 2);
  CHECK_FALSE(m.expires.has_value());
}

TEST_CASE("intake::parse_drop_manifest rejects each defect with its reason code") {
  Json j = valid();
  SUBCASE("not JSON") {
    CHECK(reason_of("{\"schema\":") == "drop.malformed_json");
  }
  SUBCASE("invalid UTF-8") {
    CHECK(reason_of("{\"schema\":\"\xc3\x28\"}") == "drop.malformed_json");
  }
  SUBCASE("not an object") {
    CHECK(reason_of("[1,2]") == "drop.not_an_object");
  }
  SUBCASE("duplicate key at top level") {
    CHECK(reason_of(R"({"schema":"ecluse.drop/v1","vendor":"a","vendor":"b"})")
          == "drop.duplicate_key");
  }
  SUBCASE("duplicate key inside an artifact") {
    auto text = j.dump();
    text.replace(text.find("\"path\":"), 7, "\"path\":\"x\",\"path\":");
    CHECK(reason_of(text) == "drop.duplicate_key");
  }
  SUBCASE("missing field") {
    for (const char* f :
         {"vendor", "product", "version", "channel", "released", "artifacts", "schema"}) {
      CAPTURE(f);
      Json k = valid();
      k.erase(f);
      CHECK(reason_of_json(k) == "drop.missing_field");
    }
  }
  SUBCASE("missing artifact field") {
    for (const char* f : {"path", "sha256", "size"}) {
      CAPTURE(f);
      Json k = valid();
      k["artifacts"][0].erase(f);
      CHECK(reason_of_json(k) == "drop.missing_field");
    }
  }
  SUBCASE("wrong type") {
    Json k = valid();
    SUBCASE("version number") {
      k["version"] = 1.2;
    }
    SUBCASE("artifacts object") {
      k["artifacts"] = Json::object();
    }
    SUBCASE("negative size") {
      k["artifacts"][0]["size"] = -1;
    }
    SUBCASE("fractional size") {
      k["artifacts"][0]["size"] = 1.5;
    }
    SUBCASE("size as string") {
      k["artifacts"][0]["size"] = "12";
    }
    SUBCASE("huge size") {
      auto text = k.dump();
      const auto pos = text.find("\"size\":") + 7;
      text.insert(pos, "99999999999999999999999");
      CHECK(reason_of(text) == "drop.wrong_type");
      return;
    }
    SUBCASE("contents not an array") {
      k["artifacts"][0]["contents"] = "x";
    }
    SUBCASE("expires number") {
      k["expires"] = 5;
    }
    CHECK(reason_of_json(k) == "drop.wrong_type");
  }
  SUBCASE("artifact not an object") {
    j["artifacts"][0] = "bin/app";
    CHECK(reason_of_json(j) == "drop.not_an_object");
  }
  SUBCASE("unknown field") {
    SUBCASE("top level") {
      j["install_script"] = "rm -rf /";
    }
    SUBCASE("artifact") {
      j["artifacts"][1]["mode"] = 493;
    }
    CHECK(reason_of_json(j) == "drop.unknown_field");
  }
  SUBCASE("unknown schema") {
    SUBCASE("v2") {
      j["schema"] = "ecluse.drop/v2";
    }
    SUBCASE("other") {
      j["schema"] = "something";
    }
    CHECK(reason_of_json(j) == "drop.unknown_schema");
  }
  SUBCASE("bad version string") {
    for (const char* v : {"", "latest", "1.2.3.4.5", "01.2", "1.2-", "1.2 ", "v1.2"}) {
      CAPTURE(v);
      j["version"] = v;
      CHECK(reason_of_json(j) == "drop.bad_version");
    }
  }
  SUBCASE("bad names") {
    for (const char* f : {"vendor", "product", "channel"}) {
      for (const char* v : {"", "../x", "a/b", "-a", "a b", "é"}) {
        CAPTURE(f);
        CAPTURE(v);
        Json k = valid();
        k[f] = v;
        CHECK(reason_of_json(k) == "drop.bad_name");
      }
    }
  }
  SUBCASE("bad timestamp") {
    SUBCASE("released") {
      j["released"] = "yesterday";
    }
    SUBCASE("expires") {
      j["expires"] = "2026-02-30T00:00:00Z";
    }
    CHECK(reason_of_json(j) == "drop.bad_timestamp");
  }
  SUBCASE("bad digest") {
    SUBCASE("uppercase") {
      j["artifacts"][0]["sha256"] = std::string(64, 'A');
    }
    SUBCASE("short") {
      j["artifacts"][0]["sha256"] = "abc";
    }
    CHECK(reason_of_json(j) == "drop.bad_digest");
  }
  SUBCASE("path outside the drop") {
    for (const char* p :
         {"../x", "/etc/x", "a/../../x", "a/..", "C:/x", "c:x", "a\\..\\x", "..\\x"}) {
      CAPTURE(p);
      j["artifacts"][0]["path"] = p;
      CHECK(reason_of_json(j) == "drop.path_outside");
    }
  }
  SUBCASE("malformed path") {
    for (const std::string& p : {std::string(""),
                                 std::string("a//b"),
                                 std::string("a/"),
                                 std::string("./a"),
                                 std::string("a/./b"),
                                 std::string("a\nb"),
                                 std::string("a\0b", 3),
                                 std::string(300, 'x'),
                                 std::string(5000, 'x')}) {
      CAPTURE(p.size());
      j["artifacts"][0]["path"] = p;
      CHECK(reason_of_json(j) == "drop.bad_path");
    }
  }
  SUBCASE("artifact listed twice") {
    j["artifacts"].push_back(j["artifacts"][0]);
    CHECK(reason_of_json(j) == "drop.duplicate_artifact");
  }
  SUBCASE("no artifacts") {
    j["artifacts"] = Json::array();
    CHECK(reason_of_json(j) == "drop.no_artifacts");
  }
}

TEST_CASE("intake::parse_drop_manifest never throws on arbitrary bytes") {
  std::string bytes = valid().dump();
  std::uint32_t x = 12345;
  for (int round = 0; round < 3000; ++round) {
    std::string mutated = bytes;
    for (int k = 0; k < 4; ++k) {
      x = x * 1103515245U + 12345U;
      mutated[(x >> 8U) % mutated.size()] = static_cast<char>(x >> 24U);
    }
    CHECK_NOTHROW((void)parse_drop_manifest(mutated));
  }
}
