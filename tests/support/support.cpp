// Test-only helpers.
#include "support.hpp"

#include <doctest/doctest.h>

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
  write_file(dir / "drop.json.sig",
             "unverified signature bytes: intake carries them, verify checks them");
  return dir;
}

TestWorkspace::TestWorkspace() {
  auto ws = workspace::init(dir / "ws");
  REQUIRE(ws.has_value());
  auto opened = pipeline::Session::open(std::move(*ws), clock, "test");
  REQUIRE(opened.has_value());
  session = std::make_unique<pipeline::Session>(std::move(*opened));
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
