// Private to src/pipeline: the keys and options of a promotion, from the key list and
// ecluse.json.
#pragma once

#include <ecluse/keys/keyring.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/pipeline/lease.hpp>
#include <ecluse/promote/promote.hpp>

#include <memory>
#include <vector>

namespace ecluse::pipeline::detail {

// The active release key (commits, tags, the online TUF roles), every root key this
// workspace holds privately (they sign new root versions), and the roles the key list gives.
struct PromotionKeys {
  crypto::SigningKey release;
  std::vector<crypto::SigningKey> roots;
  std::vector<const crypto::SigningKey*> all;
  tuf::Roles roles;

  [[nodiscard]] promote::Signers signers() const { return {release, all, roles}; }
};

Result<std::unique_ptr<PromotionKeys>> promotion_keys(const Session& s);

promote::CommitOptions commit_options(const Session& s, const std::string& channel);

// The promotion lock of a channel, held while its repository is written: a lease in the state
// store ("promote:CHANNEL", waited for), which serialises workers on every machine sharing the
// store, and under it the workspace's flock on locks/promote-CHANNEL.lock.
struct ChannelLock {
  std::unique_ptr<LeaseHolder> lease;
  fs::UniqueFd file;
};

Result<ChannelLock> lock_channel(const Session& s, const std::string& channel);

}  // namespace ecluse::pipeline::detail
