// Cross-check with a standard TUF client: tests/tools/tuf-client runs tuf-js 4.1.0 against a
// served directory built here from update()'s files, for each key type; it must also refuse a
// modified target and an expired timestamp. Needs Node.js and `npm ci` in the tools dir.
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/tuf/metadata.hpp>

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
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
using Keys = std::vector<const crypto::SigningKey*>;

namespace {

const stdfs::path k_tools = ECLUSE_SOURCE_DIR "/tests/tools/tuf-client";
const std::string k_target = "acme/p/1.0.0/a.bin";
const std::string k_payload = "payload of a.bin\n";

// A directory under TMPDIR, removed with its contents.
class Scratch {
 public:
  Scratch() {
    std::string dir = (stdfs::temp_directory_path() / "ecluse-tuf-js-XXXXXX").string();
    REQUIRE(::mkdtemp(dir.data()) != nullptr);
    m_path = dir;
  }

  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  Scratch(Scratch&&) = delete;
  Scratch& operator=(Scratch&&) = delete;

  ~Scratch() {
    std::error_code ec;
    stdfs::remove_all(m_path, ec);
  }

  [[nodiscard]] const stdfs::path& path() const { return m_path; }

 private:
  stdfs::path m_path;
};

void write(const stdfs::path& file, const std::string& bytes) {
  stdfs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << bytes;
}

// A signing key loaded from a 0600 PEM file, as operator keys are; one per (type, slot).
const crypto::SigningKey& key(KeyType type, int slot) {
  static std::map<std::pair<KeyType, int>, crypto::SigningKey> k_keys;
  if (const auto it = k_keys.find({type, slot}); it != k_keys.end()) {
    return it->second;
  }
  auto generated = crypto::generate_key(type);
  REQUIRE(generated.has_value());
  const Scratch dir;
  const auto file = dir.path() / "key.pem";
  write(file, std::string(generated->private_pem.view()));
  stdfs::permissions(file, stdfs::perms::owner_read | stdfs::perms::owner_write);
  auto loaded = crypto::load_pem_key(file, "");
  REQUIRE(loaded.has_value());
  return k_keys.emplace(std::make_pair(type, slot), std::move(*loaded)).first->second;
}

tuf::RoleKeys role(const crypto::SigningKey& k) {
  return tuf::RoleKeys{{k.public_key()}, 1};
}

tuf::Roles roles(KeyType type, int base = 0) {
  return {role(key(type, base)),
          role(key(type, base + 1)),
          role(key(type, base + 2)),
          role(key(type, base + 3))};
}

Keys signers(KeyType type, int base = 0) {
  return {&key(type, base), &key(type, base + 1), &key(type, base + 2), &key(type, base + 3)};
}

std::string sha256_hex(const std::string& bytes) {
  return crypto::sha256(bytes).value().hex();
}

// tuf-js checks expiry against the real clock.
ecluse::TimePoint wall_now() {
  return ecluse::SystemClock().now();
}

tuf::Files update(const tuf::Files& current,
                  const tuf::Roles& r,
                  const Keys& keys,
                  ecluse::TimePoint now = wall_now()) {
  tuf::Target t{
      k_target, k_payload.size(), sha256_hex(k_payload), json::Json{{"release", "1.0.0"}}};
  auto out = tuf::update(
      current,
      tuf::UpdateRequest{.roles = r, .targets = {t}, .signers = keys, .now = now, .expiries = {}});
  REQUIRE_MESSAGE(out.has_value(), (out ? std::string() : out.error().to_string()));
  return *out;
}

// DIR/metadata/<files>, DIR/targets/acme/p/1.0.0/{a.bin, SHA256.a.bin}, DIR/trusted-root.json.
void serve_dir(const stdfs::path& dir,
               const tuf::Files& files,
               const std::string& trusted_root,
               const std::string& payload = k_payload) {
  for (const auto& [name, bytes] : files) {
    write(dir / "metadata" / name, bytes);
  }
  write(dir / "targets" / k_target, payload);
  write(dir / "targets/acme/p/1.0.0" / (sha256_hex(k_payload) + ".a.bin"), payload);
  write(dir / "trusted-root.json", trusted_root);
}

struct ClientRun {
  int status = -1;
  json::Json result = json::Json::object();  // the client's JSON line
  std::string output;
};

// Runs the client on dir; fails the test when tuf-js is not installed.
ClientRun run_client(const stdfs::path& dir, const std::string& extra) {
  if (!stdfs::exists(k_tools / "node_modules/tuf-js/package.json")) {
    FAIL("tuf-js is not installed: run `npm ci --prefix tests/tools/tuf-client`");
  }
  const std::string cmd = "node '" + (k_tools / "client.mjs").string() + "' --root '"
                          + (dir / "trusted-root.json").string() + "' --dir '" + dir.string() + "' "
                          + extra + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");  // NOLINT(cert-env33-c): a fixed test command
  REQUIRE(pipe != nullptr);
  ClientRun out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe) != nullptr) {
    out.output += buf.data();
  }
  const int raw = ::pclose(pipe);
  out.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  // The result is the last line that is a JSON object (Node may warn on stderr too).
  std::size_t start = 0;
  while (start < out.output.size()) {
    const auto end = std::min(out.output.find('\n', start), out.output.size());
    auto parsed = json::parse_strict(std::string_view(out.output).substr(start, end - start));
    if (parsed.failure == json::ParseFailure::none && parsed.value.is_object()) {
      out.result = std::move(parsed.value);
    }
    start = end + 1;
  }
  return out;
}

bool accepted(const ClientRun& r) {
  return r.status == 0 && r.result.value("ok", false);
}

}  // namespace

TEST_CASE("tuf::update's repository: tuf-js refuses a modified target and an expired timestamp") {
  const auto type = KeyType::ecdsa_p256;
  const Scratch dir;
  SUBCASE("a modified target") {
    const auto files = update({}, roles(type), signers(type));
    std::string modified = k_payload;
    modified[0] = 'P';
    serve_dir(dir.path(), files, files.at("1.root.json"), modified);
    const auto r = run_client(dir.path(), "--target " + k_target);
    CAPTURE(r.output);
    CHECK(r.status == 1);
    CHECK(r.result.value("ok", true) == false);
    CHECK(r.result.value("error", "").find("LengthOrHashMismatchError") != std::string::npos);
  }
  SUBCASE("an expired timestamp") {
    // Written two days ago: the one-day timestamp has expired, the rest has not.
    const auto files = update({}, roles(type), signers(type), wall_now() - std::chrono::hours(48));
    serve_dir(dir.path(), files, files.at("1.root.json"));
    const auto r = run_client(dir.path(), "--target " + k_target);
    CAPTURE(r.output);
    CHECK(r.status == 1);
    CHECK(r.result.value("error", "").find("timestamp.json is expired") != std::string::npos);
    // ecluse agrees, for the same reason.
    const auto v = tuf::verify(files.at("1.root.json"), files, wall_now());
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().reason == "tuf.expired");
  }
}

TEST_CASE("tuf::update's repository: tuf-js verifies it and downloads its targets") {
  for (const auto type : {KeyType::ecdsa_p256, KeyType::rsa_3072, KeyType::ed25519}) {
    CAPTURE(crypto::to_string(type));
    const Scratch dir;
    const auto files = update({}, roles(type), signers(type));
    serve_dir(dir.path(), files, files.at("1.root.json"));
    const auto r = run_client(dir.path(), "--target " + k_target);
    CAPTURE(r.output);
    REQUIRE(accepted(r));
    REQUIRE(r.result["targets"].size() == 1);
    CHECK(r.result["targets"][0]["path"] == k_target);
    CHECK(r.result["targets"][0]["sha256"] == sha256_hex(k_payload));
  }
}

TEST_CASE("tuf::update's repository: tuf-js fetches a target as DIR/SHA256.NAME") {
  const auto type = KeyType::ecdsa_p256;
  const Scratch dir;
  const auto files = update({}, roles(type), signers(type));
  serve_dir(dir.path(), files, files.at("1.root.json"));
  stdfs::remove(dir.path() / "targets" / k_target);
  const auto r = run_client(dir.path(), "--target " + k_target);
  CAPTURE(r.output);
  CHECK(accepted(r));
}

TEST_CASE("tuf::update's repository: tuf-js follows a root rotation and a second version") {
  const auto type = KeyType::ecdsa_p256;
  const Scratch dir;
  const auto v1 = update({}, roles(type), signers(type));
  auto keys = signers(type, 10);
  keys.push_back(&key(type, 0));  // the old root key signs 2.root.json too
  const auto v2 = update(v1, roles(type, 10), keys);
  REQUIRE(v2.contains("2.root.json"));
  serve_dir(dir.path(), v2, v1.at("1.root.json"));
  const auto r = run_client(dir.path(), "--all");
  CAPTURE(r.output);
  REQUIRE(accepted(r));
  REQUIRE(r.result["targets"].size() == 1);
  CHECK(r.result["targets"][0]["path"] == k_target);
}
