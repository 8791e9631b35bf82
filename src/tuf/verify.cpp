// The TUF client workflow (tuf-spec 1.0.31 §5.2–§5.6) for the top-level roles of a repository
// ecluse wrote: from a trusted root, through the root chain, to timestamp, snapshot and targets.
//
// Invariant: every file is trusted only after its signatures met the threshold of the role the
// (already trusted) root gives it, its version is the one its referrer names, its length and
// hash are the ones its referrer lists, and it has not expired at `now` (one time for the
// whole run, §5.1). The first failed check ends the run; nothing is partially trusted.
#include <algorithm>

#include "document.hpp"

namespace ecluse::tuf {

namespace {

using detail::Document;
using detail::Role;
using detail::RootContent;

// §5.3.3: a client stops after this many root rotations in one run.
constexpr std::uint64_t k_max_root_rotations = 1024;

std::string versioned(std::uint64_t version, std::string_view name) {
  return std::to_string(version) + "." + std::string(name);
}

const std::string* find_file(const Files& files, const std::string& name) {
  const auto it = files.find(name);
  return it == files.end() ? nullptr : &it->second;
}

tl::unexpected<Error> missing(const std::string& name, const std::string& why) {
  return fail(reason::k_tuf_metadata_missing, name + ": not in the repository (" + why + ")", name);
}

struct TrustedRoot {
  Document doc;
  RootContent root;
};

void add_keys(std::vector<crypto::PublicKey>& out, const RoleKeys& role) {
  for (const auto& k : role.keys) {
    if (std::none_of(out.begin(), out.end(), [&](const auto& o) { return o.der() == k.der(); })) {
      out.push_back(k);
    }
  }
}

// §5.2: the trusted root is parsed strictly and must be signed by its own root role.
Result<TrustedRoot> load_trusted_root(std::string_view bytes) {
  const std::string name = "trusted root";
  ECLUSE_TRY(doc, detail::parse_document(bytes, Role::root, name));
  ECLUSE_TRY(root, detail::parse_root(doc, name));
  ECLUSE_CHECK(detail::check_signatures(doc, root, Role::root, name));
  return TrustedRoot{std::move(doc), std::move(root)};
}

// §5.3.3–§5.3.7: one rotation, N.root.json checked against the trusted root N-1.
Result<TrustedRoot> rotate(const TrustedRoot& trusted,
                           const std::string& bytes,
                           const std::string& name) {
  ECLUSE_TRY(doc, detail::parse_document(bytes, Role::root, name));
  ECLUSE_TRY(root, detail::parse_root(doc, name));
  ECLUSE_CHECK(detail::check_signatures(doc, trusted.root, Role::root, name));  // §5.3.4 old keys
  if (doc.version != trusted.doc.version + 1) {                                 // §5.3.5
    return fail(reason::k_tuf_rollback,
                name + ": version " + std::to_string(doc.version) + ", expected "
                    + std::to_string(trusted.doc.version + 1) + " after the trusted root",
                name);
  }
  ECLUSE_CHECK(detail::check_signatures(doc, root, Role::root, name));  // §5.3.4 new keys
  return TrustedRoot{std::move(doc), std::move(root)};
}

// The repository's own roots must line up with the chain: none newer than where the chain
// stopped (a gap), none only older than the trusted root (a rolled-back repository).
Status check_root_files(const Files& files,
                        std::uint64_t trusted_version,
                        const TrustedRoot& last) {
  const auto final_version = last.doc.version;
  const auto latest = detail::latest_root_version(files);
  if (latest && *latest > final_version) {
    return missing(versioned(final_version + 1, "root.json"),
                   versioned(*latest, "root.json") + " is, the chain has a gap");
  }
  if (latest && *latest < trusted_version) {
    return fail(reason::k_tuf_rollback,
                versioned(*latest, "root.json") + ": the repository's latest root is older than "
                    + "the trusted root (version " + std::to_string(trusted_version) + ")",
                versioned(*latest, "root.json"));
  }
  const auto name = versioned(final_version, "root.json");
  const auto* bytes = find_file(files, name);
  if (bytes == nullptr) {
    return missing(name, "the trusted chain ends at version " + std::to_string(final_version));
  }
  ECLUSE_TRY(doc, detail::parse_document(*bytes, Role::root, name));
  if (doc.canonical != last.doc.canonical) {
    return fail(reason::k_tuf_version_mismatch,
                name + ": differs from the trusted root of its version",
                name);
  }
  return {};
}

// §5.3: the root chain from the trusted root, then the final root's expiry (§5.3.10).
Result<TrustedRoot> update_root(TrustedRoot trusted,
                                const Files& files,
                                TimePoint now,
                                Verified& out) {
  const auto trusted_version = trusted.doc.version;
  add_keys(out.targets_keys_ever, trusted.root.role_keys(Role::targets));
  for (std::uint64_t i = 0; i < k_max_root_rotations; ++i) {
    const auto name = versioned(trusted.doc.version + 1, "root.json");
    const auto* bytes = find_file(files, name);
    if (bytes == nullptr) {
      break;
    }
    ECLUSE_TRY(next, rotate(trusted, *bytes, name));
    trusted = std::move(next);
    add_keys(out.targets_keys_ever, trusted.root.role_keys(Role::targets));
  }
  ECLUSE_CHECK(check_root_files(files, trusted_version, trusted));
  ECLUSE_CHECK(detail::check_expiry(trusted.doc, now, versioned(trusted.doc.version, "root.json")));
  return trusted;
}

struct Step {
  const Files& files;
  const RootContent& root;
  TimePoint now;
};

// §5.5.1–§5.5.6 and §5.6.1–§5.6.5: the file a referrer names, in the consistent-snapshot
// name N.NAME, of that length and hash, signed by its role, of that version, not expired.
Result<Document> load_named(const Step& step,
                            const detail::MetaInfo& meta,
                            std::string_view base,
                            Role role,
                            const std::string& referrer) {
  const auto name = versioned(meta.version, base);
  const auto* bytes = find_file(step.files, name);
  if (bytes == nullptr) {
    return missing(name, referrer + " names version " + std::to_string(meta.version));
  }
  ECLUSE_CHECK(detail::check_length_and_hash(*bytes, meta, name));
  ECLUSE_TRY(doc, detail::parse_document(*bytes, role, name));
  ECLUSE_CHECK(detail::check_signatures(doc, step.root, role, name));
  if (doc.version != meta.version) {
    return fail(reason::k_tuf_version_mismatch,
                name + ": version " + std::to_string(doc.version) + ", " + referrer + " names "
                    + std::to_string(meta.version),
                name);
  }
  ECLUSE_CHECK(detail::check_expiry(doc, step.now, name));
  return doc;
}

// The unversioned copies (root.json, snapshot.json, targets.json) must be the files verified:
// the repository side reads them as its current state.
Status check_copy(const Files& files, const std::string& copy, const std::string& original) {
  const auto* bytes = find_file(files, copy);
  if (bytes == nullptr) {
    return missing(copy, "the copy of " + original);
  }
  const auto* verified = find_file(files, original);
  if (verified == nullptr || *bytes != *verified) {
    return fail(reason::k_tuf_version_mismatch, copy + ": is not a copy of " + original, copy);
  }
  return {};
}

// §5.4.1–§5.4.4: timestamp.json signed by its role and not expired (with no stored
// timestamp there is no rollback check of §5.4.3).
Result<Document> load_timestamp(const Step& step) {
  const std::string name = "timestamp.json";
  const auto* bytes = find_file(step.files, name);
  if (bytes == nullptr) {
    return missing(name, "the client workflow starts there");
  }
  ECLUSE_TRY(doc, detail::parse_document(*bytes, Role::timestamp, name));
  ECLUSE_CHECK(detail::check_signatures(doc, step.root, Role::timestamp, name));
  ECLUSE_CHECK(detail::check_expiry(doc, step.now, name));
  return doc;
}

struct Chain {
  Document timestamp;
  Document snapshot;
  Document targets;
  std::vector<Target> list;
};

// §5.4–§5.6 under the final root.
Result<Chain> load_chain(const Step& step) {
  ECLUSE_TRY(ts, load_timestamp(step));
  ECLUSE_TRY(snapshot_meta, detail::parse_meta(ts, "snapshot.json", "timestamp.json"));
  ECLUSE_TRY(snapshot,
             load_named(step, snapshot_meta, "snapshot.json", Role::snapshot, "timestamp.json"));
  const auto snapshot_name = versioned(snapshot.version, "snapshot.json");
  ECLUSE_TRY(targets_meta, detail::parse_meta(snapshot, "targets.json", snapshot_name));
  ECLUSE_TRY(targets, load_named(step, targets_meta, "targets.json", Role::targets, snapshot_name));
  const auto targets_name = versioned(targets.version, "targets.json");
  ECLUSE_TRY(list, detail::parse_targets(targets, targets_name));
  ECLUSE_CHECK(check_copy(step.files, "snapshot.json", snapshot_name));
  ECLUSE_CHECK(check_copy(step.files, "targets.json", targets_name));
  return Chain{std::move(ts), std::move(snapshot), std::move(targets), std::move(list)};
}

}  // namespace

Result<Verified> verify(std::string_view trusted_root, const Files& files, TimePoint now) {
  Verified out;
  ECLUSE_TRY(initial, load_trusted_root(trusted_root));
  ECLUSE_TRY(trusted, update_root(std::move(initial), files, now, out));
  ECLUSE_TRY(chain, load_chain(Step{files, trusted.root, now}));
  ECLUSE_CHECK(check_copy(files, "root.json", versioned(trusted.doc.version, "root.json")));
  out.root_version = trusted.doc.version;
  out.timestamp_version = chain.timestamp.version;
  out.snapshot_version = chain.snapshot.version;
  out.targets_version = chain.targets.version;
  out.roles = Roles{trusted.root.role_keys(Role::root),
                    trusted.root.role_keys(Role::targets),
                    trusted.root.role_keys(Role::snapshot),
                    trusted.root.role_keys(Role::timestamp)};
  out.targets = std::move(chain.list);
  return out;
}

}  // namespace ecluse::tuf
