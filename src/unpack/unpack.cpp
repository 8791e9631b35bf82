// The unpack stage around the engine: artifacts in drop.json order, the vendor's listings,
// findings, then (only when all is well) the new objects and the tree manifest are committed.
#include <ecluse/core/fs.hpp>
#include <ecluse/unpack/unpack.hpp>

#include "archive_reader.hpp"
#include "checks.hpp"
#include "engine.hpp"

namespace ecluse::unpack {

struct UnpackedDropFactory {
  static UnpackedDrop make(verify::VerifiedDrop v, Tree t, json::Json e) {
    return {std::move(v), std::move(t), std::move(e)};
  }
};

namespace {

json::Json totals_json(const detail::Engine& engine) {
  const auto& t = engine.totals();
  return {{"bytes", t.bytes}, {"entries", t.entries}, {"archives", t.archives}};
}

std::vector<store::Finding> findings_of(const detail::Engine& engine) {
  std::vector<store::Finding> out;
  for (const auto& f : engine.findings()) {
    out.push_back(store::Finding{"unpack", std::string(f.reason->code), "high", f.item, f.detail});
  }
  return out;
}

json::Json findings_json(const std::vector<store::Finding>& findings) {
  auto out = json::Json::array();
  for (const auto& f : findings) {
    out.push_back({{"code", f.code}, {"item", f.item}, {"detail", f.detail}});
  }
  return out;
}

json::Json artifact_summary(const Entry& e) {
  json::Json j{
      {"path", e.path}, {"sha256", e.sha256.hex()}, {"entries", count_entries(e.contents)}};
  j["format"] = e.format.empty() ? json::Json(nullptr) : json::Json(e.format);
  j["filters"] = e.filters;
  return j;
}

// Unpacks one artifact and checks it against the vendor's listing when there is one.
Result<Entry> unpack_artifact(detail::Engine& engine,
                              const Context& ctx,
                              const intake::Artifact& a) {
  ECLUSE_TRY(entry, engine.artifact(a.path, a.sha256, a.size, ctx.objects.object_path(a.sha256)));
  if (!a.contents.is_null()) {
    ECLUSE_CHECK(detail::check_listing(a.contents, entry));
  }
  return entry;
}

// Unpacks every artifact, in drop.json order.
Result<Tree> unpack_all(detail::Engine& engine,
                        const Context& ctx,
                        const verify::VerifiedDrop& drop) {
  Tree tree;
  for (const auto& a : drop.staged().manifest().artifacts) {
    ECLUSE_TRY(entry, unpack_artifact(engine, ctx, a));
    tree.artifacts.push_back(std::move(entry));
  }
  sort_entries(tree.artifacts);
  return tree;
}

// Makes every object the engine staged durable, at once.
Status commit_objects(detail::Engine& engine, const store::ContentStore& objects) {
  std::vector<store::StagedObject> staged;
  staged.reserve(engine.staged().by_hex.size());
  for (auto& [hex, obj] : engine.staged().by_hex) {
    staged.push_back(std::move(obj));
  }
  engine.staged().by_hex.clear();
  return objects.commit_all(staged);
}

// Commits the new objects, then writes tree.json beside the drop's other evidence.
Result<std::string> commit(detail::Engine& engine,
                           const Context& ctx,
                           const verify::VerifiedDrop& drop,
                           const Tree& tree) {
  ECLUSE_CHECK(commit_objects(engine, ctx.objects));
  const auto bytes = json::dump_line(to_json(tree));
  ECLUSE_CHECK(
      fs::write_file_atomic(drop.staged().evidence_dir() / k_tree_file, bytes, reason::k_store_io));
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  return digest.hex();
}

}  // namespace

UnpackRun unpack(const Context& ctx, const verify::VerifiedDrop& drop) {
  const detail::Utf8Locale utf8;
  const auto& limits = ctx.ws.config().unpack;
  detail::Engine engine(ctx.objects, limits);
  UnpackRun run{fail(reason::k_internal, "unpack did not run"), json::Json::object(), {}};
  run.evidence["limits"] = limits.to_json();
  auto tree = unpack_all(engine, ctx, drop);
  run.findings = findings_of(engine);
  run.evidence["totals"] = totals_json(engine);
  run.evidence["findings"] = findings_json(run.findings);
  if (!tree) {
    run.evidence["failed"] = {{"reason", tree.error().reason}, {"item", tree.error().item}};
    run.out = fail(tree.error());
    return run;
  }
  const auto new_objects = engine.staged().by_hex.size();
  auto digest = commit(engine, ctx, drop, *tree);
  if (!digest) {
    run.out = fail(digest.error());
    return run;
  }
  run.evidence["tree"] = {{"file", k_tree_file}, {"sha256", *digest}};
  run.evidence["new_objects"] = new_objects;
  auto artifacts = json::Json::array();
  for (const auto& a : tree->artifacts) {
    artifacts.push_back(artifact_summary(a));
  }
  run.evidence["artifacts"] = artifacts;
  run.out = UnpackedDropFactory::make(drop, std::move(*tree), run.evidence);
  return run;
}

Result<FileUnpack> unpack_file(const store::ContentStore& objects,
                               const workspace::UnpackLimits& limits,
                               const std::string& name,
                               const std::filesystem::path& file,
                               bool commit) {
  const detail::Utf8Locale utf8;
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) {
    return fail(
        reason::k_store_io, "cannot stat '" + file.string() + "': " + ec.message(), file.string());
  }
  detail::Engine engine(objects, limits);
  ECLUSE_TRY(entry, engine.artifact(name, crypto::Digest{}, size, file));
  FileUnpack out{std::move(entry),
                 findings_of(engine),
                 engine.totals().bytes,
                 engine.totals().entries,
                 engine.staged().by_hex.size()};
  if (commit) {
    ECLUSE_CHECK(commit_objects(engine, objects));
  }
  return out;
}

Result<Tree> load_tree(const std::filesystem::path& file, const std::string& want_sha256) {
  ECLUSE_TRY(
      bytes,
      fs::read_file_bounded(file, 1ULL << 30U, reason::k_store_object_missing, reason::k_store_io));
  if (!want_sha256.empty()) {
    ECLUSE_TRY(digest, crypto::sha256(bytes));
    if (digest.hex() != want_sha256) {
      return fail(reason::k_store_object_corrupt,
                  "tree manifest " + file.string() + " no longer matches its recorded digest",
                  file.string());
    }
  }
  const auto parsed = json::parse_strict(bytes);
  if (parsed.failure != json::ParseFailure::none) {
    return fail(reason::k_store_object_corrupt,
                "tree manifest " + file.string() + " is not JSON",
                file.string());
  }
  return tree_from_json(parsed.value);
}

Result<UnpackedDrop> reload(const Context& ctx,
                            verify::VerifiedDrop verified,
                            json::Json evidence) {
  (void)ctx;
  const auto want = evidence.value("tree", json::Json::object()).value("sha256", std::string());
  if (want.empty()) {
    return fail(reason::k_store_object_corrupt,
                "unpack evidence of drop " + verified.id() + " records no tree digest",
                verified.id());
  }
  ECLUSE_TRY(tree, load_tree(verified.staged().evidence_dir() / k_tree_file, want));
  return UnpackedDropFactory::make(std::move(verified), std::move(tree), std::move(evidence));
}

}  // namespace ecluse::unpack
