// Test-only helpers.
#include "support.hpp"

#include <ecluse/core/fs.hpp>
#include <ecluse/intake/intake.hpp>
#include <ecluse/keys/keyring.hpp>
#include <ecluse/policy/policy.hpp>
#include <ecluse/sandbox/profile.hpp>
#include <ecluse/trust/trust_store.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ecluse::test {

TempDir::TempDir() {
  std::string tmpl = (stdfs::temp_directory_path() / "ecluse-test-XXXXXX").string();
  const char* made = ::mkdtemp(tmpl.data());
  REQUIRE(made != nullptr);
  m_path = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Objects are read-only files in writable directories: remove_all handles them.
  stdfs::remove_all(m_path, ec);
}

TimePoint test_now() {
  return *parse_utc("2026-11-23T12:00:00Z");
}

void write_file(const stdfs::path& p, const std::string& bytes) {
  stdfs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

std::string read_file(const stdfs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string sha256_hex(const std::string& bytes) {
  return crypto::sha256(bytes).value().hex();
}

Run run(const std::string& cmd) {
  Run r;
  FILE* p = ::popen(("(" + cmd + ") 2>&1").c_str(), "r");  // NOLINT(cert-env33-c)
  REQUIRE(p != nullptr);
  std::array<char, 65536> buf{};
  for (std::size_t n = 0; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) {
    r.out.append(buf.data(), n);
  }
  r.status = ::pclose(p);
  return r;
}

json::Json DropBuilder::manifest() const {
  json::Json m = fields;
  m["artifacts"] = json::Json::array();
  for (const auto& [path, bytes] : files) {
    m["artifacts"].push_back(
        {{"path", path}, {"sha256", sha256_hex(bytes)}, {"size", bytes.size()}});
  }
  return m;
}

stdfs::path DropBuilder::write(const stdfs::path& dir) const {
  return write_with(dir, manifest().dump(2));
}

stdfs::path DropBuilder::write_with(const stdfs::path& dir, const std::string& drop_json) const {
  stdfs::create_directories(dir / "payload");
  for (const auto& [path, bytes] : files) {
    write_file(dir / "payload" / path, bytes);
  }
  write_file(dir / "drop.json", drop_json);
  if (auto sig = sign ? sign(drop_json) : std::nullopt) {
    write_file(dir / "drop.json.sig", *sig);
  }
  return dir;
}

pki::CertSpec cert_spec(
    const std::string& cn, bool ca, TimePoint not_before, TimePoint not_after, pki::KeyType key) {
  pki::CertSpec spec;
  spec.cn = cn;
  spec.org = "Acme";
  spec.ca = ca;
  spec.key = key;
  spec.not_before = not_before;
  spec.not_after = not_after;
  return spec;
}

const VendorPki& acme_pki() {
  using std::chrono::days;
  static const VendorPki k_pki = [] {
    const auto now = test_now();
    auto r = pki::make_root(cert_spec("Acme Test Root", true, now - days(3650), now + days(3650)));
    auto i =
        pki::issue(r, cert_spec("Acme Test Release CA", true, now - days(365), now + days(1825)));
    auto l = pki::issue(
        i, cert_spec("Acme Test Release Signing", false, now - days(30), now + days(365)));
    return VendorPki{r, i, l};
  }();
  return k_pki;
}

std::optional<std::string> acme_signature(const std::string& drop_json) {
  const auto& p = acme_pki();
  return pki::sign_cms(drop_json, p.leaf, {p.intermediate.cert});
}

json::Json test_policy() {
  auto doc = policy::default_policy_json();
  doc["actions"]["test.no_suite"] = "allow";
  return doc;
}

TestWorkspace::TestWorkspace() {
  auto ws = workspace::init(dir / "ws");
  REQUIRE(ws.has_value());
  REQUIRE(fs::write_file_atomic(ws->root() / policy::k_policy_file,
                                json::dump_pretty(test_policy()),
                                reason::k_workspace_io)
              .has_value());
  REQUIRE(sandbox::write_defaults(ws->root() / sandbox::k_sandbox_dir).has_value());
  auto opened = pipeline::Session::open(std::move(*ws), clock, "test");
  REQUIRE(opened.has_value());
  session = std::make_unique<pipeline::Session>(std::move(*opened));
  const trust::X509Additions add{{{"acme-root.pem", acme_pki().root.cert.pem()}}, {}, {}};
  REQUIRE(trust::TrustStore(session->ws()).add_x509("acme", add, clock.now()).has_value());
  add_operator_keys(session->ws().keys_dir(), clock.now());
}

void add_operator_keys(const stdfs::path& keys_dir, TimePoint now) {
  auto ring = keys::Keyring::open(keys_dir);
  REQUIRE(ring.has_value());
  for (const auto role : {keys::Role::root, keys::Role::release, keys::Role::journal}) {
    REQUIRE(ring->generate({role, crypto::KeyType::ecdsa_p256, "", ""}, now).has_value());
  }
  for (const auto* name : {"alice", "bob", "carol"}) {
    REQUIRE(ring->generate({keys::Role::engineer, crypto::KeyType::ecdsa_p256, name, ""}, now)
                .has_value());
  }
  REQUIRE(ring->init_ca("ecluse test operator CA", 3650, now).has_value());
}

std::string TestWorkspace::intake_only(const stdfs::path& drop_dir) const {
  const intake::Context ctx{s().ws(), s().objects(), s().clock(), {}};
  auto in = intake::intake(ctx, intake::open_drop(drop_dir, s().ws().config().limits));
  REQUIRE(in.staged.has_value());
  store::DropRecord d;
  d.id = in.who.id;
  d.vendor = in.who.vendor;
  d.product = in.who.product;
  d.version = in.who.version;
  d.channel = in.who.channel;
  d.source = in.who.source;
  REQUIRE(s().state()
              .create_drop(d,
                           store::StageRecord{
                               "intake", DropState::received, in.evidence, format_utc(clock.now())})
              .has_value());
  // Journaling is not what these tests look at: the commit counts as journaled, so that the
  // journal outbox (pipeline::recover_journal) does not write it later.
  REQUIRE(s().state().mark_journaled(d.id).has_value());
  return d.id;
}

std::map<std::string, std::uintmax_t> TestWorkspace::quarantine_snapshot() const {
  std::map<std::string, std::uintmax_t> out;
  for (const auto* sub : {"quarantine", "journal", "staging"}) {
    for (const auto& e : stdfs::recursive_directory_iterator(dir / "ws" / sub)) {
      out[e.path().string()] = e.is_regular_file() ? e.file_size() : 0;
    }
  }
  return out;
}

}  // namespace ecluse::test
