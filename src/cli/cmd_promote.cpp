// ecluse promote DROP --to CHANNEL, ecluse promote PRODUCT VERSION --from A --to B, and
// ecluse withdraw PRODUCT VERSION --channel C --reason TEXT.
#include <ecluse/core/interrupt.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/pipeline/lease.hpp>
#include <ecluse/pipeline/promote.hpp>
#include <ecluse/pipeline/stage_runner.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct PromoteOptions {
  std::vector<std::string> what;  // DROP, or PRODUCT VERSION
  std::string from;
  std::string to;
  std::string channel;
  std::string reason;
  bool json = false;
};

json::Json promoted_json(const promote::PromotedRelease& p, const pipeline::Session& s) {
  return {{"ok", true},
          {"channel", p.channel},
          {"product", p.product},
          {"version", p.version},
          {"commit", p.commit},
          {"tag", p.tag},
          {"targets_version", p.targets_version},
          {"already", p.already},
          {"repository", (s.ws().repos_dir() / (p.channel + ".git")).string()}};
}

int print(const promote::PromotedRelease& p,
          const pipeline::Session& s,
          const char* verb,
          bool json) {
  const auto j = promoted_json(p, s);
  if (json) {
    out(json::dump_pretty(j) + "\n");
    return k_exit_ok;
  }
  out(std::string(verb) + "  " + printable(p.product) + " " + printable(p.version) + " → "
      + printable(p.channel) + (p.already ? " (already there)" : "") + "\n  commit     " + p.commit
      + (p.tag.empty() ? "" : "\n  tag        " + printable(p.product + "/" + p.version))
      + "\n  TUF        targets version " + std::to_string(p.targets_version) + "\n  repository "
      + j.at("repository").get<std::string>() + "\n");
  return k_exit_ok;
}

int run_promote(const GlobalOptions& g, const PromoteOptions& o) {
  interrupt::install();  // a first SIGTERM or SIGINT stops before the commit point
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  Result<promote::PromotedRelease> done = tl::unexpected(Error{});
  if (o.what.size() == 1 && o.from.empty()) {
    auto d = find_drop(*session, o.what.front());
    if (!d) {
      return report(d.error(), o.json);
    }
    // The drop's lease (a watcher's worker may be promoting it), then what a crashed
    // process left unjournaled.
    auto lease = pipeline::LeaseHolder::claim(*session, "drop:" + d->id, true);
    if (!lease) {
      return report(lease.error(), o.json);
    }
    if (auto recovered = pipeline::recover_journal(*session, d->id); !recovered) {
      return report(recovered.error(), o.json);
    }
    done = pipeline::promote_drop(*session, d->id, o.to);
  } else if (o.what.size() == 2 && !o.from.empty()) {
    done = pipeline::promote_between(*session, {o.what[0], o.what[1], o.from, o.to});
  } else {
    return report(
        Error::from(reason::k_usage,
                    "give DROP --to CHANNEL, or PRODUCT VERSION --from CHANNEL --to CHANNEL"),
        o.json);
  }
  if (!done) {
    return report(done.error(), o.json);
  }
  return print(*done, *session, "promoted", o.json);
}

int run_withdraw(const GlobalOptions& g, const PromoteOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto done = pipeline::withdraw(*session, o.what.at(0), o.what.at(1), o.channel, o.reason);
  if (!done) {
    return report(done.error(), o.json);
  }
  return print(*done, *session, "withdrew", o.json);
}

}  // namespace

void add_promote(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto o = std::make_shared<PromoteOptions>();
  auto* p = app.add_subcommand(
      "promote", "promote a signed drop into a channel, or a release from one channel to another");
  p->add_option("what", o->what, "DROP (id prefix or VENDOR/PRODUCT/VERSION), or PRODUCT VERSION")
      ->required()
      ->expected(1, 2);
  p->add_option("--to", o->to, "the channel to promote into")->required();
  p->add_option("--from", o->from, "the channel the release is in (with PRODUCT VERSION)");
  p->add_flag("--json", o->json, "print as JSON");
  p->callback([o, &g, &action] {
    action = [o, &g] {
      return run_promote(g, *o);
    };
  });

  auto* w = app.add_subcommand(
      "withdraw", "remove a release from a channel's targets with a new signed metadata version");
  w->add_option("product_version", o->what, "PRODUCT VERSION")->required()->expected(2);
  w->add_option("--channel", o->channel, "the channel")->required();
  w->add_option("--reason", o->reason, "why (recorded in release.json and the journal)")
      ->required();
  w->add_flag("--json", o->json, "print as JSON");
  w->callback([o, &g, &action] {
    action = [o, &g] {
      return run_withdraw(g, *o);
    };
  });
}

}  // namespace ecluse::cli
