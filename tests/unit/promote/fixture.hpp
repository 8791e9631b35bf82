// Shared by promote_test.cpp and transfer_test.cpp: operator keys, the pieces of a release as
// the sign stage hands it over, and a channel's bare repository in a temporary directory.
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/signing.hpp>
#include <ecluse/promote/promote.hpp>
#include <ecluse/repo/repository.hpp>
#include <ecluse/tuf/metadata.hpp>

#include <array>
#include <filesystem>
#include <optional>
#include <string>

#include "support/support.hpp"

namespace ecluse::test {

const TimePoint k_now = test_now();

// "ok", or the reason code of r's error.
template <class R>
std::string reason_of(const R& r) {
  return r ? std::string("ok") : r.error().reason;
}

// An ECDSA P-256 key loaded from a 0600 PEM file, as operator keys are; one per slot for the
// whole run. Slot 0: the release key, 1: the root key, 2 and 3: another operator's.
const crypto::SigningKey& key(int slot);

tuf::RoleKeys role(const crypto::SigningKey& k);

// A release key and a root key: root holds the root role, the release key the online roles.
struct KeySet {
  const crypto::SigningKey& release;
  const crypto::SigningKey& root;
  std::array<const crypto::SigningKey*, 2> all{&release, &root};

  KeySet(const crypto::SigningKey& release_key, const crypto::SigningKey& root_key)
      : release(release_key), root(root_key) {}

  [[nodiscard]] promote::Signers signers() const;
};

const KeySet& ours();    // keys 0 and 1
const KeySet& theirs();  // keys 2 and 3

promote::CommitOptions options(TimePoint now = k_now);

json::Json pointer(const std::string& path, const std::string& sha256);

// Adds the release's attestation: a DSSE envelope of statement signed by ours().release, at
// attestations/PRODUCT/VERSION/sign.dsse.json. Returns the list of pointers to it that each
// target's custom data carries.
json::Json add_attestation(promote::ReleaseContent& c, const json::Json& statement);

// Adds the artifact PRODUCT/VERSION/name of bytes, streamed from file (written here), at its
// target path and its consistent-snapshot path; agent.tar.gz also gets a CMS signature. The
// target's custom data holds the pointers content.cpp writes (the drop, the attestations, the
// signature). Returns the artifact's SHA-256.
std::string add_artifact(promote::ReleaseContent& c,
                         const stdfs::path& file,
                         const std::string& name,
                         const std::string& bytes,
                         const json::Json& attestations);

// Adds release.json holding summary, and to every target's custom data the pointer to it.
void add_release_file(promote::ReleaseContent& c, const json::Json& summary);

// A temporary directory holding a channel's bare repository (prod.git), and git run on it.
struct ChannelRepo {
  TempDir dir;
  repo::Repository repo;

  ChannelRepo();

  [[nodiscard]] std::optional<repo::Oid> branch() const;
  [[nodiscard]] promote::ChannelState state() const;
  [[nodiscard]] std::string trusted_root() const;  // 1.root.json on the branch
  [[nodiscard]] Run git(const std::string& args) const;
  void fsck_clean() const;
};

}  // namespace ecluse::test
