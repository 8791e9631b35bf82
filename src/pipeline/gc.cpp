// gc: the set of live objects from the state store and each live drop's evidence, then one
// pass over quarantine/objects/sha256.
#include <ecluse/core/fs.hpp>
#include <ecluse/intake/drop_manifest.hpp>
#include <ecluse/pipeline/gc.hpp>
#include <ecluse/unpack/unpack.hpp>

#include <unistd.h>

#include <cerrno>
#include <set>

namespace ecluse::pipeline {

namespace stdfs = std::filesystem;

namespace {

void add_entries(const std::vector<unpack::Entry>& entries, std::set<std::string>& live) {
  for (const auto& e : entries) {
    if (e.type == unpack::EntryType::file || e.type == unpack::EntryType::hardlink) {
      live.insert(e.sha256.hex());
    }
    add_entries(e.contents, live);
  }
}

// The objects one live drop refers to, from its evidence copies.
Status add_drop(const Session& s, const std::string& id, std::set<std::string>& live) {
  const auto dir = s.ws().drops_dir() / id;
  ECLUSE_TRY(bytes,
             fs::read_file_bounded(dir / "drop.json",
                                   s.ws().config().limits.max_drop_json_bytes,
                                   reason::k_store_object_missing,
                                   reason::k_store_io));
  ECLUSE_TRY(manifest, intake::parse_drop_manifest(bytes));
  for (const auto& a : manifest.artifacts) {
    live.insert(a.sha256.hex());
  }
  const auto tree_path = dir / unpack::k_tree_file;
  std::error_code missing;
  if (!stdfs::exists(tree_path, missing)) {
    return {};
  }
  ECLUSE_TRY(tree, unpack::load_tree(tree_path));
  add_entries(tree.artifacts, live);
  return {};
}

Result<std::set<std::string>> live_objects(const Session& s) {
  ECLUSE_TRY(drops, s.state().list_drops());
  std::set<std::string> live;
  for (const auto& d : drops) {
    if (d.state == DropState::rejected) {
      continue;  // its objects are what gc is for
    }
    ECLUSE_CHECK(add_drop(s, d.id, live));
  }
  return live;
}

}  // namespace

Result<fs::UniqueFd> lock_store(const Session& s, bool exclusive) {
  ECLUSE_CHECK(fs::make_dirs(s.ws().locks_dir(), reason::k_workspace_io));
  const auto path = s.ws().locks_dir() / "store.lock";
  return exclusive ? fs::lock_exclusive(path, reason::k_workspace_io)
                   : fs::lock_shared(path, reason::k_workspace_io);
}

Result<GcReport> gc(const Session& s, bool dry_run) {
  ECLUSE_TRY(lock, lock_store(s, true));
  ECLUSE_TRY(live, live_objects(s));
  GcReport report;
  report.temporaries_removed = dry_run ? 0 : s.objects().sweep_stale_temporaries();
  std::error_code ec;
  const auto root = s.ws().objects_dir() / "sha256";
  for (stdfs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) {
      continue;
    }
    const auto hex = it->path().parent_path().filename().string() + it->path().filename().string();
    if (live.contains(hex)) {
      ++report.objects_kept;
      continue;
    }
    ++report.objects_removed;
    std::error_code size_ec;
    const auto size = it->file_size(size_ec);
    report.bytes_removed += size_ec ? 0 : size;
    if (!dry_run && ::unlink(it->path().c_str()) != 0) {
      return fail(reason::k_store_io,
                  fs::errno_message("cannot remove", it->path(), errno),
                  it->path().string());
    }
  }
  if (ec) {
    return fail(
        reason::k_store_io, "cannot list " + root.string() + ": " + ec.message(), root.string());
  }
  if (!dry_run) {
    ECLUSE_CHECK(s.record("",
                          "gc.done",
                          {{"objects_removed", report.objects_removed},
                           {"bytes_removed", report.bytes_removed},
                           {"objects_kept", report.objects_kept},
                           {"temporaries_removed", report.temporaries_removed}}));
  }
  return report;
}

}  // namespace ecluse::pipeline
