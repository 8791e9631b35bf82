// The tree diff on its own: generates two synthetic tree manifests (ecluse.tree/v1), or loads
// two with unpack::load_tree (digest checked, as the diff stage does) and compares them with
// diff::compare_trees, timing the load and the comparison apart. One JSON line per command.
// usage: ecluse-bench-diff gen OUT_DIR [--entries N] [--artifacts K] [--seed S]
//          writes OUT_DIR/before.json and OUT_DIR/after.json: N entries each (all levels, the K
//          artifacts included), the second with about 2% of them changed (1% modified, 0.3%
//          added, 0.3% removed, 0.3% renamed, 0.1% mode); prints what it changed
//        ecluse-bench-diff compare BEFORE AFTER
//          prints load_seconds (both files, in parallel as ecluse diff does: read, SHA-256,
//          parse, tree), compare_seconds and
//          the summary's counts
//        ecluse-bench-diff profile MANIFEST
//          where load_tree's time goes: read, SHA-256, json::parse_strict (SAX, duplicate keys),
//          unpack::tree_from_json; and, for scale, nlohmann's parse without a callback
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/diff/tree_diff.hpp>
#include <ecluse/unpack/tree.hpp>
#include <ecluse/unpack/unpack.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <set>
#include <string>
#include <vector>

namespace {

using ecluse::unpack::Entry;
using ecluse::unpack::EntryType;
using ecluse::unpack::Tree;

// splitmix64: the same numbers on every platform (std distributions are not portable).
struct Rng {
  std::uint64_t s;

  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27U)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31U);
  }

  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

ecluse::crypto::Digest random_digest(Rng& rng) {
  std::array<std::uint8_t, ecluse::crypto::Digest::k_size> b{};
  for (std::size_t i = 0; i < b.size(); i += 8) {
    const auto v = rng.next();
    for (std::size_t k = 0; k < 8; ++k) {
      b[i + k] = static_cast<std::uint8_t>(v >> (8U * k));
    }
  }
  return ecluse::crypto::Digest(b);
}

constexpr std::array<const char*, 6> k_tops = {"bin", "etc", "include", "lib", "python", "share"};
constexpr std::array<const char*, 8> k_exts = {
    ".so", ".h", ".py", ".json", ".txt", ".png", ".mo", ".dat"};

Entry file_entry(Rng& rng, std::string path) {
  Entry e;
  e.path = std::move(path);
  e.type = EntryType::file;
  e.mode = rng.below(10) == 0 ? 0755 : 0644;
  e.size = 512 + rng.below(256 * 1024);
  e.sha256 = random_digest(rng);
  return e;
}

// One artifact's contents: directories three levels deep, files (93%), symlinks (2%).
std::vector<Entry> artifact_contents(Rng& rng, std::size_t n, std::vector<std::string>& leaves) {
  std::vector<Entry> out;
  std::set<std::string> dirs;
  leaves.clear();
  const std::size_t leaf_dirs = std::max<std::size_t>(1, n / 25);
  while (leaves.size() < leaf_dirs) {
    const std::string top = k_tops[rng.below(k_tops.size())];
    const std::string pkg = top + "/pkg" + std::to_string(rng.below(60));
    const std::string mod = pkg + "/mod" + std::to_string(rng.below(40));
    if (dirs.insert(mod).second) {
      leaves.push_back(mod);
    }
    dirs.insert(top);
    dirs.insert(pkg);
  }
  for (const auto& d : dirs) {
    Entry e;
    e.path = d;
    e.type = EntryType::dir;
    e.mode = 0755;
    out.push_back(std::move(e));
  }
  std::set<std::string> names;
  std::size_t k = 0;
  while (out.size() < n) {
    const auto& dir = leaves[rng.below(leaves.size())];
    std::string path = dir + "/f" + std::to_string(k++) + k_exts[rng.below(k_exts.size())];
    if (rng.below(50) == 0 && !names.empty()) {
      Entry e;
      e.path = path + ".link";
      e.type = EntryType::symlink;
      e.mode = 0777;
      e.target = "../" + std::string(k_tops[0]);
      out.push_back(std::move(e));
      continue;
    }
    names.insert(path);
    out.push_back(file_entry(rng, std::move(path)));
  }
  return out;
}

struct Counts {
  std::size_t modified = 0, added = 0, removed = 0, renamed = 0, mode = 0;
};

// The same artifact in a patch release: every `step`-th file changed, in turn by kind.
std::vector<Entry> patched(Rng& rng,
                           const std::vector<Entry>& before,
                           const std::vector<std::string>& leaves,
                           Counts& c) {
  std::vector<Entry> out;
  std::size_t files = 0;
  std::size_t fresh = 0;
  // Out of every 100 files: 1 modified, 0.3 added, 0.3 removed, 0.3 renamed, 0.1 mode (2%).
  for (const auto& e : before) {
    if (e.type != EntryType::file) {
      out.push_back(e);
      continue;
    }
    const auto slot = files++ % 1000;
    Entry n = e;
    if (slot < 10) {
      n.sha256 = random_digest(rng);
      n.size = e.size + rng.below(4096);
      ++c.modified;
    } else if (slot < 13) {
      ++c.removed;
      continue;
    } else if (slot < 16) {
      n.path = leaves[rng.below(leaves.size())] + "/moved-" + std::to_string(fresh++) + ".bin";
      ++c.renamed;
    } else if (slot < 17) {
      n.mode = e.mode ^ 0111U;
      ++c.mode;
    } else if (slot < 20) {
      out.push_back(file_entry(
          rng, leaves[rng.below(leaves.size())] + "/new-" + std::to_string(fresh++) + ".so"));
      ++c.added;
    }
    out.push_back(std::move(n));
  }
  return out;
}

Entry artifact(std::size_t i, int release, std::vector<Entry> contents) {
  Entry a;
  a.path = "acme-part" + std::to_string(i) + ".tar.zst";
  a.type = EntryType::file;
  a.mode = 0644;
  a.size = 100ULL << 20U;
  std::array<std::uint8_t, ecluse::crypto::Digest::k_size> b{};
  b[0] = static_cast<std::uint8_t>(i);
  b[3] = static_cast<std::uint8_t>(release);
  b[1] = static_cast<std::uint8_t>(contents.size());
  b[2] = static_cast<std::uint8_t>(contents.size() >> 8U);
  a.sha256 = ecluse::crypto::Digest(b);
  a.format = "tar";
  a.filters = {"zstd"};
  a.contents = std::move(contents);
  return a;
}

bool write_tree(Tree t, const std::filesystem::path& file) {
  ecluse::unpack::sort_entries(t.artifacts);
  std::ofstream out(file, std::ios::binary);
  out << ecluse::json::dump_line(ecluse::unpack::to_json(t));
  return static_cast<bool>(out);
}

int gen(const std::filesystem::path& dir, std::size_t entries, std::size_t artifacts, int seed) {
  Rng rng{static_cast<std::uint64_t>(seed) * 0x1234567ULL + 1};
  Tree before;
  Tree after;
  Counts c;
  const std::size_t per = (entries - artifacts) / artifacts;
  std::vector<std::string> leaves;
  for (std::size_t i = 0; i < artifacts; ++i) {
    const std::size_t n = i + 1 == artifacts ? entries - artifacts - per * (artifacts - 1) : per;
    auto contents = artifact_contents(rng, n, leaves);
    auto next = patched(rng, contents, leaves, c);
    before.artifacts.push_back(artifact(i, 1, std::move(contents)));
    after.artifacts.push_back(artifact(i, 2, std::move(next)));
  }
  std::filesystem::create_directories(dir);
  if (!write_tree(before, dir / "before.json") || !write_tree(after, dir / "after.json")) {
    std::fprintf(stderr, "cannot write into %s\n", dir.c_str());
    return 3;
  }
  const ecluse::json::Json line{
      {"entries_before", ecluse::unpack::count_entries(before.artifacts)},
      {"entries_after", ecluse::unpack::count_entries(after.artifacts)},
      {"artifacts", artifacts},
      {"modified", c.modified + artifacts},  // each artifact's own digest changed too
      {"added", c.added},
      {"removed", c.removed},
      {"renamed", c.renamed},
      {"mode_changed", c.mode}};
  std::printf("%s\n", ecluse::json::dump_line(line).c_str());
  return 0;
}

std::string file_sha256(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto d = ecluse::crypto::sha256(bytes);
  return d ? d->hex() : std::string();
}

int compare(const std::filesystem::path& a, const std::filesystem::path& b) {
  // The stage checks each manifest against the digest its unpack stage recorded: so do we.
  const auto want_a = file_sha256(a);
  const auto want_b = file_sha256(b);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  // As `ecluse diff --baseline` (diff::preview) does: both manifests at once, one per core.
  auto before_read =
      std::async(std::launch::async, [&] { return ecluse::unpack::load_tree(a, want_a); });
  auto after = ecluse::unpack::load_tree(b, want_b);
  auto before = before_read.get();
  const auto t1 = clock::now();
  if (!before || !after) {
    std::fprintf(
        stderr, "load_tree: %s\n", (!before ? before.error() : after.error()).to_string().c_str());
    return 1;
  }
  const auto d = ecluse::diff::compare_trees(*before, *after);
  const auto t2 = clock::now();
  const std::chrono::duration<double> load = t1 - t0;
  const std::chrono::duration<double> cmp = t2 - t1;
  auto line = ecluse::diff::to_json(d.summary);
  line["load_seconds"] = load.count();
  line["compare_seconds"] = cmp.count();
  line["changes"] = d.changes.size();
  line["folders"] = d.by_folder.size();
  std::printf("%s\n", ecluse::json::dump_line(line).c_str());
  return 0;
}

int profile(const std::filesystem::path& file) {
  using clock = std::chrono::steady_clock;
  const auto secs = [](clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  const auto t0 = clock::now();
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto t1 = clock::now();
  const auto digest = ecluse::crypto::sha256(bytes);
  const auto t2 = clock::now();
  const auto strict = ecluse::json::parse_strict(bytes);
  const auto t3 = clock::now();
  const auto tree = ecluse::unpack::tree_from_json(strict.value);
  const auto t4 = clock::now();
  const auto plain = ecluse::json::Json::parse(bytes, nullptr, false);
  const auto t5 = clock::now();
  if (!digest || strict.failure != ecluse::json::ParseFailure::none || !tree
      || plain.is_discarded()) {
    std::fprintf(stderr, "profile: %s is not a tree manifest\n", file.c_str());
    return 1;
  }
  const ecluse::json::Json line{{"entries", ecluse::unpack::count_entries(tree->artifacts)},
                                {"bytes", bytes.size()},
                                {"read_seconds", secs(t0, t1)},
                                {"sha256_seconds", secs(t1, t2)},
                                {"parse_strict_seconds", secs(t2, t3)},
                                {"tree_from_json_seconds", secs(t3, t4)},
                                {"parse_plain_seconds", secs(t4, t5)}};
  std::printf("%s\n", ecluse::json::dump_line(line).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args[0] == "gen") {
    std::size_t entries = 100000;
    std::size_t artifacts = 4;
    int seed = 1;
    for (std::size_t i = 2; i + 1 < args.size(); i += 2) {
      if (args[i] == "--entries") {
        entries = std::stoul(args[i + 1]);
      } else if (args[i] == "--artifacts") {
        artifacts = std::stoul(args[i + 1]);
      } else if (args[i] == "--seed") {
        seed = std::stoi(args[i + 1]);
      }
    }
    if (artifacts == 0 || entries < artifacts * 30) {
      std::fprintf(stderr, "need at least 30 entries per artifact\n");
      return 2;
    }
    return gen(args[1], entries, artifacts, seed);
  }
  if (args.size() == 2 && args[0] == "profile") {
    return profile(args[1]);
  }
  if (args.size() == 3 && args[0] == "compare") {
    return compare(args[1], args[2]);
  }
  std::fprintf(stderr,
               "usage: ecluse-bench-diff gen OUT_DIR [--entries N] [--artifacts K] [--seed S]\n"
               "       ecluse-bench-diff compare BEFORE AFTER\n"
               "       ecluse-bench-diff profile MANIFEST\n");
  return 2;
}
