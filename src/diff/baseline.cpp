// Finding and reading a drop's baseline: its tree manifest and endpoint index, each checked
// against the digest its own stage recorded. Unreadable is an environment error, never "none".
#include <ecluse/core/fs.hpp>
#include <ecluse/core/version.hpp>
#include <ecluse/diff/diff.hpp>

#include <algorithm>
#include <future>

#include "analyse.hpp"
#include "index.hpp"

namespace ecluse::diff {

namespace {

bool accepted(DropState s) {
  return s == DropState::approved || s == DropState::signed_off || s == DropState::promoted;
}

tl::unexpected<Error> unreadable(const store::DropRecord& d, const Error& why) {
  return fail(reason::k_diff_baseline_unreadable,
              "baseline " + d.id.substr(0, 12) + " (" + d.product + " " + d.version
                  + ") cannot be read: " + why.to_string(),
              d.id);
}

// The committed evidence of one stage of a drop, or null.
Result<json::Json> evidence_of(store::StateStore& state,
                               const std::string& id,
                               const std::string& stage) {
  ECLUSE_TRY(results, state.stage_results(id));
  // The latest result of that stage.
  const auto it = std::find_if(results.rbegin(), results.rend(), [&](const store::StageRecord& r) {
    return r.stage == stage && r.state_after != DropState::rejected;
  });
  if (it != results.rend()) {
    return it->evidence;
  }
  return json::Json(nullptr);
}

}  // namespace

namespace {

// Where a release's files are and the digests they must have: state-store lookups only.
struct Located {
  store::DropRecord drop;
  std::string source;
  std::filesystem::path tree;
  std::string tree_sha;
  std::filesystem::path index;  // empty: the drop was never diffed
  std::string index_sha;
};

Result<Located> locate(const Context& ctx, const store::DropRecord& d, std::string source) {
  ECLUSE_TRY(unpack_ev, evidence_of(ctx.state, d.id, "unpack"));
  const auto tree_sha =
      unpack_ev.is_object()
          ? unpack_ev.value("tree", json::Json::object()).value("sha256", std::string())
          : std::string();
  if (tree_sha.empty()) {
    return unreadable(d, Error::from(reason::k_store_object_missing, "no committed unpack stage"));
  }
  ECLUSE_TRY(diff_ev, evidence_of(ctx.state, d.id, "diff"));
  Located at{
      d, std::move(source), ctx.ws.drops_dir() / d.id / unpack::k_tree_file, tree_sha, {}, {}};
  if (diff_ev.is_object() && diff_ev.contains("endpoints")) {
    at.index = ctx.ws.drops_dir() / d.id / k_endpoints_file;
    at.index_sha = diff_ev["endpoints"].value("sha256", std::string());
  }
  return at;
}

// Reads and checks the files: no state-store access, so it may run on another thread.
Result<Baseline> read_located(const Located& at) {
  auto tree = unpack::load_tree(at.tree, at.tree_sha);
  if (!tree) {
    return unreadable(at.drop, tree.error());
  }
  std::optional<EndpointIndex> index;
  if (!at.index.empty()) {
    auto loaded = detail::load_index(at.index, at.index_sha);
    if (!loaded) {
      return unreadable(at.drop, loaded.error());
    }
    index = std::move(*loaded);
  }
  return Baseline{at.drop, std::move(*tree), std::move(index), at.source};
}

}  // namespace

Result<Baseline> load_release(const Context& ctx, const store::DropRecord& d, std::string source) {
  ECLUSE_TRY(at, locate(ctx, d, std::move(source)));
  return read_located(at);
}

namespace {

Result<store::DropRecord> explicit_drop(const Context& ctx,
                                        const store::DropRecord& self,
                                        const std::string& id) {
  ECLUSE_TRY(found, ctx.state.find_by_prefix(id));
  if (found.empty()) {
    return fail(reason::k_state_unknown_drop, "no drop matches baseline " + id, id);
  }
  if (found.size() > 1) {
    return fail(reason::k_state_ambiguous_drop, "baseline " + id + " matches several drops", id);
  }
  auto& d = found.front();
  if (d.id == self.id || d.vendor != self.vendor || d.product != self.product) {
    return fail(reason::k_diff_bad_baseline,
                "baseline " + id + " is not another drop of " + self.vendor + "/" + self.product,
                id);
  }
  if (d.state == DropState::rejected || forward_rank(d.state) < forward_rank(DropState::unpacked)) {
    return fail(reason::k_diff_bad_baseline,
                "baseline " + id + " is " + std::string(to_string(d.state))
                    + ": only an unpacked, not rejected drop can be a baseline",
                id);
  }
  return std::move(d);
}

}  // namespace

namespace {

// The baseline's record and how it was chosen; nullopt for a first release.
Result<std::optional<std::pair<store::DropRecord, std::string>>> pick_baseline(
    const Context& ctx, const store::DropRecord& self, const std::string& explicit_id) {
  using Picked = std::optional<std::pair<store::DropRecord, std::string>>;
  if (!explicit_id.empty()) {
    ECLUSE_TRY(d, explicit_drop(ctx, self, explicit_id));
    return Picked{{std::move(d), "explicit"}};
  }
  ECLUSE_TRY(line, ctx.state.find_line(self.vendor, self.product, self.channel));
  const store::DropRecord* best = nullptr;
  std::optional<Version> best_version;
  for (const auto& d : line) {
    auto v = Version::parse(d.version);
    if (d.id == self.id || !accepted(d.state) || !v) {
      continue;
    }
    if (!best_version || !(*v < *best_version)) {  // equal versions: the later drop wins
      best = &d;
      best_version = v;
    }
  }
  return best == nullptr ? Picked{} : Picked{{*best, "accepted"}};
}

}  // namespace

Result<std::optional<Baseline>> find_baseline(const Context& ctx,
                                              const store::DropRecord& self,
                                              const std::string& explicit_id) {
  ECLUSE_TRY(picked, pick_baseline(ctx, self, explicit_id));
  if (!picked) {
    return std::optional<Baseline>{};
  }
  ECLUSE_TRY(b, load_release(ctx, picked->first, std::move(picked->second)));
  return std::optional<Baseline>{std::move(b)};
}

Result<Preview> preview(const Context& ctx,
                        const store::DropRecord& drop,
                        const std::string& baseline_id) {
  ECLUSE_TRY(self_at, locate(ctx, drop, "self"));
  ECLUSE_TRY(picked, pick_baseline(ctx, drop, baseline_id));
  std::optional<Located> base_at;
  if (picked) {
    ECLUSE_TRY(at, locate(ctx, picked->first, std::move(picked->second)));
    base_at = std::move(at);
  }
  // The two manifests are read and parsed at once, one per core.
  auto self_read = std::async(std::launch::async, [&self_at] { return read_located(self_at); });
  std::optional<Result<Baseline>> base_read;
  if (base_at) {
    base_read = read_located(*base_at);
  }
  auto self = self_read.get();
  if (!self) {
    return fail(self.error());
  }
  std::optional<Baseline> base;
  if (base_read) {
    if (!*base_read) {
      return fail(base_read->error());
    }
    base = std::move(**base_read);
  }
  ECLUSE_TRY(a, detail::analyse(ctx, drop, self->tree, base));
  return Preview{std::move(a.document), std::move(a.findings)};
}

}  // namespace ecluse::diff
