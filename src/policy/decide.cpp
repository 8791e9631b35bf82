// The verdict: one pure function of findings, diff metrics and the policy.
#include <ecluse/policy/policy.hpp>

#include <algorithm>
#include <cstdio>

namespace ecluse::policy {

namespace {

std::string percent(double share) {
  std::array<char, 32> buf{};
  (void)std::snprintf(buf.data(), buf.size(), "%.1f%%", share * 100.0);
  return buf.data();
}

void check_threshold(const std::optional<Threshold>& t,
                     double value,
                     const Reason& code,
                     const std::string& what,
                     std::vector<VerdictReason>& out) {
  if (t && value > t->limit) {
    out.push_back(
        VerdictReason{std::string(code.code),
                      t->action,
                      {},
                      what + " " + percent(value) + " exceeds the limit " + percent(t->limit)});
  }
}

Decision strongest(const std::vector<VerdictReason>& reasons) {
  Decision d = Decision::pass;
  for (const auto& r : reasons) {
    if (r.action == Action::reject) {
      return Decision::reject;
    }
    if (r.action == Action::hold) {
      d = Decision::hold;
    }
  }
  return d;
}

}  // namespace

std::string_view to_string(Decision d) {
  switch (d) {
    case Decision::pass:
      return "pass";
    case Decision::hold:
      return "hold";
    case Decision::reject:
      return "reject";
  }
  return "hold";
}

const VerdictReason* Verdict::deciding() const {
  const auto want = decision == Decision::reject ? Action::reject : Action::hold;
  auto it = std::find_if(
      reasons.begin(), reasons.end(), [&](const VerdictReason& r) { return r.action == want; });
  return it == reasons.end() ? nullptr : &*it;
}

Verdict decide(const std::vector<store::Finding>& findings,
               const Metrics& metrics,
               const Policy& policy,
               const std::string& channel) {
  Verdict v;
  for (const auto& f : findings) {
    const auto action = policy.action_for(f.code);
    if (action != Action::allow) {
      v.reasons.push_back(VerdictReason{f.code, action, f.item, f.detail});
    }
  }
  if (metrics.has_baseline) {
    check_threshold(policy.max_changed_share,
                    metrics.changed_share,
                    reason::k_policy_changed_share,
                    "changed entries",
                    v.reasons);
    check_threshold(policy.max_size_growth,
                    metrics.size_growth,
                    reason::k_policy_size_growth,
                    "size growth",
                    v.reasons);
  }
  const auto& review = policy.always_review;
  if (std::find(review.begin(), review.end(), channel) != review.end()) {
    v.reasons.push_back(VerdictReason{std::string(reason::k_policy_always_review.code),
                                      Action::hold,
                                      channel,
                                      "every drop of channel " + channel + " is reviewed"});
  }
  v.decision = strongest(v.reasons);
  if (v.decision == Decision::hold) {
    v.approvals_required = policy.approvals_for(channel);
  }
  return v;
}

json::Json to_json(const Verdict& v) {
  auto reasons = json::Json::array();
  for (const auto& r : v.reasons) {
    reasons.push_back({{"code", r.code},
                       {"action", to_string(r.action)},
                       {"item", r.item},
                       {"detail", r.detail}});
  }
  return {{"decision", to_string(v.decision)},
          {"reasons", reasons},
          {"approvals_required", v.approvals_required}};
}

}  // namespace ecluse::policy
