// ecluse verify REPO_OR_CLONE --root ROOT.json [--release PRODUCT/VERSION]: what a consumer
// checks with nothing but the repository and a trusted TUF root.
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/promote/verify_channel.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct VerifyRepoOptions {
  std::string repository;
  std::string root;
  std::string release;
  std::string branch = "main";
  std::string at;  // check as of this time instead of now (RFC 3339 UTC)
  bool json = false;
};

std::string report_text(const promote::ChannelReport& r, const VerifyRepoOptions& o) {
  std::string t = (r.ok() ? "verified " : "FAILED   ") + printable(o.repository) + " at "
                  + r.tip.substr(0, 12) + "\n  TUF        root v" + std::to_string(r.root_version)
                  + ", timestamp v" + std::to_string(r.timestamp_version) + ", snapshot v"
                  + std::to_string(r.snapshot_version) + ", targets v"
                  + std::to_string(r.targets_version) + "\n  targets    "
                  + std::to_string(r.targets) + " (length and sha256), attestations "
                  + std::to_string(r.attestations) + "\n  history    " + std::to_string(r.commits)
                  + " signed commit(s), " + std::to_string(r.tags) + " signed tag(s)\n";
  for (const auto& rel : r.releases) {
    t += "  release    " + printable(rel) + "\n";
  }
  for (const auto& p : r.problems) {
    t += "  problem    " + p.reason + ": " + printable(p.message) + "\n";
  }
  return t;
}

int run_verify(const VerifyRepoOptions& o) {
  auto root = fs::read_file_bounded(o.root, 1U << 20U, reason::k_usage, reason::k_tuf_bad_metadata);
  if (!root) {
    return report(root.error(), o.json);
  }
  auto r = repo::Repository::open(o.repository);
  if (!r) {
    return report(r.error(), o.json);
  }
  auto now = SystemClock().now();
  if (!o.at.empty()) {
    const auto t = parse_utc(o.at);
    if (!t) {
      return report(Error::from(reason::k_usage, "--at must be YYYY-MM-DDTHH:MM:SSZ", o.at),
                    o.json);
    }
    now = *t;
  }
  promote::VerifyOptions opts{*root, now, std::nullopt, o.branch, std::nullopt, std::nullopt};
  if (!o.release.empty()) {
    opts.release = o.release;
  }
  auto rep = promote::verify_channel(*r, opts);
  if (!rep) {
    return report(rep.error(), o.json);
  }
  out(o.json ? json::dump_pretty(rep->to_json()) + "\n" : report_text(*rep, o));
  return rep->ok() ? k_exit_ok : k_exit_rejected;
}

}  // namespace

void add_verify(CLI::App& app, const GlobalOptions& /*g*/, Action& action) {
  auto o = std::make_shared<VerifyRepoOptions>();
  auto* v = app.add_subcommand(
      "verify",
      "verify a channel repository (bare or a clone) from a trusted TUF root: metadata, targets, "
      "attestations, signed commits and tags");
  v->add_option("repository", o->repository, "the repository or clone")->required();
  v->add_option("--root", o->root, "a root.json you trust (e.g. metadata/1.root.json)")->required();
  v->add_option("--release", o->release, "check only PRODUCT/VERSION (which must be there)");
  v->add_option("--branch", o->branch, "the branch (default main)");
  v->add_option(
      "--at", o->at, "verify as of this UTC time (YYYY-MM-DDTHH:MM:SSZ): what will have expired");
  v->add_flag("--json", o->json, "print as JSON");
  v->callback([o, &action] {
    action = [o] {
      return run_verify(*o);
    };
  });
}

}  // namespace ecluse::cli
