// ecluse allow-downgrade VENDOR PRODUCT CHANNEL VERSION --reason TEXT: an engineer allows one
// drop of exactly that version to go below the highest accepted one; journaled.
#include <ecluse/core/printable.hpp>
#include <ecluse/core/version.hpp>
#include <ecluse/intake/drop_manifest.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct DowngradeOptions {
  std::string vendor, product, channel, version, reason;
  bool list = false;
  bool json = false;
};

Status check(const pipeline::Session& s, const DowngradeOptions& o) {
  for (const auto* name : {&o.vendor, &o.product, &o.channel}) {
    if (!intake::is_plain_name(*name)) {
      return fail(reason::k_usage, "'" + *name + "' is not a plain name", *name);
    }
  }
  const auto& channels = s.ws().config().channels;
  if (std::find(channels.begin(), channels.end(), o.channel) == channels.end()) {
    return fail(reason::k_usage, "channel '" + o.channel + "' is not configured", o.channel);
  }
  if (!Version::parse(o.version)) {
    return fail(reason::k_usage, "'" + o.version + "' is not a version", o.version);
  }
  if (o.reason.empty()) {
    return fail(reason::k_usage, "--reason is required: say why this downgrade is acceptable");
  }
  return {};
}

json::Json allowance_json(const store::DowngradeAllowance& a) {
  return {{"vendor", a.vendor},
          {"product", a.product},
          {"channel", a.channel},
          {"version", a.version},
          {"reason", a.reason},
          {"actor", a.actor},
          {"created_at", a.created_at},
          {"used_by", a.used_by.empty() ? json::Json(nullptr) : json::Json(a.used_by)}};
}

int run_list(const pipeline::Session& s, const DowngradeOptions& o) {
  auto all = s.state().downgrade_allowances();
  if (!all) {
    return report(all.error(), o.json);
  }
  auto list = json::Json::array();
  std::string text;
  for (const auto& a : *all) {
    list.push_back(allowance_json(a));
    text += printable(a.vendor + "/" + a.product + " " + a.channel + " " + a.version) + "  by "
            + printable(a.actor) + " at " + a.created_at + "  "
            + (a.used_by.empty() ? std::string("unused") : "used by " + a.used_by.substr(0, 12))
            + "\n  " + printable(a.reason) + "\n";
  }
  out(o.json ? json::dump_pretty(json::Json{{"allowances", list}}) + "\n"
             : (text.empty() ? "no downgrade allowances\n" : text));
  return k_exit_ok;
}

int run_allow(const GlobalOptions& g, const DowngradeOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  if (o.list) {
    return run_list(*session, o);
  }
  if (auto ok = check(*session, o); !ok) {
    return report(ok.error(), o.json);
  }
  const store::DowngradeAllowance a{o.vendor,
                                    o.product,
                                    o.channel,
                                    o.version,
                                    o.reason,
                                    session->actor(),
                                    format_utc(session->clock().now()),
                                    {}};
  // Journaled first: an allowance that exists is always on the record.
  if (auto ok = session->record("", "verify.downgrade_allowed", allowance_json(a)); !ok) {
    return report(ok.error(), o.json);
  }
  if (auto ok = session->state().add_downgrade_allowance(a); !ok) {
    return report(ok.error(), o.json);
  }
  out(o.json ? json::dump_pretty(allowance_json(a)) + "\n"
             : "allowed one downgrade of " + printable(o.vendor + "/" + o.product) + " on "
                   + printable(o.channel) + " to " + printable(o.version) + "\n");
  return k_exit_ok;
}

}  // namespace

void add_allow_downgrade(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto o = std::make_shared<DowngradeOptions>();
  auto* cmd = app.add_subcommand(
      "allow-downgrade",
      "allow one drop of VERSION to pass the rollback check (journaled; --list shows them)");
  cmd->add_option("VENDOR", o->vendor, "vendor");
  cmd->add_option("PRODUCT", o->product, "product");
  cmd->add_option("CHANNEL", o->channel, "channel");
  cmd->add_option("VERSION", o->version, "the exact lower version to allow");
  cmd->add_option("--reason", o->reason, "why this downgrade is acceptable (required)");
  cmd->add_flag("--list", o->list, "list allowances, used and unused");
  cmd->add_flag("--json", o->json, "print as JSON");
  cmd->callback([o, &g, &action] {
    action = [o, &g] {
      if (!o->list && o->version.empty()) {
        return report(Error::from(reason::k_usage,
                                  "give VENDOR PRODUCT CHANNEL VERSION --reason TEXT, or --list"),
                      o->json);
      }
      return run_allow(g, *o);
    };
  });
}

}  // namespace ecluse::cli
