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

json::Json limits_json(const workspace::UnpackLimits& l) {
  return {{"max_depth", l.max_depth},
          {"max_total_bytes", l.max_total_bytes},
          {"max_entry_bytes", l.max_entry_bytes},
          {"max_entries", l.max_entries},
          {"max_entry_ratio", l.max_entry_ratio},
          {"max_archive_ratio", l.max_archive_ratio},
          {"ratio_floor_bytes", l.ratio_floor_bytes},
          {"max_path_bytes", l.max_path_bytes},
          {"max_name_bytes", l.max_name_bytes}};
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

// Makes the new objects durable, then writes tree.json beside the drop's other evidence.
Result<std::string> commit(detail::Engine& engine,
                           const Context& ctx,
                           const verify::VerifiedDrop& drop,
                           const Tree& tree) {
  std::vector<store::StagedObject> staged;
  staged.reserve(engine.staged().by_hex.size());
  for (auto& [hex, obj] : engine.staged().by_hex) {
    staged.push_back(std::move(obj));
  }
  engine.staged().by_hex.clear();
  ECLUSE_CHECK(ctx.objects.commit_all(staged));
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
  run.evidence["limits"] = limits_json(limits);
  auto tree = unpack_all(engine, ctx, drop);
  run.findings = findings_of(engine);
  run.evidence["totals"] = totals_json(engine);
  run.evidence["findings"] = findings_json(run.findings);
  if (!tree) {
    run.evidence["failed"] = {{"reason", tree.error().reason}, {"item", tree.error().item}};
    run.out = fail(tree.error());
    return run;
  }
  if (!run.findings.empty()) {
    const auto& first = run.findings.front();
    run.out = fail(
        Error{Errc::rejected,
              first.code,
              first.item + ": " + first.detail
                  + (run.findings.size() > 1
                         ? " (and " + std::to_string(run.findings.size() - 1) + " more findings)"
                         : ""),
              first.item});
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
    std::vector<store::StagedObject> staged;
    for (auto& [hex, obj] : engine.staged().by_hex) {
      staged.push_back(std::move(obj));
    }
    engine.staged().by_hex.clear();
    ECLUSE_CHECK(objects.commit_all(staged));
  }
  return out;
}

Result<UnpackedDrop> reload(const Context& ctx,
                            verify::VerifiedDrop verified,
                            json::Json evidence) {
  const auto path = verified.staged().evidence_dir() / k_tree_file;
  ECLUSE_TRY(
      bytes,
      fs::read_file_bounded(path, 1ULL << 30U, reason::k_store_object_missing, reason::k_store_io));
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  const auto want = evidence.value("tree", json::Json::object()).value("sha256", std::string());
  if (digest.hex() != want) {
    return fail(reason::k_store_object_corrupt,
                "tree manifest of drop " + verified.id() + " no longer matches its recorded digest",
                path.string());
  }
  const auto parsed = json::parse_strict(bytes);
  if (parsed.failure != json::ParseFailure::none) {
    return fail(reason::k_store_object_corrupt,
                "tree manifest of drop " + verified.id() + " is not JSON",
                path.string());
  }
  ECLUSE_TRY(tree, tree_from_json(parsed.value));
  (void)ctx;
  return UnpackedDropFactory::make(std::move(verified), std::move(tree), std::move(evidence));
}

}  // namespace ecluse::unpack
