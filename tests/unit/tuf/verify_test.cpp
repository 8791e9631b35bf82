// tuf::verify against a repository attacker: one SUBCASE per attack on signatures and
// thresholds, expiry, versions, lengths and hashes, missing files, root rotations and
// malformed metadata, each with the reason code the client must report.
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/tuf/metadata.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tuf/document.hpp"

namespace crypto = ecluse::crypto;
namespace json = ecluse::json;
namespace tuf = ecluse::tuf;
namespace stdfs = std::filesystem;
using crypto::KeyType;
using ecluse::TimePoint;
using Keys = std::vector<const crypto::SigningKey*>;

namespace {

const TimePoint k_now = *ecluse::parse_utc("2026-11-23T12:00:00Z");
constexpr auto k_type = KeyType::ecdsa_p256;  // fast to generate; the others in metadata_test

// A signing key loaded from a 0600 PEM file, as operator keys are; one per slot for the run.
const crypto::SigningKey& key(int slot) {
  static std::map<int, crypto::SigningKey> k_keys;
  if (const auto it = k_keys.find(slot); it != k_keys.end()) {
    return it->second;
  }
  auto generated = crypto::generate_key(k_type);
  REQUIRE(generated.has_value());
  std::string dir = (stdfs::temp_directory_path() / "ecluse-tuf-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()) != nullptr);
  const auto file = stdfs::path(dir) / "key.pem";
  std::ofstream(file) << generated->private_pem.view();
  stdfs::permissions(file, stdfs::perms::owner_read | stdfs::perms::owner_write);
  auto loaded = crypto::load_pem_key(file, "");
  stdfs::remove_all(dir);
  REQUIRE(loaded.has_value());
  return k_keys.emplace(slot, std::move(*loaded)).first->second;
}

// The error of a failed result, for a REQUIRE's message (evaluated even on success).
template <class R>
std::string why(const R& r) {
  return r ? std::string() : r.error().to_string();
}

tuf::RoleKeys role(const Keys& keys, std::uint32_t threshold = 1) {
  tuf::RoleKeys out;
  for (const auto* k : keys) {
    out.keys.push_back(k->public_key());
  }
  out.threshold = threshold;
  return out;
}

// Slots: root base, targets base+1, snapshot base+2, timestamp base+3; 4 is nobody's key.
tuf::Roles roles(int base = 0) {
  return {
      role({&key(base)}), role({&key(base + 1)}), role({&key(base + 2)}), role({&key(base + 3)})};
}

Keys signers(int base = 0) {
  return {&key(base), &key(base + 1), &key(base + 2), &key(base + 3)};
}

tuf::Target target(const std::string& path, const std::string& content) {
  return tuf::Target{
      path, content.size(), crypto::sha256(content).value().hex(), json::Json::object()};
}

tuf::Files update(const tuf::Files& current,
                  const tuf::Roles& r,
                  const Keys& keys,
                  const tuf::Expiries& expiries = {}) {
  auto out = tuf::update(current,
                         tuf::UpdateRequest{.roles = r,
                                            .targets = {target("acme/p/1.0.0/a.bin", "a")},
                                            .signers = keys,
                                            .now = k_now,
                                            .expiries = expiries});
  REQUIRE_MESSAGE(out.has_value(), why(out));
  return *out;
}

// A repository at version 1 and the root its clients trust.
struct Repo {
  tuf::Files files;
  std::string trusted;

  [[nodiscard]] std::string verify(TimePoint now = k_now) const {
    auto v = tuf::verify(trusted, files, now);
    return v ? std::string("verified") : v.error().reason;
  }

  [[nodiscard]] std::string item(TimePoint now = k_now) const {
    auto v = tuf::verify(trusted, files, now);
    return v ? std::string() : v.error().item;
  }
};

Repo repo(const tuf::Expiries& expiries = {}) {
  auto files = update({}, roles(), signers(), expiries);
  return Repo{files, files.at("1.root.json")};
}

json::Json parsed(const std::string& text) {
  auto p = json::parse_strict(text);
  REQUIRE(p.failure == json::ParseFailure::none);
  return p.value;
}

// Re-signs files[name] (and its unversioned copy) after edit(signed), with `keys`.
void resign(tuf::Files& files,
            const std::string& name,
            const std::function<void(json::Json&)>& edit,
            const Keys& keys) {
  auto s = parsed(files.at(name))["signed"];
  edit(s);
  auto text = tuf::detail::sign_document(s, keys, name);
  REQUIRE(text.has_value());
  files[name] = *text;
  const auto dot = name.find('.');
  if (name.substr(dot + 1) != "json" && files.contains(name.substr(dot + 1))) {
    files[name.substr(dot + 1)] = *text;
  }
}

// Points timestamp.json at files[snapshot] as version `version`, re-signed.
void retimestamp(tuf::Files& files, const std::string& snapshot, std::uint64_t version) {
  const auto& bytes = files.at(snapshot);
  resign(files,
         "timestamp.json",
         [&](json::Json& s) {
           s["meta"]["snapshot.json"] = {
               {"version", version},
               {"length", bytes.size()},
               {"hashes", {{"sha256", crypto::sha256(bytes).value().hex()}}}};
         },
         {&key(3)});
}

void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("tuf::verify rejects metadata whose signatures do not meet the threshold") {
  auto r = repo();
  REQUIRE(r.verify() == "verified");
  SUBCASE("a tampered signed part of targets") {
    replace_once(r.files["1.targets.json"], "\"length\": 1", "\"length\": 2");
    CHECK(r.verify() == "tuf.threshold");
    CHECK(r.item() == "1.targets.json");
  }
  SUBCASE("a tampered expiry of timestamp") {
    replace_once(r.files["timestamp.json"], "2026-11-24T12:00:00Z", "2036-11-24T12:00:00Z");
    CHECK(r.verify() == "tuf.threshold");
  }
  SUBCASE("a signature by a key the root does not know") {
    resign(r.files, "timestamp.json", [](json::Json&) {}, {&key(4)});
    CHECK(r.verify() == "tuf.threshold");
  }
  SUBCASE("a signature by the key of another role") {
    resign(r.files, "1.snapshot.json", [](json::Json&) {}, {&key(1)});
    retimestamp(r.files, "1.snapshot.json", 1);
    CHECK(r.verify() == "tuf.threshold");
    CHECK(r.item() == "1.snapshot.json");
  }
  SUBCASE("a signature that is not hex") {
    replace_once(r.files["timestamp.json"], R"("sig": ")", R"("sig": "zz)");
    CHECK(r.verify() == "tuf.bad_metadata");
  }
  SUBCASE("no signature at all") {
    resign(r.files, "timestamp.json", [](json::Json&) {}, {});
    CHECK(r.verify() == "tuf.threshold");
  }
}

TEST_CASE("tuf::verify counts each key once towards a threshold") {
  auto r2 = roles();
  r2.targets = role({&key(1), &key(5)}, 2);
  auto files = update({}, r2, {&key(0), &key(1), &key(5), &key(2), &key(3)});
  Repo r{files, files.at("1.root.json")};
  REQUIRE(r.verify() == "verified");
  auto doc = parsed(r.files.at("1.targets.json"));
  REQUIRE(doc["signatures"].size() == 2);
  SUBCASE("threshold 2 with one signature") {
    doc["signatures"].erase(1);
    r.files["1.targets.json"] = json::dump_pretty(doc);
    CHECK(r.verify() == "tuf.threshold");
  }
  SUBCASE("threshold 2 with the same signature twice") {
    doc["signatures"][1] = doc["signatures"][0];
    r.files["1.targets.json"] = json::dump_pretty(doc);
    CHECK(r.verify() == "tuf.threshold");
  }
  SUBCASE("threshold 2 with one key listed under a second key id") {
    // The second key object differs by an extra field, so its key id is genuine.
    auto object = tuf::key_object(key(1).public_key()).value();
    const auto id1 = tuf::key_id(key(1).public_key()).value();
    object["x-alias"] = "same key";
    const auto id2 = crypto::sha256(json::canonical(object).value()).value().hex();
    resign(r.files,
           "1.root.json",
           [&](json::Json& s) {
             s["keys"][id2] = object;
             s["roles"]["targets"]["keyids"] = {id1, id2};
           },
           {&key(0)});
    r.trusted = r.files.at("1.root.json");
    doc["signatures"][1] = doc["signatures"][0];
    doc["signatures"][1]["keyid"] = id2;
    r.files["1.targets.json"] = json::dump_pretty(doc);
    CHECK(r.verify() == "tuf.threshold");
  }
  SUBCASE("a key listed under a key id that is not its own") {
    resign(r.files,
           "1.root.json",
           [&](json::Json& s) {
             const auto id = tuf::key_id(key(5).public_key()).value();
             const std::string fake(64, 'a');
             s["keys"][fake] = s["keys"][id];
             s["keys"].erase(id);
             s["roles"]["targets"]["keyids"][1] = fake;
           },
           {&key(0)});
    r.trusted = r.files.at("1.root.json");
    CHECK(r.verify() == "tuf.bad_metadata");
  }
}

TEST_CASE("tuf::verify rejects expired metadata") {
  tuf::Expiries e;
  const auto later = k_now + std::chrono::hours(3);
  SUBCASE("timestamp") {
    const auto r = repo();
    CHECK(r.verify(k_now + std::chrono::hours(25)) == "tuf.expired");
    CHECK(r.item(k_now + std::chrono::hours(25)) == "timestamp.json");
    CHECK(r.verify(k_now + std::chrono::hours(24)) == "tuf.expired");  // at the expiry itself
    CHECK(r.verify(k_now + std::chrono::hours(24) - std::chrono::seconds(1)) == "verified");
  }
  SUBCASE("snapshot") {
    e.snapshot = std::chrono::hours(2);
    CHECK(repo(e).verify(later) == "tuf.expired");
    CHECK(repo(e).item(later) == "1.snapshot.json");
  }
  SUBCASE("targets") {
    e.targets = std::chrono::hours(2);
    CHECK(repo(e).verify(later) == "tuf.expired");
    CHECK(repo(e).item(later) == "1.targets.json");
  }
  SUBCASE("root") {
    e.root = std::chrono::hours(2);
    CHECK(repo(e).verify(later) == "tuf.expired");
    CHECK(repo(e).item(later) == "1.root.json");
  }
}

TEST_CASE("tuf::verify rejects versions, lengths and hashes the referring file does not name") {
  auto r = repo();
  SUBCASE("a snapshot of another version than timestamp names") {
    resign(r.files, "1.snapshot.json", [](json::Json& s) { s["version"] = 2; }, {&key(2)});
    retimestamp(r.files, "1.snapshot.json", 1);
    CHECK(r.verify() == "tuf.version_mismatch");
    CHECK(r.item() == "1.snapshot.json");
  }
  SUBCASE("targets of another version than snapshot names") {
    resign(r.files, "1.targets.json", [](json::Json& s) { s["version"] = 2; }, {&key(1)});
    CHECK(r.verify() == "tuf.version_mismatch");
    CHECK(r.item() == "1.targets.json");
  }
  SUBCASE("a snapshot longer than timestamp says") {
    r.files["1.snapshot.json"] += " ";
    CHECK(r.verify() == "tuf.hash_mismatch");
  }
  SUBCASE("a validly signed snapshot of the same length and another hash") {
    // Upper-case hex in the signature: the same signature, other bytes.
    auto& text = r.files["1.snapshot.json"];
    const auto sig = text.find(R"("sig": ")");
    REQUIRE(sig != std::string::npos);
    const auto letter = text.find_first_of("abcdef", sig + 8);
    text[letter] = static_cast<char>(text[letter] - 'a' + 'A');
    namespace detail = tuf::detail;
    auto root_doc = detail::parse_document(r.trusted, detail::Role::root, "root");
    REQUIRE(root_doc.has_value());
    auto root = detail::parse_root(*root_doc, "root");
    auto doc = detail::parse_document(text, detail::Role::snapshot, "snapshot");
    REQUIRE((root.has_value() && doc.has_value()));
    CHECK(detail::check_signatures(*doc, *root, detail::Role::snapshot, "snapshot").has_value());
    CHECK(r.verify() == "tuf.hash_mismatch");
    CHECK(r.item() == "1.snapshot.json");
  }
  SUBCASE("targets of another length than snapshot lists") {
    resign(r.files,
           "1.snapshot.json",
           [](json::Json& s) { s["meta"]["targets.json"]["length"] = 1; },
           {&key(2)});
    retimestamp(r.files, "1.snapshot.json", 1);
    CHECK(r.verify() == "tuf.hash_mismatch");
    CHECK(r.item() == "1.targets.json");
  }
  SUBCASE("a fast-forward: timestamp names a snapshot version that is not there") {
    retimestamp(r.files, "1.snapshot.json", 7);
    CHECK(r.verify() == "tuf.metadata_missing");
    CHECK(r.item() == "7.snapshot.json");
  }
  SUBCASE("snapshot.json is not the version timestamp names") {
    Repo v2{update(r.files, roles(), signers()), r.trusted};
    REQUIRE(v2.verify() == "verified");
    v2.files["snapshot.json"] = v2.files.at("1.snapshot.json");
    CHECK(v2.verify() == "tuf.version_mismatch");
    CHECK(v2.item() == "snapshot.json");
  }
}

TEST_CASE("tuf::verify rejects a repository with files missing") {
  auto r = repo();
  for (const char* name : {"timestamp.json",
                           "1.snapshot.json",
                           "1.targets.json",
                           "1.root.json",
                           "root.json",
                           "snapshot.json",
                           "targets.json"}) {
    CAPTURE(name);
    auto copy = r;
    copy.files.erase(name);
    CHECK(copy.verify() == "tuf.metadata_missing");
    CHECK(copy.item() == name);
  }
}

TEST_CASE("tuf::verify follows root rotations signed by the old and the new root") {
  auto r = repo();
  auto rotated = r;
  Keys keys = signers(10);
  keys.push_back(&key(0));
  rotated.files = update(r.files, roles(10), keys);
  REQUIRE(rotated.files.contains("2.root.json"));
  SUBCASE("properly signed: accepted, the old and the new targets keys known") {
    auto v = tuf::verify(rotated.trusted, rotated.files, k_now);
    REQUIRE_MESSAGE(v.has_value(), why(v));
    CHECK(v->root_version == 2);
    REQUIRE(v->targets_keys_ever.size() == 2);
    CHECK(v->targets_keys_ever[0].der() == key(1).public_key().der());
    CHECK(v->targets_keys_ever[1].der() == key(11).public_key().der());
  }
  SUBCASE("not signed by the old root") {
    resign(rotated.files, "2.root.json", [](json::Json&) {}, {&key(10)});
    CHECK(rotated.verify() == "tuf.threshold");
    CHECK(rotated.item() == "2.root.json");
  }
  SUBCASE("not signed by its own root keys") {
    resign(rotated.files, "2.root.json", [](json::Json&) {}, {&key(0)});
    CHECK(rotated.verify() == "tuf.threshold");
  }
  SUBCASE("a version skip: 2.root.json holds version 3") {
    resign(
        rotated.files, "2.root.json", [](json::Json& s) { s["version"] = 3; }, {&key(0), &key(10)});
    CHECK(rotated.verify() == "tuf.rollback");
  }
  SUBCASE("a version skip: 1.root.json then 3.root.json") {
    resign(
        rotated.files, "2.root.json", [](json::Json& s) { s["version"] = 3; }, {&key(0), &key(10)});
    rotated.files["3.root.json"] = rotated.files.at("2.root.json");
    rotated.files.erase("2.root.json");
    CHECK(rotated.verify() == "tuf.metadata_missing");
    CHECK(rotated.item() == "2.root.json");
  }
  SUBCASE("a repository rolled back behind the trusted root") {
    Repo old{r.files, rotated.files.at("2.root.json")};
    CHECK(old.verify() == "tuf.rollback");
  }
  SUBCASE("a trusted root of another repository with the same version") {
    auto other = update({}, roles(20), signers(20));
    Repo mixed{r.files, other.at("1.root.json")};
    CHECK(mixed.verify() == "tuf.version_mismatch");
  }
  SUBCASE("a trusted root not signed by its own root keys") {
    resign(r.files, "1.root.json", [](json::Json&) {}, {&key(4)});
    r.trusted = r.files.at("1.root.json");
    CHECK(r.verify() == "tuf.threshold");
  }
}

TEST_CASE("tuf::verify rejects malformed metadata") {
  auto r = repo();
  auto& ts = r.files["timestamp.json"];
  SUBCASE("not JSON") {
    ts = "{\"signed\": ";
    CHECK(r.verify() == "tuf.bad_metadata");
  }
  SUBCASE("a duplicate key in the envelope") {
    replace_once(ts, "{\n", "{\n  \"signatures\": [],\n");
    CHECK(r.verify() == "tuf.bad_metadata");
  }
  SUBCASE("a duplicate key inside signed") {
    replace_once(ts, R"("_type": "timestamp")", R"("_type": "timestamp", "_type": "timestamp")");
    CHECK(r.verify() == "tuf.bad_metadata");
  }
  SUBCASE("a float value") {
    replace_once(ts, "\"version\": 1\n", "\"version\": 1.0\n");
    CHECK(r.verify() == "tuf.bad_metadata");
  }
  SUBCASE("another role's file in its place") {
    ts = r.files.at("1.snapshot.json");
    CHECK(r.verify() == "tuf.bad_metadata");
  }
  SUBCASE("an unknown _type") {
    resign(r.files, "timestamp.json", [](json::Json& s) { s["_type"] = "mirrors"; }, {&key(3)});
    CHECK(r.verify() == "tuf.bad_metadata");
  }
  SUBCASE("a missing or mistyped field") {
    const std::vector<std::function<void(json::Json&)>> edits{
        [](json::Json& s) { s.erase("expires"); },
        [](json::Json& s) { s["expires"] = 1893456000; },
        [](json::Json& s) { s["expires"] = "2030-01-01 00:00:00"; },
        [](json::Json& s) { s["version"] = "2"; },
        [](json::Json& s) { s["version"] = 0; },
        [](json::Json& s) { s["version"] = -1; },
        [](json::Json& s) { s["spec_version"] = "2.0.0"; },
        [](json::Json& s) { s.erase("spec_version"); },
        [](json::Json& s) { s["meta"].erase("snapshot.json"); },
        [](json::Json& s) {
          s["meta"]["snapshot.json"]["hashes"] = {{"sha512", "00"}};
        },
        [](json::Json& s) {
          s["meta"]["snapshot.json"]["length"] = "12";
        }};
    for (std::size_t i = 0; i < edits.size(); ++i) {
      CAPTURE(i);
      auto copy = r;
      resign(copy.files, "timestamp.json", edits[i], {&key(3)});
      CHECK(copy.verify() == "tuf.bad_metadata");
    }
  }
  SUBCASE("a target path that escapes the targets directory") {
    resign(r.files,
           "1.targets.json",
           [](json::Json& s) {
             s["targets"]["../../etc/cron.d/x"] = s["targets"]["acme/p/1.0.0/a.bin"];
           },
           {&key(1)});
    CHECK(r.verify() == "tuf.bad_metadata");
  }
  SUBCASE("a root with threshold 0, a missing or unknown role, or no consistent snapshots") {
    const std::vector<std::function<void(json::Json&)>> edits{
        [](json::Json& s) { s["roles"]["timestamp"]["threshold"] = 0; },
        [](json::Json& s) { s["roles"].erase("snapshot"); },
        [](json::Json& s) { s["roles"]["mirror"] = s["roles"]["timestamp"]; },
        [](json::Json& s) { s["roles"]["targets"]["keyids"].push_back(std::string(64, 'b')); },
        [](json::Json& s) { s["consistent_snapshot"] = false; },
        [](json::Json& s) {
          s["keys"].begin().value()["scheme"] = "rsa-pkcs1v15-sha256";
        }};
    for (std::size_t i = 0; i < edits.size(); ++i) {
      CAPTURE(i);
      auto copy = r;
      resign(copy.files, "1.root.json", edits[i], {&key(0)});
      copy.trusted = copy.files.at("1.root.json");
      CHECK(copy.verify() == "tuf.bad_metadata");
    }
  }
}
