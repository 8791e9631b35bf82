// Finding and reading a drop's baseline: its tree manifest and endpoint index, each checked
// against the digest its own stage recorded. Unreadable is an environment error, never "none".
#include <ecluse/core/fs.hpp>
#include <ecluse/core/version.hpp>
#include <ecluse/diff/diff.hpp>

#include <algorithm>

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

Result<Baseline> load_release(const Context& ctx, store::DropRecord d, std::string source) {
  ECLUSE_TRY(unpack_ev, evidence_of(ctx.state, d.id, "unpack"));
  const auto tree_sha =
      unpack_ev.is_object()
          ? unpack_ev.value("tree", json::Json::object()).value("sha256", std::string())
          : std::string();
  if (tree_sha.empty()) {
    return unreadable(d, Error::from(reason::k_store_object_missing, "no committed unpack stage"));
  }
  auto tree = unpack::load_tree(ctx.ws.drops_dir() / d.id / unpack::k_tree_file, tree_sha);
  if (!tree) {
    return unreadable(d, tree.error());
  }
  ECLUSE_TRY(diff_ev, evidence_of(ctx.state, d.id, "diff"));
  std::optional<EndpointIndex> index;
  if (diff_ev.is_object() && diff_ev.contains("endpoints")) {
    auto loaded = detail::load_index(ctx.ws.drops_dir() / d.id / k_endpoints_file,
                                     diff_ev["endpoints"].value("sha256", std::string()));
    if (!loaded) {
      return unreadable(d, loaded.error());
    }
    index = std::move(*loaded);
  }
  return Baseline{std::move(d), std::move(*tree), std::move(index), std::move(source)};
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

Result<std::optional<Baseline>> find_baseline(const Context& ctx,
                                              const store::DropRecord& self,
                                              const std::string& explicit_id) {
  if (!explicit_id.empty()) {
    ECLUSE_TRY(d, explicit_drop(ctx, self, explicit_id));
    ECLUSE_TRY(b, load_release(ctx, std::move(d), "explicit"));
    return std::optional<Baseline>{std::move(b)};
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
  if (best == nullptr) {
    return std::optional<Baseline>{};
  }
  ECLUSE_TRY(b, load_release(ctx, *best, "accepted"));
  return std::optional<Baseline>{std::move(b)};
}

}  // namespace ecluse::diff
