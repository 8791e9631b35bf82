// The unpack stage through the pipeline driver, on archives generated at test time by
// tests/support/make_archives.py: every format, every rejection reason (one case each), with a
// canary directory beside the workspace that must stay untouched and no object of a rejected
// drop left in the store.
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/pipeline/gc.hpp>
#include <ecluse/store/content_store.hpp>
#include <ecluse/unpack/tree.hpp>
#include <ecluse/unpack/unpack.hpp>

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "support/support.hpp"

namespace stdfs = std::filesystem;

using ecluse::DropState;
using ecluse::json::Json;
using ecluse::test::DropBuilder;
using ecluse::test::read_file;
using ecluse::test::TempDir;
using ecluse::test::TestWorkspace;

namespace {

// The corpus, generated once per test process.
class Corpus {
 public:
  static const Corpus& get() {
    static const Corpus c;
    return c;
  }

  [[nodiscard]] std::string bytes(const std::string& name) const {
    return read_file(m_dir.path() / m_cases.at(name).at("file").get<std::string>());
  }

  [[nodiscard]] std::string file(const std::string& name) const {
    return m_cases.at(name).at("file").get<std::string>();
  }

  [[nodiscard]] const Json& expect(const std::string& name) const { return m_cases.at(name); }

 private:
  Corpus() {
    const std::string cmd = "python3 " ECLUSE_SOURCE_DIR "/tests/support/make_archives.py "
                            + m_dir.path().string() + " >/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    for (const auto& c : Json::parse(read_file(m_dir.path() / "cases.json"))) {
      m_cases[c.at("name").get<std::string>()] = c;
    }
  }

  TempDir m_dir;
  std::map<std::string, Json> m_cases;
};

// Every file under dir, with its content: to prove nothing was written there.
std::map<std::string, std::string> tree_of(const stdfs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : stdfs::recursive_directory_iterator(dir)) {
    out[e.path().string()] = e.is_regular_file() ? read_file(e.path()) : std::string("<dir>");
  }
  return out;
}

std::size_t objects_in(const stdfs::path& objects) {
  std::size_t n = 0;
  for (const auto& e : stdfs::recursive_directory_iterator(objects)) {
    n += e.is_regular_file() ? 1U : 0U;
  }
  return n;
}

// A workspace with a canary directory beside it and optional unpack limits.
struct Fixture {
  TestWorkspace w;
  stdfs::path canary = w.dir.path() / "canary";

  explicit Fixture(const Json& unpack_limits = Json::object()) {
    stdfs::create_directories(canary / "sub");
    ecluse::test::write_file(canary / "keep.txt", "canary\n");
    if (!unpack_limits.empty()) {
      const auto cfg_path = w.dir.path() / "ws" / "ecluse.json";
      auto cfg = Json::parse(read_file(cfg_path));
      cfg["unpack"].update(unpack_limits);
      ecluse::test::write_file(cfg_path, cfg.dump());
      auto ws = ecluse::workspace::Workspace::open(w.dir.path() / "ws");
      REQUIRE(ws.has_value());
      auto s = ecluse::pipeline::Session::open(std::move(*ws), w.clock, "test");
      REQUIRE(s.has_value());
      w.session = std::make_unique<ecluse::pipeline::Session>(std::move(*s));
    }
  }

  // The tree manifest of an unpacked drop.
  [[nodiscard]] Json tree(const std::string& id) const {
    return Json::parse(read_file(w.dir.path() / "ws" / "quarantine" / "drops" / id / "tree.json"));
  }

  // Ingests a drop holding the artifacts given (name → bytes).
  ecluse::pipeline::IngestOutcome ingest(const std::map<std::string, std::string>& files,
                                         const std::string& version = "1.2.3",
                                         const std::optional<Json>& contents = std::nullopt) {
    DropBuilder b;
    b.files = files;
    b.fields["version"] = version;
    auto manifest = b.manifest();
    if (contents) {
      manifest["artifacts"][0]["contents"] = *contents;
    }
    const auto dir = b.write_with(w.dir.path() / ("drop-" + version), manifest.dump());
    auto out = ecluse::pipeline::ingest(w.s(), dir);
    REQUIRE(out.has_value());
    return std::move(*out);
  }
};

// Runs one corpus case and checks its verdict, item, the canary and the store.
bool is_finding(const std::string& code) {
  static const std::set<std::string> k_findings{"unpack.name_invalid_utf8",
                                                "unpack.name_control_char",
                                                "unpack.name_collision",
                                                "unpack.duplicate_entry",
                                                "unpack.git_path",
                                                "unpack.setuid",
                                                "unpack.world_writable"};
  return k_findings.contains(code);
}

void expect_case(const std::string& name, const Json& limits = Json::object()) {
  CAPTURE(name);
  const auto& c = Corpus::get();
  Fixture f(limits);
  const auto canary_before = tree_of(f.canary);
  const auto out = f.ingest({{c.file(name), c.bytes(name)}});
  const auto& expect = c.expect(name);
  CHECK(tree_of(f.canary) == canary_before);
  const auto ws = f.w.dir.path() / "ws";
  CHECK(stdfs::is_empty(ws / "quarantine" / "tmp"));
  if (expect.at("expect") == "ok") {
    REQUIRE(ecluse::test::past(out.drop.state, DropState::unpacked));
    CHECK(stdfs::exists(ws / "quarantine" / "drops" / out.drop.id / "tree.json"));
    return;
  }
  REQUIRE(out.drop.state == DropState::rejected);
  REQUIRE(out.drop.rejection.has_value());
  const auto code = expect.at("expect").get<std::string>();
  // Names and modes are findings: unpack records them and the policy verdict rejects.
  const bool finding = is_finding(code);
  CHECK(out.drop.rejection->stage == (finding ? "policy" : "unpack"));
  CHECK(out.drop.rejection->reason == code);
  if (expect.at("item").is_string()) {
    CHECK(out.drop.rejection->item.find(expect.at("item").get<std::string>()) != std::string::npos);
  }
  CHECK(out.drop.rejection->item.find(c.file(name)) == 0);
  if (finding) {
    CHECK(stdfs::exists(ws / "quarantine" / "drops" / out.drop.id / "tree.json"));
    return;
  }
  // Only the artifact intake stored: none of the rejected drop's entries reached the store.
  CHECK(objects_in(ws / "quarantine" / "objects") == 1);
  CHECK_FALSE(stdfs::exists(ws / "quarantine" / "drops" / out.drop.id / "tree.json"));
}

const Json k_small_ratio_floor{{"ratio_floor_bytes", 1 << 20}};

}  // namespace

TEST_SUITE("unpack formats") {
  TEST_CASE("tar, plain and compressed with gzip, bzip2, xz, zstd and lz4") {
    for (const auto* name :
         {"ok-tar", "ok-tar-gz", "ok-tar-bz2", "ok-tar-xz", "ok-tar-zst", "ok-tar-lz4"}) {
      expect_case(name);
    }
  }
  TEST_CASE("zip stored and deflated, 7z, cpio, ar, deb, rpm, cab, iso9660, xar") {
    for (const auto* name : {"ok-zip-stored",
                             "ok-zip-deflate",
                             "ok-7z",
                             "ok-cpio",
                             "ok-ar",
                             "ok-deb",
                             "ok-rpm",
                             "ok-cab",
                             "ok-iso",
                             "ok-xar"}) {
      expect_case(name);
    }
  }
  TEST_CASE("cpio hardlinks: the data on the last link is read, hashed and shared") {
    const auto& c = Corpus::get();
    Fixture f;
    const auto out = f.ingest({{"links.cpio", c.bytes("ok-cpio-hardlinks")}});
    REQUIRE(ecluse::test::past(out.drop.state, DropState::unpacked));
    const auto tree = f.tree(out.drop.id);
    const auto& entries = tree["artifacts"][0]["contents"];
    REQUIRE(entries.size() == 2);
    std::string data;
    for (int i = 0; i < 100; ++i) {
      data += "shared content\n";
    }
    CHECK(entries[0]["sha256"] == ecluse::test::sha256_hex(data));
    CHECK(entries[1]["type"] == "hardlink");
    CHECK(entries[1]["sha256"] == ecluse::test::sha256_hex(data));
  }
  TEST_CASE("plain files and compressed plain files are stored as one file") {
    expect_case("ok-plain");
    expect_case("ok-gz-plain");
  }
  TEST_CASE("the tree manifest lists every entry with type, mode, size, digest and target") {
    const auto& c = Corpus::get();
    Fixture f;
    const auto out = f.ingest({{"app.tar", c.bytes("ok-tar")}});
    REQUIRE(ecluse::test::past(out.drop.state, DropState::unpacked));
    const auto tree = f.tree(out.drop.id);
    const auto& a = tree["artifacts"][0];
    CHECK(a["format"] == "tar");
    std::map<std::string, Json> by_path;
    for (const auto& e : a["contents"]) {
      by_path[e["path"].get<std::string>()] = e;
    }
    CHECK(by_path.at("hello.txt")["sha256"] == ecluse::test::sha256_hex("hello\n"));
    CHECK(by_path.at("hello.txt")["size"] == 6);
    CHECK(by_path.at("bin/tool")["mode"] == "0755");
    CHECK(by_path.at("docs")["type"] == "dir");
    CHECK(by_path.at("link")["type"] == "symlink");
    CHECK(by_path.at("link")["target"] == "hello.txt");
    // Each file's content is an object in the store.
    const ecluse::store::ContentStore store(f.w.dir.path() / "ws" / "quarantine" / "objects",
                                            f.w.dir.path() / "ws" / "quarantine" / "tmp");
    CHECK(store
              .read(*ecluse::crypto::Digest::from_hex(
                  by_path.at("hello.txt")["sha256"].get<std::string>()))
              .value()
          == "hello\n");
  }
  TEST_CASE("archives inside archives are unpacked too, and .deb is ar holding tar.xz") {
    const auto& c = Corpus::get();
    Fixture f;
    const auto out =
        f.ingest({{"nested.tar.gz", c.bytes("ok-nested")}, {"ok.deb", c.bytes("ok-deb")}});
    REQUIRE(ecluse::test::past(out.drop.state, DropState::unpacked));
    const auto tree = f.tree(out.drop.id);
    const auto& nested = tree["artifacts"][0];
    CHECK(nested["path"] == "nested.tar.gz");
    CHECK(nested["filters"] == Json::array({"gzip"}));
    Json inner;
    for (const auto& e : nested["contents"]) {
      if (e["path"] == "inner.zip") {
        inner = e;
      }
    }
    REQUIRE(inner.is_object());
    CHECK(inner["format"] == "zip");
    CHECK(inner["contents"][0]["format"] == "tar");
    CHECK(inner["contents"][0]["contents"][0]["path"] == "hello.txt");
    const auto& deb = tree["artifacts"][1];
    CHECK(deb["format"] == "ar");
    bool data_unpacked = false;
    for (const auto& e : deb["contents"]) {
      data_unpacked = data_unpacked || (e["path"] == "data.tar.xz" && e["format"] == "tar");
    }
    CHECK(data_unpacked);
  }
}

TEST_SUITE("unpack path safety") {
  TEST_CASE("unpack.path_absolute") {
    expect_case("path-absolute");
    expect_case("path-drive");
  }
  TEST_CASE("unpack.path_traversal") {
    expect_case("path-traversal");
    expect_case("path-traversal-inner");
  }
  TEST_CASE("unpack.path_backslash") {
    expect_case("path-backslash");
  }
  TEST_CASE("unpack.bad_name") {
    expect_case("bad-name");
  }
  TEST_CASE("unpack.symlink_escape") {
    expect_case("symlink-escape");
    expect_case("symlink-absolute");
  }
  TEST_CASE("unpack.write_through_symlink") {
    expect_case("symlink-write-through");
  }
  TEST_CASE("unpack.hardlink_escape") {
    expect_case("hardlink-escape");
    expect_case("hardlink-unseen");
  }
  TEST_CASE("unpack.special_file") {
    expect_case("special-chr");
    expect_case("special-fifo");
  }
  TEST_CASE("unpack.type_conflict") {
    expect_case("type-conflict");
  }
}

TEST_SUITE("unpack names and modes") {
  TEST_CASE("unpack.name_invalid_utf8") {
    expect_case("name-utf8");
  }
  TEST_CASE("unpack.name_control_char") {
    expect_case("name-control");
  }
  TEST_CASE("unpack.name_collision") {
    expect_case("name-case");
    expect_case("name-nfc");
  }
  TEST_CASE("unpack.duplicate_entry") {
    expect_case("duplicate");
  }
  TEST_CASE("unpack.git_path") {
    expect_case("git-dir");
    expect_case("gitmodules");
  }
  TEST_CASE("unpack.setuid") {
    expect_case("setuid");
  }
  TEST_CASE("unpack.world_writable") {
    expect_case("world-writable");
  }
  TEST_CASE("findings are stored with the drop") {
    const auto& c = Corpus::get();
    Fixture f;
    const auto out = f.ingest({{"git.tar", c.bytes("git-dir")}});
    auto findings = f.w.s().state().findings(out.drop.id).value();
    std::erase_if(findings, [](const auto& x) { return x.stage != "unpack"; });
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].stage == "unpack");
    CHECK(findings[0].code == "unpack.git_path");
    CHECK(findings[0].item == "git.tar//.git/config");
  }
}

TEST_SUITE("unpack limits") {
  TEST_CASE("unpack.nesting_too_deep") {
    expect_case("nesting");
  }
  TEST_CASE("unpack.total_too_large") {
    expect_case("limits-total", Json{{"max_total_bytes", 3 << 20}});
    // A 42.zip-style recursive bomb: 16 GiB if fully expanded, stopped at the budget.
    expect_case("zip-bomb-recursive", Json{{"max_total_bytes", 8 << 20}});
  }
  TEST_CASE("unpack.entry_too_large") {
    expect_case("limits-entry", Json{{"max_entry_bytes", 1 << 20}});
  }
  TEST_CASE("unpack.too_many_entries") {
    expect_case("limits-many", Json{{"max_entries", 1000}});
  }
  TEST_CASE("unpack.name_too_long") {
    expect_case("limits-name");
  }
  TEST_CASE("unpack.path_too_long") {
    expect_case("limits-path");
  }
  TEST_CASE("unpack.entry_ratio") {
    expect_case("ratio-entry", Json{{"ratio_floor_bytes", 1 << 20}, {"max_entry_ratio", 50}});
  }
  TEST_CASE("unpack.archive_ratio") {
    expect_case("ratio-archive", k_small_ratio_floor);
  }
  TEST_CASE("unpack.zip_overlap: a non-recursive overlapping-entry zip bomb") {
    expect_case("zip-overlap");
  }
}

TEST_SUITE("unpack corrupt input") {
  TEST_CASE("unpack.truncated") {
    expect_case("truncated-tar");
    expect_case("truncated-gz");
  }
  TEST_CASE("unpack.checksum") {
    expect_case("crc-zip");
    expect_case("crc-gzip");
  }
  TEST_CASE("unpack.corrupt") {
    expect_case("corrupt-header");
  }
  TEST_CASE("unpack.encrypted") {
    expect_case("encrypted-zip");
  }
  TEST_CASE("unpack.trailing_data") {
    expect_case("trailing-padding");
    expect_case("trailing-tar");
    expect_case("trailing-gz");
    expect_case("trailing-zip");
  }
  TEST_CASE("unpack.empty_archive") {
    expect_case("empty-tar");
    expect_case("empty-zip");
  }
  TEST_CASE("unpack.format_mismatch") {
    expect_case("mismatch-zip-is-tar");
    expect_case("mismatch-targz-is-text");
  }
  TEST_CASE("unpack.zip_name_mismatch") {
    expect_case("zip-name-mismatch");
  }
}

TEST_SUITE("unpack plain data") {
  TEST_CASE("data that only starts like an archive is a plain file, at the top and nested") {
    Fixture f;
    std::map<std::string, std::string> files;
    int i = 0;
    for (const std::string& prefix : {std::string("\xc7\x71"),
                                      std::string("\x1f\x8b"),
                                      std::string("PK\x03\x04"),
                                      std::string("070707")}) {
      std::string data = prefix;
      for (int k = 0; k < 5000; ++k) {
        data += static_cast<char>((k * 7919 + i * 31) % 251);
      }
      files["blob" + std::to_string(i++) + ".bin"] = data;
    }
    const auto out = f.ingest(files);
    CHECK(ecluse::test::past(out.drop.state, DropState::unpacked));
    // The same blob named as an archive is refused.
    Fixture g;
    const auto named = g.ingest({{"blob.tar.gz", files.at("blob1.bin")}});
    REQUIRE(named.drop.state == DropState::rejected);
    CHECK(named.drop.rejection->reason == "unpack.corrupt");
  }
}

namespace {

// The vendor's listing of ok.tar, as the tree manifest records it.
Json listing_of_ok_tar() {
  const auto& c = Corpus::get();
  Fixture f;
  const auto out = f.ingest({{"app.tar", c.bytes("ok-tar")}});
  REQUIRE(ecluse::test::past(out.drop.state, DropState::unpacked));
  const auto tree = f.tree(out.drop.id);
  return tree["artifacts"][0]["contents"];
}

Json& entry(Json& listing, const std::string& path) {
  for (auto& e : listing) {
    if (e["path"] == path) {
      return e;
    }
  }
  FAIL("no entry " << path);
  return listing;
}

// Ingests ok.tar with a vendor listing changed by `edit`; checks the verdict.
void expect_listing(const std::function<void(Json&)>& edit, const std::string& code) {
  CAPTURE(code);
  auto listing = listing_of_ok_tar();
  edit(listing);
  Fixture f;
  const auto canary_before = tree_of(f.canary);
  const auto out = f.ingest({{"app.tar", Corpus::get().bytes("ok-tar")}}, "1.2.3", listing);
  CHECK(tree_of(f.canary) == canary_before);
  if (code == "ok") {
    CHECK(ecluse::test::past(out.drop.state, DropState::unpacked));
    return;
  }
  REQUIRE(out.drop.state == DropState::rejected);
  CHECK(out.drop.rejection->reason == code);
  CHECK(out.drop.rejection->item.rfind("app.tar", 0) == 0);
  CHECK(objects_in(f.w.dir.path() / "ws" / "quarantine" / "objects") == 1);
}

}  // namespace

TEST_SUITE("unpack vendor listing") {
  TEST_CASE("a listing that matches exactly is accepted") {
    expect_listing([](Json&) {}, "ok");
  }
  TEST_CASE("unpack.listing_missing") {
    expect_listing(
        [](Json& l) {
          l.push_back({{"path", "extra.txt"}, {"type", "file"}});
        },
        "unpack.listing_missing");
  }
  TEST_CASE("unpack.listing_unlisted") {
    expect_listing(
        [](Json& l) {
          Json kept = Json::array();
          for (const auto& e : l) {
            if (e["path"] != "hello.txt") {
              kept.push_back(e);
            }
          }
          l = kept;
        },
        "unpack.listing_unlisted");
  }
  TEST_CASE("unpack.listing_digest") {
    expect_listing([](Json& l) { entry(l, "hello.txt")["sha256"] = std::string(64, 'a'); },
                   "unpack.listing_digest");
  }
  TEST_CASE("unpack.listing_size") {
    expect_listing([](Json& l) { entry(l, "hello.txt")["size"] = 7; }, "unpack.listing_size");
  }
  TEST_CASE("unpack.listing_type") {
    expect_listing([](Json& l) { entry(l, "docs")["type"] = "file"; }, "unpack.listing_type");
  }
  TEST_CASE("unpack.listing_mode") {
    expect_listing([](Json& l) { entry(l, "bin/tool")["mode"] = "0700"; }, "unpack.listing_mode");
    expect_listing([](Json& l) { entry(l, "bin/tool")["mode"] = 0755; }, "ok");
  }
  TEST_CASE("unpack.listing_target") {
    expect_listing([](Json& l) { entry(l, "link")["target"] = "other.txt"; },
                   "unpack.listing_target");
  }
  TEST_CASE("unpack.listing_malformed") {
    expect_listing(
        [](Json& l) {
          l.push_back({{"path", 1}, {"type", "file"}});
        },
        "unpack.listing_malformed");
    expect_listing([](Json& l) { entry(l, "hello.txt")["colour"] = "red"; },
                   "unpack.listing_malformed");
  }
}

TEST_SUITE("unpack store") {
  TEST_CASE("a patch release stores only the files that changed") {
    Fixture f;
    std::string a(200000, 'a');
    std::string b(200000, 'b');
    const auto pack = [](const std::map<std::string, std::string>& files) {
      // A tar written by hand: ustar headers, no compression.
      std::string out;
      for (const auto& [name, data] : files) {
        std::string h(512, '\0');
        name.copy(h.data(), name.size());
        std::snprintf(h.data() + 100, 8, "%07o", 0644);
        std::snprintf(h.data() + 108, 8, "%07o", 0);
        std::snprintf(h.data() + 116, 8, "%07o", 0);
        std::snprintf(h.data() + 124, 12, "%011zo", data.size());
        std::snprintf(h.data() + 136, 12, "%011o", 0);
        h[156] = '0';
        std::memcpy(h.data() + 257, "ustar\00000", 8);
        std::memset(h.data() + 148, ' ', 8);
        unsigned sum = 0;
        for (const char ch : h) {
          sum += static_cast<unsigned char>(ch);
        }
        std::snprintf(h.data() + 148, 8, "%06o", sum);
        out += h + data + std::string((512 - data.size() % 512) % 512, '\0');
      }
      return out + std::string(1024, '\0');
    };
    std::map<std::string, std::string> v1;
    for (int i = 0; i < 50; ++i) {
      v1["f" + std::to_string(i)] = a + std::to_string(i);
    }
    auto v2 = v1;
    v2["f7"] = b;
    const auto ws = f.w.dir.path() / "ws" / "quarantine" / "objects";
    REQUIRE(ecluse::test::past(f.ingest({{"app.tar", pack(v1)}}, "1.0.0").drop.state,
                               DropState::unpacked));
    const auto after_v1 = objects_in(ws);
    CHECK(after_v1 == 51);  // 50 files and the archive
    REQUIRE(ecluse::test::past(f.ingest({{"app.tar", pack(v2)}}, "1.0.1").drop.state,
                               DropState::unpacked));
    CHECK(objects_in(ws) == after_v1 + 2);  // the new archive and the one changed file
  }
  TEST_CASE("gc removes what a rejected drop left and keeps what live drops use") {
    const auto& c = Corpus::get();
    Fixture f;
    REQUIRE(ecluse::test::past(f.ingest({{"app.tar", c.bytes("ok-tar")}}, "1.0.0").drop.state,
                               DropState::unpacked));
    const auto objects = f.w.dir.path() / "ws" / "quarantine" / "objects";
    const auto live = objects_in(objects);
    REQUIRE(f.ingest({{"evil.tar", c.bytes("path-traversal")}}, "1.0.1").drop.state
            == DropState::rejected);
    CHECK(objects_in(objects) == live + 1);  // the rejected drop's artifact, kept by intake
    const auto dry = ecluse::pipeline::gc(f.w.s(), true).value();
    CHECK(dry.objects_removed == 1);
    CHECK(objects_in(objects) == live + 1);
    const auto report = ecluse::pipeline::gc(f.w.s(), false).value();
    CHECK(report.objects_removed == 1);
    CHECK(report.objects_kept == live);
    CHECK(objects_in(objects) == live);
    CHECK(ecluse::pipeline::gc(f.w.s(), false).value().objects_removed == 0);
  }
}
