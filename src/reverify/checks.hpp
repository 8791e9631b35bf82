// Private to src/reverify: the checks of one channel repository, each adding problems.
#pragma once

#include <ecluse/keys/keylist.hpp>
#include <ecluse/promote/promote.hpp>
#include <ecluse/promote/verify_channel.hpp>
#include <ecluse/reverify/reverify.hpp>

#include <string>
#include <vector>

namespace ecluse::reverify::detail {

struct ChannelCheck {
  const pipeline::Session& s;
  const std::string& channel;
  const repo::Repository& repo;
  const keys::KeyList& keylist;
  std::vector<Problem>& problems;
  TimePoint at;  // expiries and certificates are judged as of this time

  void add(const std::string& release,
           std::string_view reason,
           std::string message,
           std::string item) const {
    problems.push_back(
        {channel, release, std::string(reason), std::move(message), std::move(item)});
  }
};

// The branch still descends from the head remembered at the last run; false when it does not
// (the head is then not to be remembered, nor the metadata refreshed).
Result<bool> check_history(const ChannelCheck& c, const std::optional<repo::Oid>& head);

// promote::verify_channel from the channel's first root; its problems, attributed to releases.
Result<promote::ChannelReport> check_content(const ChannelCheck& c, unsigned threads);

// The channel's TUF roles and each release's verification summary against the key list now.
Status check_keys(const ChannelCheck& c, const promote::ChannelState& st);

// Each target's operator CMS signature (NAME.p7s) against the operator CA now, over the
// target's SHA-256 as targets.json lists it (the content check hashed the bytes themselves).
void check_cms(const ChannelCheck& c, const promote::ChannelState& st, const std::string& ca_pem);

// Each release's drop: the vendor's signature against the trust store now.
void check_vendor(const ChannelCheck& c, const promote::ChannelState& st);

// "PRODUCT/VERSION" of a tree path under targets/, attestations/ or releases/ (else empty).
std::string release_of(const std::string& path);

}  // namespace ecluse::reverify::detail
