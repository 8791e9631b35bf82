// Promotion in the pipeline (signed → promoted), between channels, and withdrawal: opens the
// channel repositories under the workspace's promotion lock, takes the keys from the key
// list, applies the policy's gates, and journals each change.
//
// Reason codes: promote.*, repo.*, tuf.*, keys.*, state.*, store.*.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/promote/promote.hpp>

#include <string>

namespace ecluse::pipeline {

// Promotes a signed drop (or one promoted already, into another channel) into channel.
// promote.not_signed for any other drop; promote.gate_source when the channel takes releases
// only from another channel.
Result<promote::PromotedRelease> promote_drop(const Session& s,
                                              const std::string& id,
                                              const std::string& channel);

struct BetweenRequest {
  std::string product;
  std::string version;
  std::string from;
  std::string to;
};

// Copies a release from one channel to another: re-checks its evidence in the source channel
// (promote.evidence_invalid with the first problem), applies the target's gate
// (promote.gate_source, promote.gate_approvals, promote.gate_soak) and refuses rollbacks.
Result<promote::PromotedRelease> promote_between(const Session& s, const BetweenRequest& req);

// Withdraws a release from a channel with a new signed metadata version.
Result<promote::PromotedRelease> withdraw(const Session& s,
                                          const std::string& product,
                                          const std::string& version,
                                          const std::string& channel,
                                          const std::string& why);

// Re-signs a channel's TUF metadata in a new signed commit (promote::refresh) under the
// channel's lock, journaled as promote.refreshed; nullopt for an empty channel.
Result<std::optional<repo::Oid>> refresh_channel(const Session& s, const std::string& channel);

// repos/CHANNEL.git (created when absent); promote.unknown_channel for a channel ecluse.json
// does not name.
Result<repo::Repository> open_channel(const Session& s, const std::string& channel);

}  // namespace ecluse::pipeline
