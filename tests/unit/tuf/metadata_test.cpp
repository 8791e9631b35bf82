// The repository side of tuf/metadata: key objects and key ids, then update() refusing what
// it cannot sign or should not write, then new repositories, new versions, root rotations and
// timestamp refreshes (each checked by tuf::verify), for all three key types.
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/tuf/metadata.hpp>

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace crypto = ecluse::crypto;
namespace json = ecluse::json;
namespace tuf = ecluse::tuf;
namespace stdfs = std::filesystem;
using crypto::KeyType;
using ecluse::TimePoint;

namespace {

constexpr std::array k_types{KeyType::ecdsa_p256, KeyType::ed25519, KeyType::rsa_3072};

const TimePoint k_now = *ecluse::parse_utc("2026-11-23T12:00:00Z");

// A signing key of the type loaded from a 0600 PEM file, as operator keys are; one per
// (type, slot) for the whole run, since RSA-3072 generation is slow.
const crypto::SigningKey& key(KeyType type, int slot) {
  static std::map<std::pair<KeyType, int>, crypto::SigningKey> k_keys;
  if (const auto it = k_keys.find({type, slot}); it != k_keys.end()) {
    return it->second;
  }
  auto generated = crypto::generate_key(type);
  REQUIRE(generated.has_value());
  std::string dir = (stdfs::temp_directory_path() / "ecluse-tuf-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()) != nullptr);
  const auto file = stdfs::path(dir) / "key.pem";
  std::ofstream(file) << generated->private_pem.view();
  stdfs::permissions(file, stdfs::perms::owner_read | stdfs::perms::owner_write);
  auto loaded = crypto::load_pem_key(file, "");
  stdfs::remove_all(dir);
  REQUIRE(loaded.has_value());
  return k_keys.emplace(std::make_pair(type, slot), std::move(*loaded)).first->second;
}

// The error of a failed result, for a REQUIRE's message (evaluated even on success).
template <class R>
std::string why(const R& r) {
  return r ? std::string() : r.error().to_string();
}

tuf::RoleKeys role(const std::vector<const crypto::SigningKey*>& keys,
                   std::uint32_t threshold = 1) {
  tuf::RoleKeys out;
  for (const auto* k : keys) {
    out.keys.push_back(k->public_key());
  }
  out.threshold = threshold;
  return out;
}

// Roles with one key each: root slot base, targets base+1, snapshot base+2, timestamp base+3.
tuf::Roles roles(KeyType type, int base = 0) {
  return tuf::Roles{role({&key(type, base)}),
                    role({&key(type, base + 1)}),
                    role({&key(type, base + 2)}),
                    role({&key(type, base + 3)})};
}

std::vector<const crypto::SigningKey*> signers(KeyType type, int base = 0) {
  return {&key(type, base), &key(type, base + 1), &key(type, base + 2), &key(type, base + 3)};
}

tuf::Target target(const std::string& path, const std::string& content) {
  tuf::Target t;
  t.path = path;
  t.length = content.size();
  t.sha256 = crypto::sha256(content).value().hex();
  t.custom = json::Json{{"release", "acme/p/1.0.0"}};
  return t;
}

ecluse::Result<tuf::Files> update(const tuf::Files& current,
                                  const tuf::Roles& r,
                                  const std::vector<tuf::Target>& targets,
                                  const std::vector<const crypto::SigningKey*>& keys,
                                  const tuf::Expiries& expiries = {}) {
  return tuf::update(
      current,
      tuf::UpdateRequest{
          .roles = r, .targets = targets, .signers = keys, .now = k_now, .expiries = expiries});
}

std::string reason_of(const ecluse::Result<tuf::Files>& r) {
  return r ? std::string("written") : r.error().reason;
}

json::Json signed_of(const tuf::Files& files, const std::string& name) {
  const auto it = files.find(name);
  REQUIRE(it != files.end());
  auto parsed = json::parse_strict(it->second);
  REQUIRE(parsed.failure == json::ParseFailure::none);
  return parsed.value["signed"];
}

// An EC P-384 public key as PEM.
std::string p384_public_pem() {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  REQUIRE(pkey != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PUBKEY(bio, pkey) == 1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  return pem;
}

std::vector<std::string> names(const tuf::Files& files) {
  std::vector<std::string> out;
  for (const auto& [name, bytes] : files) {
    out.push_back(name);
  }
  return out;
}

}  // namespace

TEST_CASE("tuf::key_object refuses keys without a TUF scheme") {
  // A P-384 key is a valid public key, but ecluse signs TUF metadata with P-256 only.
  auto pub =
      crypto::parse_public_key(p384_public_pem(), ecluse::reason::k_tuf_bad_metadata, "p384");
  REQUIRE(pub.has_value());
  auto object = tuf::key_object(*pub);
  REQUIRE_FALSE(object.has_value());
  CHECK(object.error().reason == "keys.unsupported_type");
  CHECK_FALSE(tuf::key_id(*pub).has_value());
}

TEST_CASE("tuf::key_object writes securesystemslib's key objects and key ids") {
  for (const auto type : k_types) {
    CAPTURE(crypto::to_string(type));
    const auto& pub = key(type, 0).public_key();
    auto object = tuf::key_object(pub);
    REQUIRE(object.has_value());
    const auto& value = (*object)["keyval"]["public"];
    REQUIRE(value.is_string());
    switch (type) {
      case KeyType::ed25519:
        CHECK(*object
              == json::Json{
                  {"keytype", "ed25519"}, {"scheme", "ed25519"}, {"keyval", {{"public", value}}}});
        CHECK(value.get<std::string>().size() == 64);
        CHECK(value.get<std::string>().find_first_not_of("0123456789abcdef") == std::string::npos);
        break;
      case KeyType::ecdsa_p256:
        CHECK((*object)["keytype"] == "ecdsa");
        CHECK((*object)["scheme"] == "ecdsa-sha2-nistp256");
        CHECK(value.get<std::string>() == pub.pem());
        break;
      case KeyType::rsa_3072:
        CHECK((*object)["keytype"] == "rsa");
        CHECK((*object)["scheme"] == "rsassa-pss-sha256");
        CHECK(value.get<std::string>() == pub.pem());
        break;
    }
    CHECK(object->size() == 3);
    auto id = tuf::key_id(pub);
    REQUIRE(id.has_value());
    CHECK(*id == crypto::sha256(json::canonical(*object).value()).value().hex());
    CHECK(*id != tuf::key_id(key(type, 1).public_key()).value());
  }
}

TEST_CASE("tuf::update refuses what it cannot sign or should not write") {
  const auto type = KeyType::ecdsa_p256;
  SUBCASE("a role's key missing from the signers") {
    auto keys = signers(type);
    keys.pop_back();  // no timestamp key
    auto r = update({}, roles(type), {}, keys);
    CHECK(reason_of(r) == "tuf.threshold");
    CHECK(why(r).find("timestamp.json") != std::string::npos);
  }
  SUBCASE("a threshold of 2 with one key of the role at hand") {
    auto r2 = roles(type);
    r2.targets = role({&key(type, 1), &key(type, 4)}, 2);
    CHECK(reason_of(update({}, r2, {}, signers(type))) == "tuf.threshold");
  }
  SUBCASE("a threshold of 2 with the same key listed twice") {
    auto r2 = roles(type);
    r2.targets = role({&key(type, 1), &key(type, 1)}, 2);
    CHECK(reason_of(update({}, r2, {}, signers(type))) == "tuf.threshold");
  }
  SUBCASE("a threshold of 0") {
    auto r2 = roles(type);
    r2.snapshot.threshold = 0;
    CHECK(reason_of(update({}, r2, {}, signers(type))) == "tuf.threshold");
  }
  SUBCASE("a root rotation without the old root's key") {
    auto v1 = update({}, roles(type), {}, signers(type));
    REQUIRE(v1.has_value());
    auto r = update(*v1, roles(type, 10), {}, signers(type, 10));
    CHECK(reason_of(r) == "tuf.threshold");
    CHECK(why(r).find("1.root.json") != std::string::npos);
  }
  SUBCASE("a root rotation without the new root's key") {
    auto v1 = update({}, roles(type), {}, signers(type));
    REQUIRE(v1.has_value());
    auto keys = signers(type, 10);
    keys[0] = &key(type, 0);  // the old root key instead of the new one
    CHECK(reason_of(update(*v1, roles(type, 10), {}, keys)) == "tuf.threshold");
  }
  SUBCASE("target paths that are not clean relative paths, or listed twice") {
    for (const char* path :
         {"", "/abs", "a/../b", "./a", "a//b", "a/", "a\\b", "..", "a/\x1b[2Jb"}) {
      CAPTURE(path);
      CHECK(reason_of(update({}, roles(type), {target(path, "x")}, signers(type)))
            == "tuf.bad_metadata");
    }
    CHECK(reason_of(update({}, roles(type), {target("a", "x"), target("a", "y")}, signers(type)))
          == "tuf.bad_metadata");
  }
  SUBCASE("a target whose custom holds a float or whose sha256 is not hex") {
    auto t = target("a", "x");
    t.custom = json::Json{{"score", 0.5}};
    CHECK(reason_of(update({}, roles(type), {t}, signers(type))) == "tuf.bad_metadata");
    t = target("a", "x");
    t.sha256 = "xyz";
    CHECK(reason_of(update({}, roles(type), {t}, signers(type))) == "tuf.bad_metadata");
  }
  SUBCASE("a current repository that lacks its timestamp") {
    auto v1 = update({}, roles(type), {}, signers(type));
    REQUIRE(v1.has_value());
    v1->erase("timestamp.json");
    CHECK(reason_of(update(*v1, roles(type), {}, signers(type))) == "tuf.metadata_missing");
  }
  SUBCASE("a version that was published already") {
    auto v1 = update({}, roles(type), {}, signers(type));
    REQUIRE(v1.has_value());
    (*v1)["2.targets.json"] = "{}";
    CHECK(reason_of(update(*v1, roles(type), {}, signers(type))) == "tuf.rollback");
  }
}

TEST_CASE("tuf::update writes a new repository at version 1 that verifies") {
  for (const auto type : k_types) {
    CAPTURE(crypto::to_string(type));
    const auto targets = std::vector{target("acme/p/1.0.0/a.bin", "payload a\n")};
    auto files = update({}, roles(type), targets, signers(type));
    REQUIRE(files.has_value());
    CHECK(names(*files)
          == std::vector<std::string>{"1.root.json",
                                      "1.snapshot.json",
                                      "1.targets.json",
                                      "root.json",
                                      "snapshot.json",
                                      "targets.json",
                                      "timestamp.json"});
    CHECK(files->at("root.json") == files->at("1.root.json"));
    const auto root = signed_of(*files, "1.root.json");
    CHECK(root["_type"] == "root");
    CHECK(root["spec_version"] == "1.0.31");
    CHECK(root["consistent_snapshot"] == true);
    CHECK(root["expires"] == "2027-11-23T12:00:00Z");
    CHECK(root["keys"].size() == 4);
    CHECK(signed_of(*files, "timestamp.json")["expires"] == "2026-11-24T12:00:00Z");
    const auto meta = signed_of(*files, "timestamp.json")["meta"]["snapshot.json"];
    CHECK(meta["version"] == 1);
    CHECK(meta["length"] == files->at("1.snapshot.json").size());
    CHECK(meta["hashes"]["sha256"] == crypto::sha256(files->at("1.snapshot.json")).value().hex());
    CHECK(signed_of(*files, "1.snapshot.json")["meta"]
          == json::Json{{"targets.json", {{"version", 1}}}});
    CHECK(files->at("1.targets.json").starts_with("{\n  \""));
    auto v = tuf::verify(files->at("1.root.json"), *files, k_now);
    REQUIRE_MESSAGE(v.has_value(), why(v));
    CHECK(v->root_version == 1);
    CHECK(v->timestamp_version == 1);
    REQUIRE(v->targets.size() == 1);
    CHECK(v->targets[0].path == "acme/p/1.0.0/a.bin");
    CHECK(v->targets[0].length == 10);
    CHECK(v->targets[0].sha256 == targets[0].sha256);
    CHECK(v->targets[0].custom == targets[0].custom);
    CHECK(v->roles.targets.keys.at(0).der() == key(type, 1).public_key().der());
  }
}

TEST_CASE("tuf::update adds a target at version 2 and keeps the earlier versions") {
  for (const auto type : k_types) {
    CAPTURE(crypto::to_string(type));
    auto targets = std::vector{target("acme/p/1.0.0/a.bin", "a")};
    auto v1 = update({}, roles(type), targets, signers(type));
    REQUIRE(v1.has_value());
    targets.push_back(target("acme/p/1.1.0/b.bin", "bb"));
    auto v2 = update(*v1, roles(type), targets, signers(type));
    REQUIRE(v2.has_value());
    CHECK(v2->contains("1.targets.json"));
    CHECK(v2->at("1.targets.json") == v1->at("1.targets.json"));
    CHECK(v2->contains("2.targets.json"));
    CHECK(v2->contains("2.snapshot.json"));
    CHECK_FALSE(v2->contains("2.root.json"));  // same roles, root far from expiry
    auto v = tuf::verify(v1->at("root.json"), *v2, k_now);
    REQUIRE_MESSAGE(v.has_value(), why(v));
    CHECK(v->root_version == 1);
    CHECK(v->timestamp_version == 2);
    CHECK(v->snapshot_version == 2);
    CHECK(v->targets_version == 2);
    REQUIRE(v->targets.size() == 2);
    CHECK(v->targets[1].path == "acme/p/1.1.0/b.bin");
    auto listed = tuf::current_targets(*v2);
    REQUIRE(listed.has_value());
    REQUIRE(listed->size() == 2);
    CHECK(listed->at(0).path == "acme/p/1.0.0/a.bin");
    CHECK(listed->at(1).custom == json::Json{{"release", "acme/p/1.0.0"}});
  }
}

TEST_CASE("tuf::update rotates the root, signed by the old and the new root keys") {
  const auto type = KeyType::ecdsa_p256;
  auto v1 = update({}, roles(type), {target("a", "a")}, signers(type));
  REQUIRE(v1.has_value());
  auto keys = signers(type, 10);
  keys.push_back(&key(type, 0));  // the old root key, for 2.root.json only
  auto v2 = update(*v1, roles(type, 10), {target("a", "a")}, keys);
  REQUIRE(v2.has_value());
  CHECK(v2->at("root.json") == v2->at("2.root.json"));
  CHECK(v2->at("1.root.json") == v1->at("1.root.json"));
  const auto sigs = json::parse_strict(v2->at("2.root.json")).value["signatures"];
  CHECK(sigs.size() == 2);
  auto v = tuf::verify(v1->at("1.root.json"), *v2, k_now);
  REQUIRE_MESSAGE(v.has_value(), why(v));
  CHECK(v->root_version == 2);
  REQUIRE(v->targets_keys_ever.size() == 2);
  CHECK(v->targets_keys_ever[0].der() == key(type, 1).public_key().der());
  CHECK(v->targets_keys_ever[1].der() == key(type, 11).public_key().der());
  REQUIRE(v->roles.targets.keys.size() == 1);
  CHECK(v->roles.targets.keys[0].der() == key(type, 11).public_key().der());
  // A client that already trusts 2.root.json verifies the same repository.
  CHECK(tuf::verify(v2->at("2.root.json"), *v2, k_now).has_value());
}

TEST_CASE("tuf::update renews a root that would expire before the files written now") {
  const auto type = KeyType::ecdsa_p256;
  tuf::Expiries short_root;
  short_root.root = std::chrono::hours(24 * 30);  // shorter than targets' 90 days
  auto v1 = update({}, roles(type), {}, signers(type), short_root);
  REQUIRE(v1.has_value());
  auto v2 = update(*v1, roles(type), {}, signers(type));
  REQUIRE(v2.has_value());
  CHECK(v2->contains("2.root.json"));
  CHECK(signed_of(*v2, "2.root.json")["expires"] == "2027-11-23T12:00:00Z");
  CHECK(tuf::verify(v1->at("1.root.json"), *v2, k_now).has_value());
}

TEST_CASE("tuf::refresh_timestamp writes only a new timestamp for the same snapshot") {
  const auto type = KeyType::ed25519;
  auto v1 = update({}, roles(type), {target("a", "a")}, signers(type));
  REQUIRE(v1.has_value());
  SUBCASE("without the timestamp key") {
    const std::vector<const crypto::SigningKey*> none{&key(type, 1)};
    auto r = tuf::refresh_timestamp(*v1, none, k_now, {});
    CHECK(reason_of(r) == "tuf.threshold");
  }
  SUBCASE("with the timestamp key alone") {
    const std::vector<const crypto::SigningKey*> online{&key(type, 3)};
    const auto later = k_now + std::chrono::hours(20);
    auto r = tuf::refresh_timestamp(*v1, online, later, {});
    REQUIRE_MESSAGE(r.has_value(), why(r));
    CHECK(names(*r) == names(*v1));
    for (const auto& [name, bytes] : *v1) {
      if (name != "timestamp.json") {
        CHECK(r->at(name) == bytes);
      }
    }
    const auto ts = signed_of(*r, "timestamp.json");
    CHECK(ts["version"] == 2);
    CHECK(ts["meta"] == signed_of(*v1, "timestamp.json")["meta"]);
    CHECK(ts["expires"] == "2026-11-25T08:00:00Z");
    // The old timestamp has expired by then; the refreshed one has not.
    const auto next_day = k_now + std::chrono::hours(30);
    CHECK(why(tuf::verify(v1->at("root.json"), *v1, next_day))
              .starts_with("tuf.expired: timestamp.json"));
    auto v = tuf::verify(v1->at("root.json"), *r, next_day);
    REQUIRE_MESSAGE(v.has_value(), why(v));
    CHECK(v->timestamp_version == 2);
    CHECK(v->snapshot_version == 1);
  }
  SUBCASE("of an empty repository") {
    CHECK(reason_of(tuf::refresh_timestamp({}, signers(type), k_now, {}))
          == "tuf.metadata_missing");
  }
}

TEST_CASE("tuf::current_targets reads the repository's own targets.json") {
  SUBCASE("an empty repository lists nothing") {
    auto r = tuf::current_targets({});
    REQUIRE(r.has_value());
    CHECK(r->empty());
  }
  SUBCASE("a repository without targets.json") {
    tuf::Files files{{"1.root.json", "{}"}};
    auto r = tuf::current_targets(files);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().reason == "tuf.metadata_missing");
  }
  SUBCASE("a malformed targets.json") {
    tuf::Files files{{"targets.json", R"({"signed": {"_type": "targets"}, "signatures": []})"}};
    auto r = tuf::current_targets(files);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().reason == "tuf.bad_metadata");
  }
}
