// ecluse export CHANNEL OUT [--since TAG] and ecluse import BUNDLE [--root ROOT.json]: moving a
// channel across an air gap as a git bundle with a signed index, verified before it applies.
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/keys/keyring.hpp>
#include <ecluse/pipeline/promote.hpp>
#include <ecluse/promote/transfer.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct TransferOptions {
  std::string channel;
  std::string out_dir;
  std::string since;
  std::string bundle;
  std::string root;
  bool json = false;
};

int run_export(const GlobalOptions& g, const TransferOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto r = pipeline::open_channel(*session, o.channel);
  auto ring = keys::Keyring::open(session->ws().keys_dir());
  auto key = ring ? ring->active_signer(keys::Role::release)
                  : Result<crypto::SigningKey>(tl::unexpected(ring.error()));
  if (!r || !key) {
    return report(r ? key.error() : r.error(), o.json);
  }
  promote::ExportRequest req{o.channel, o.out_dir, std::nullopt, session->clock().now()};
  if (!o.since.empty()) {
    req.since = o.since;
  }
  auto done = promote::export_channel(*r, req, *key);
  if (!done) {
    return report(done.error(), o.json);
  }
  const json::Json j{{"ok", true},
                     {"channel", o.channel},
                     {"bundle", done->bundle.string()},
                     {"index", done->index.string()},
                     {"tip", done->tip},
                     {"tags", done->tags},
                     {"sha256", done->sha256}};
  if (auto ok = session->record("", "transfer.exported", j); !ok) {
    return report(ok.error(), o.json);
  }
  out(o.json ? json::dump_pretty(j) + "\n"
             : "exported " + printable(o.channel) + " at " + done->tip.substr(0, 12) + " ("
                   + std::to_string(done->tags) + " tag(s))\n  bundle  " + done->bundle.string()
                   + "\n  index   " + done->index.string() + "\n");
  return k_exit_ok;
}

// The root the receiver trusts: --root, else the first root of its own repository.
Result<std::string> trusted_root(const repo::Repository& r, const std::string& file) {
  if (!file.empty()) {
    return fs::read_file_bounded(file, 1U << 20U, reason::k_usage, reason::k_tuf_bad_metadata);
  }
  ECLUSE_TRY(st, promote::read_state(r, std::string(promote::k_branch)));
  const auto it = st.metadata.find("1.root.json");
  if (it == st.metadata.end()) {
    return fail(reason::k_transfer_bad_index,
                "this channel has no TUF root yet: give the root you trust with --root");
  }
  return it->second;
}

int run_import(const GlobalOptions& g, const TransferOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto channel = promote::index_channel(o.bundle);
  if (!channel) {
    return report(channel.error(), o.json);
  }
  auto r = pipeline::open_channel(*session, *channel);
  if (!r) {
    return report(r.error(), o.json);
  }
  auto root = trusted_root(*r, o.root);
  if (!root) {
    return report(root.error(), o.json);
  }
  auto done = promote::import_bundle(*r, o.bundle, *channel, *root, session->clock().now());
  if (!done) {
    return report(done.error(), o.json);
  }

  const json::Json j{{"ok", true},
                     {"channel", *channel},
                     {"old_tip", done->old_tip.value_or("")},
                     {"tip", done->tip},
                     {"tags", done->tags},
                     {"report", done->report.to_json()}};
  if (auto ok = session->record("", "transfer.imported", j); !ok) {
    return report(ok.error(), o.json);
  }
  out(o.json ? json::dump_pretty(j) + "\n"
             : "imported " + printable(*channel) + " at " + done->tip.substr(0, 12) + " ("
                   + std::to_string(done->tags) + " tag(s), " + std::to_string(done->report.commits)
                   + " signed commit(s) verified)\n");
  return k_exit_ok;
}

}  // namespace

void add_transfer(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto o = std::make_shared<TransferOptions>();
  auto* e = app.add_subcommand(
      "export", "write a channel as a git bundle with a signed index, for an air-gapped transfer");
  e->add_option("channel", o->channel, "the channel")->required();
  e->add_option("out", o->out_dir, "directory to write CHANNEL.bundle and CHANNEL.index.json")
      ->required();
  e->add_option("--since", o->since, "only what follows this tag (PRODUCT/VERSION)");
  e->add_flag("--json", o->json, "print as JSON");
  e->callback([o, &g, &action] {
    action = [o, &g] {
      return run_export(g, *o);
    };
  });
  auto* i = app.add_subcommand(
      "import", "verify an exported bundle and its index, then apply it (fast-forward only)");
  i->add_option("bundle", o->bundle, "CHANNEL.bundle (its index beside it)")->required();
  i->add_option("--root", o->root, "the TUF root you trust (default: this channel's first root)");
  i->add_flag("--json", o->json, "print as JSON");
  i->callback([o, &g, &action] {
    action = [o, &g] {
      return run_import(g, *o);
    };
  });
}

}  // namespace ecluse::cli
