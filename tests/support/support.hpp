// Test-only helpers: temporary directories, a fixed clock, and drops built at run time.
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/workspace/workspace.hpp>

#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "support/pki.hpp"

namespace ecluse::test {

namespace stdfs = std::filesystem;

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&&) = delete;
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();

  [[nodiscard]] const stdfs::path& path() const { return m_path; }

  stdfs::path operator/(const std::string& rel) const { return m_path / rel; }

 private:
  stdfs::path m_path;
};

// The test seam for time.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(TimePoint t) : m_now(t) {}

  [[nodiscard]] TimePoint now() const override { return m_now; }

  void set(TimePoint t) { m_now = t; }

 private:
  TimePoint m_now;
};

// 2026-11-23T12:00:00Z.
TimePoint test_now();

void write_file(const stdfs::path& p, const std::string& bytes);
std::string read_file(const stdfs::path& p);
std::string sha256_hex(const std::string& bytes);

// A shell command's exit status (as pclose returns it) and its output, stderr included.
struct Run {
  int status = -1;
  std::string out;
};

// Runs cmd with /bin/sh, its stderr folded into its stdout.
Run run(const std::string& cmd);

// The value r holds; the test fails with r's error if it holds none.
template <class T>
T must(Result<T> r) {
  if (!r) {
    FAIL(r.error().to_string());
  }
  return std::move(*r);
}

// The test fails with s's error unless s holds.
inline void must(const Status& s) {
  if (!s) {
    FAIL(s.error().to_string());
  }
}

// Did a drop in state s get through `stage` (at or past it, not rejected)?
inline bool past(DropState s, DropState stage) {
  return s != DropState::rejected && forward_rank(s) >= forward_rank(stage);
}

// A certificate spec with organisation "Acme" (EKU codeSigning and digitalSignature for leaves).
pki::CertSpec cert_spec(const std::string& cn,
                        bool ca,
                        TimePoint not_before,
                        TimePoint not_after,
                        pki::KeyType key = pki::KeyType::ec_p256);

// The test vendor "acme": an EC P-256 root, intermediate and code-signing leaf made once per
// process, valid around test_now(). TestWorkspace pins its root; DropBuilder signs with its leaf.
struct VendorPki {
  pki::Issued root;
  pki::Issued intermediate;
  pki::Issued leaf;
};

const VendorPki& acme_pki();

// A detached DER CMS signature by acme's leaf, carrying the intermediate.
std::optional<std::string> acme_signature(const std::string& drop_json);

// A vendor drop under construction: payload files and a drop.json describing them.
struct DropBuilder {
  std::map<std::string, std::string> files{{"bin/app", "#!/bin/sh\necho demo app\n"},
                                           {"README", "demo product\n"}};
  json::Json fields{{"schema", "ecluse.drop/v1"},
                    {"vendor", "acme"},
                    {"product", "cloud"},
                    {"version", "1.2.3"},
                    {"channel", "prod"},
                    {"released", "2026-11-01T00:00:00Z"}};

  // drop.json.sig for the drop.json bytes; nullopt writes no signature file.
  std::function<std::optional<std::string>(const std::string&)> sign = acme_signature;

  // drop.json's object for the current files (artifacts sorted by path).
  [[nodiscard]] json::Json manifest() const;
  // Writes dir/{drop.json, drop.json.sig, payload/...}; returns dir.
  stdfs::path write(const stdfs::path& dir) const;
  // Writes the given drop.json text instead of the generated one.
  stdfs::path write_with(const stdfs::path& dir, const std::string& drop_json) const;
};

// A workspace in a temporary directory with an open session on a fixed clock, trusting acme's
// root for vendor "acme".
// The policy TestWorkspace writes: the default, but a drop without a test suite passes (the unit
// tests' products have none; sandbox tests write their own suites and policies).
json::Json test_policy();

// Operator keys for tests: root, release and journal keys, engineers alice, bob and carol, and
// the operator CA with the release certificate (ECDSA P-256: fast to generate).
void add_operator_keys(const stdfs::path& keys_dir, TimePoint now);

struct TestWorkspace {
  TempDir dir;
  FixedClock clock{test_now()};
  std::unique_ptr<pipeline::Session> session;
  TestWorkspace();

  [[nodiscard]] const pipeline::Session& s() const { return *session; }

  // Every file under quarantine/ and journal/ with its size: to assert "nothing else changed".
  [[nodiscard]] std::map<std::string, std::uintmax_t> quarantine_snapshot() const;

  // Runs intake alone and records the drop as received (for tests of the stage mechanism).
  [[nodiscard]] std::string intake_only(const stdfs::path& drop_dir) const;
};

}  // namespace ecluse::test
