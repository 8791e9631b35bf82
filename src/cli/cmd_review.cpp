// ecluse approve DROP --as NAME --reason TEXT and ecluse reject DROP --as NAME --reason TEXT:
// an engineer's decision on a held drop, journaled. An approval is signed with the engineer's
// key (keys generate --role engineer --name NAME); distinct unrevoked keys count once each.
// A drop that came through the job queue continues there once approved: its chain's next
// stage (promote, when the chain has a channel) is queued for the workers.
#include <ecluse/core/printable.hpp>
#include <ecluse/pipeline/review.hpp>
#include <ecluse/queue/queue.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct ReviewOptions {
  std::string drop;
  std::string name;
  std::string reason;
  bool json = false;
};

json::Json outcome_json(const pipeline::ReviewOutcome& r, const std::optional<store::Job>& queued) {
  auto j = drop_json(r.drop);
  j["approvals_required"] = r.required;
  j["approved_by"] = r.approvers;
  j["continued"] = r.continued;
  j["queued"] = queued_json(queued);
  return j;
}

std::string outcome_text(const pipeline::ReviewOutcome& r, bool approving) {
  const auto id = r.drop.id.substr(0, 12);
  if (!approving) {
    return "rejected  " + id + "  " + drop_name(r.drop) + "\n";
  }
  std::string names;
  for (const auto& n : r.approvers) {
    names += (names.empty() ? "" : ", ") + printable(n);
  }
  const auto have = std::to_string(r.approvers.size()) + " of " + std::to_string(r.required);
  if (r.drop.state == DropState::approved || r.drop.state == DropState::signed_off) {
    return std::string(r.drop.state == DropState::signed_off ? "signed    " : "approved  ") + id
           + "  " + drop_name(r.drop) + "  (" + have + " signed approvals: " + names + ")\n";
  }
  const auto missing = r.required > r.approvers.size() ? r.required - r.approvers.size() : 1;
  return "held      " + id + "  " + drop_name(r.drop) + "  (" + have + " signed approvals: " + names
         + "; waiting for " + std::to_string(missing) + " more)\n";
}

int run_review(const GlobalOptions& g, const ReviewOptions& o, bool approving) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto d = find_drop(*session, o.drop);
  if (!d) {
    return report(d.error(), o.json);
  }
  auto r = approving ? pipeline::approve(*session, d->id, o.name, o.reason)
                     : pipeline::reject(*session, d->id, o.name, o.reason);
  if (!r) {
    return report(r.error(), o.json);
  }
  std::optional<store::Job> queued;
  if (approving) {
    auto next = queue::continue_reviewed(*session, d->id);
    if (!next) {
      return report(next.error(), o.json);  // the approval stands; `ecluse promote` still works
    }
    queued = *next;
  }
  out(o.json ? json::dump_pretty(outcome_json(*r, queued)) + "\n"
             : outcome_text(*r, approving) + queued_line(queued));
  return k_exit_ok;
}

void add_review(CLI::App& app, const GlobalOptions& g, Action& action, bool approving) {
  auto o = std::make_shared<ReviewOptions>();
  auto* cmd = app.add_subcommand(
      approving ? "approve" : "reject",
      approving ? "approve a held drop (it continues once the policy's count of distinct "
                  "engineers approved)"
                : "reject a held drop (final)");
  cmd->add_option("DROP", o->drop, "short id (hex prefix) or VENDOR/PRODUCT/VERSION")->required();
  cmd->add_option("--as", o->name, "the engineer deciding ([A-Za-z0-9._@-], up to 64)")->required();
  cmd->add_option("--reason", o->reason, "why (journaled with the decision)")->required();
  cmd->add_flag("--json", o->json, "print the outcome as JSON");
  cmd->callback([o, &g, &action, approving] {
    action = [o, &g, approving] {
      return run_review(g, *o, approving);
    };
  });
}

}  // namespace

void add_approve(CLI::App& app, const GlobalOptions& g, Action& action) {
  add_review(app, g, action, true);
}

void add_reject(CLI::App& app, const GlobalOptions& g, Action& action) {
  add_review(app, g, action, false);
}

}  // namespace ecluse::cli
