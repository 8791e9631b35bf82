// The keys and options of a promotion: release key, root keys, TUF roles, expiries, identity.
#include "promote_keys.hpp"

#include <ecluse/core/fs.hpp>

#include <algorithm>
#include <chrono>

namespace ecluse::pipeline::detail {

namespace {

tuf::RoleKeys role_keys(const keys::KeyList& list, keys::Role role) {
  tuf::RoleKeys out;
  for (const auto* e : list.active(role)) {
    out.keys.push_back(e->public_key);
  }
  out.threshold = list.threshold(role);
  return out;
}

std::chrono::seconds days(std::uint64_t n) {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::hours(24)
                                                          * static_cast<std::int64_t>(n));
}

}  // namespace

Result<std::unique_ptr<PromotionKeys>> promotion_keys(const Session& s) {
  ECLUSE_TRY(keyring, keys::Keyring::open(s.ws().keys_dir()));
  ECLUSE_TRY(release, keyring.active_signer(keys::Role::release));
  auto k = std::make_unique<PromotionKeys>(PromotionKeys{std::move(release), {}, {}, {}});
  const auto& list = keyring.list();
  for (const auto& e : list.keys) {
    if (e.role != keys::Role::root || e.standing == keys::Standing::revoked) {
      continue;
    }
    if (auto key = keyring.signer(e.keyid)) {
      k->roots.push_back(std::move(*key));
    }
  }
  k->all.push_back(&k->release);
  for (const auto& r : k->roots) {
    k->all.push_back(&r);
  }
  k->roles.root = role_keys(list, keys::Role::root);
  k->roles.targets = role_keys(list, keys::Role::release);
  k->roles.snapshot = k->roles.targets;
  k->roles.timestamp = k->roles.targets;
  return k;
}

promote::CommitOptions commit_options(const Session& s, const std::string& channel) {
  const auto& p = s.ws().config().promotion;
  const auto now = s.clock().now();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  return {{p.committer_name, p.committer_email, secs.count()},
          now,
          {days(p.root_expiry_days),
           days(p.targets_expiry_days),
           days(p.snapshot_expiry_days),
           days(p.timestamp_expiry_days)},
          channel};
}

Result<ChannelLock> lock_channel(const Session& s, const std::string& channel) {
  ECLUSE_TRY(lease, LeaseHolder::claim(s, "promote:" + channel, true));
  ECLUSE_CHECK(fs::make_dirs(s.ws().locks_dir(), reason::k_workspace_io));
  ECLUSE_TRY(file,
             fs::lock_exclusive(s.ws().locks_dir() / ("promote-" + channel + ".lock"),
                                reason::k_workspace_io));
  return ChannelLock{std::move(lease), std::move(file)};
}

}  // namespace ecluse::pipeline::detail
