// Version order per (vendor, product, channel): the baseline is the highest version among
// drops that passed verify and were not rejected later (once promotion exists, promoted
// releases are among them). Content identity is the drop id (SHA-256 of drop.json).
#include "versions.hpp"

#include <ecluse/core/drop_state.hpp>

namespace ecluse::verify::detail {

namespace {

// Did this drop pass the verify stage (whatever happened to it afterwards)?
bool passed_verify(const store::DropRecord& d) {
  if (d.state == DropState::rejected) {
    return d.rejection && d.rejection->stage != "intake" && d.rejection->stage != "verify";
  }
  return forward_rank(d.state) >= forward_rank(DropState::verified);
}

std::string line_name(const intake::DropIdentity& who) {
  return who.vendor + "/" + who.product + " on channel " + who.channel;
}

struct Baseline {
  std::optional<Version> version;
  std::string drop;
};

}  // namespace

Result<json::Json> check_version(const Context& ctx, const intake::StagedDrop& staged) {
  const auto& who = staged.identity();
  const auto& mine = staged.manifest().version;
  ECLUSE_TRY(line, ctx.state.find_line(who.vendor, who.product, who.channel));
  Baseline base;
  for (const auto& d : line) {
    if (d.id == who.id || !passed_verify(d)) {
      continue;
    }
    const auto v = Version::parse(d.version);
    if (!v) {
      continue;  // every stored version was parsed by intake; a damaged row is ignored
    }
    if (*v == mine) {
      return fail(reason::k_verify_version_reuse,
                  "version " + mine.text() + " of " + line_name(who)
                      + " was accepted before as drop " + d.id.substr(0, 12)
                      + " with different content",
                  d.id);
    }
    if (d.state != DropState::rejected && (!base.version || *v > *base.version)) {
      base = Baseline{v, d.id};
    }
  }
  json::Json e{{"version", mine.text()},
               {"baseline",
                base.version ? json::Json{{"version", base.version->text()}, {"drop", base.drop}}
                             : json::Json(nullptr)},
               {"downgrade_allowance", nullptr}};
  if (!base.version || mine > *base.version) {
    return e;
  }
  // An allowance names the version as the engineer typed it: 1.5 allows 1.5.0 too.
  std::string allowed_text = mine.text();
  ECLUSE_TRY(allowances, ctx.state.downgrade_allowances());
  for (const auto& a : allowances) {
    const auto v = Version::parse(a.version);
    if (a.vendor == who.vendor && a.product == who.product && a.channel == who.channel && v
        && *v == mine && (a.used_by.empty() || a.used_by == who.id)) {
      allowed_text = a.version;
      break;
    }
  }
  store::DowngradeAllowance wanted{
      who.vendor, who.product, who.channel, allowed_text, {}, {}, {}, {}};
  ECLUSE_TRY(allowance, ctx.state.use_downgrade_allowance(wanted, who.id));
  if (!allowance) {
    return fail(reason::k_verify_rollback,
                "version " + mine.text() + " of " + line_name(who) + " is lower than "
                    + base.version->text() + " (drop " + base.drop.substr(0, 12)
                    + "); an engineer may allow it: ecluse allow-downgrade",
                base.drop);
  }
  e["downgrade_allowance"] = {{"version", allowance->version},
                              {"reason", allowance->reason},
                              {"actor", allowance->actor},
                              {"created_at", allowance->created_at}};
  return e;
}

}  // namespace ecluse::verify::detail
