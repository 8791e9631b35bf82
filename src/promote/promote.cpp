// Promotion and withdrawal: new blobs, new TUF metadata, one signed commit (and for a
// promotion a signed tag), then the branch's compare-and-swap, the commit point.
#include <ecluse/core/fault.hpp>
#include <ecluse/core/version.hpp>
#include <ecluse/crypto/sshsig.hpp>
#include <ecluse/promote/promote.hpp>

namespace ecluse::promote {

namespace {

constexpr std::string_view k_git_namespace = "git";

repo::SignFn ssh_signer(const crypto::SigningKey& key) {
  return [&key](std::string_view payload) {
    return crypto::ssh::sign(key, payload, k_git_namespace);
  };
}

std::string tag_name(const std::string& product, const std::string& version) {
  return product + "/" + version;
}

// Refuses a version not greater than every version of the product the channel has held.
Status check_not_rollback(const ChannelState& st,
                          const ReleaseContent& c,
                          const std::string& channel) {
  const auto wanted = Version::parse(c.version);
  for (const auto& rec : st.releases) {
    if (rec.product != c.product) {
      continue;
    }
    const auto have = Version::parse(rec.version);
    if (!wanted || !have || !(*have < *wanted)) {
      return fail(reason::k_promote_rollback,
                  c.product + " " + c.version + " is not newer than " + rec.version + ", which "
                      + channel + " holds" + (rec.withdrawn ? " (withdrawn)" : ""),
                  tag_name(c.product, c.version));
    }
  }
  return {};
}

Status add_files(const repo::Repository& r,
                 const std::vector<ReleaseFile>& files,
                 repo::Tree& tree) {
  for (const auto& f : files) {
    ECLUSE_TRY(oid,
               !f.blob.empty()    ? Result<repo::Oid>(f.blob)
               : f.source.empty() ? r.write_blob(f.bytes)
                                  : r.write_blob_file(f.source));
    for (const auto& path : f.paths) {
      if (!tree.emplace(path, repo::TreeEntry{oid, false}).second) {
        return fail(reason::k_repo_bad_path, "two files of the release are both " + path, path);
      }
    }
  }
  return {};
}

// Replaces metadata/ with the new metadata directory.
Status put_metadata(const repo::Repository& r, const tuf::Files& meta, repo::Tree& tree) {
  std::erase_if(tree, [](const auto& e) { return e.first.starts_with("metadata/"); });
  for (const auto& [name, bytes] : meta) {
    ECLUSE_TRY(oid, r.write_blob(bytes));
    tree["metadata/" + name] = repo::TreeEntry{oid, false};
  }
  return {};
}

std::uint64_t targets_version(const tuf::Files& meta) {
  const auto it = meta.find("targets.json");
  if (it == meta.end()) {
    return 0;
  }
  const auto doc = json::parse_strict(it->second);
  const auto& v = doc.value.is_object() ? doc.value.value("signed", json::Json::object())
                                        : json::Json::object();
  return v.value("version", std::uint64_t{0});
}

// What every write of one change uses: the repository, the keys and the options.
struct Writer {
  const repo::Repository& r;
  const Signers& signers;
  const CommitOptions& opts;
};

// New metadata for a target list, into the tree.
Result<tuf::Files> update_metadata(const Writer& w,
                                   const ChannelState& st,
                                   std::vector<tuf::Target> targets,
                                   repo::Tree& tree) {
  const auto& r = w.r;
  const auto& signers = w.signers;
  const auto& opts = w.opts;
  ECLUSE_TRY(
      meta,
      tuf::update(
          st.metadata,
          {signers.roles, std::move(targets), signers.tuf_signers, opts.now, opts.expiries}));
  ECLUSE_CHECK(put_metadata(r, meta, tree));
  return meta;
}

// Writes the tree and a signed commit on top of the head, then moves the branch (the commit
// point). repo.ref_moved when another writer moved it meanwhile.
Result<repo::Oid> commit_tree(const Writer& w,
                              const ChannelState& st,
                              const repo::Tree& tree,
                              const std::string& message) {
  const auto& r = w.r;
  const auto& signers = w.signers;
  const auto& opts = w.opts;
  fault_point("promote.blobs_written");
  ECLUSE_TRY(tree_id, r.write_tree(tree));
  std::vector<repo::Oid> parents;
  if (st.head) {
    parents.push_back(*st.head);
  }
  ECLUSE_TRY(
      commit,
      r.create_commit({tree_id, parents, opts.identity, message}, ssh_signer(signers.release)));
  fault_point("promote.commit_written");
  ECLUSE_CHECK(r.update_branch(std::string(k_branch), st.head, commit, message));
  fault_point("promote.branch_moved");
  return commit;
}

Result<repo::Oid> tag_release(const repo::Repository& r,
                              const std::string& name,
                              const repo::Oid& commit,
                              const Signers& signers,
                              const CommitOptions& opts) {
  ECLUSE_TRY(
      tag,
      r.create_tag({name, commit, opts.identity, name + " promoted to " + opts.channel + "\n"},
                   ssh_signer(signers.release)));
  fault_point("promote.tag_written");
  ECLUSE_CHECK(r.create_tag_ref(name, tag));
  fault_point("promote.tagged");
  return tag;
}

// The commit of the first-parent chain that added path (the oldest holding it).
Result<repo::Oid> commit_adding(const repo::Repository& r,
                                const repo::Oid& head,
                                const std::string& path) {
  repo::Oid found = head;
  repo::Oid cur = head;
  while (true) {
    ECLUSE_TRY(info, r.commit(cur));
    if (info.parents.empty()) {
      return found;
    }
    ECLUSE_TRY(parent_tree, r.read_tree(info.parents.front()));
    if (!parent_tree.contains(path)) {
      return found;
    }
    cur = info.parents.front();
    found = cur;
  }
}

// The release is on the branch already: a promotion interrupted after its commit point.
// Its tag is made when the crash came before it, at the commit that added the release.
Result<PromotedRelease> complete(const repo::Repository& r,
                                 const ChannelState& st,
                                 const ReleaseContent& c,
                                 const Signers& signers,
                                 const CommitOptions& opts) {
  const auto name = tag_name(c.product, c.version);
  PromotedRelease out{
      opts.channel, c.product, c.version, {}, {}, targets_version(st.metadata), true};
  ECLUSE_TRY(tag, r.tag(name));
  if (tag) {
    out.commit = tag->target;
    out.tag = tag->id;
    return out;
  }
  ECLUSE_TRY(commit, commit_adding(r, *st.head, release_file(c.product, c.version)));
  out.commit = commit;
  ECLUSE_TRY(made, tag_release(r, name, commit, signers, opts));
  out.tag = made;
  return out;
}

}  // namespace

Result<PromotedRelease> promote(const repo::Repository& r,
                                const ReleaseContent& c,
                                const Signers& signers,
                                const CommitOptions& opts) {
  ECLUSE_TRY(st, read_state(r, std::string(k_branch)));
  const auto name = tag_name(c.product, c.version);
  if (const auto* rec = st.find(c.product, c.version)) {
    if (!rec->withdrawn && rec->release.value("drop", std::string()) == c.drop_id) {
      return complete(r, st, c, signers, opts);
    }
    return fail(reason::k_promote_already,
                name + " is in " + opts.channel + " already"
                    + (rec->withdrawn ? " (withdrawn)" : " from another drop"),
                name);
  }
  ECLUSE_CHECK(check_not_rollback(st, c, opts.channel));
  auto tree = st.tree;
  ECLUSE_CHECK(add_files(r, c.files, tree));
  ECLUSE_TRY(targets, tuf::current_targets(st.metadata));
  targets.insert(targets.end(), c.targets.begin(), c.targets.end());
  ECLUSE_TRY(meta, update_metadata({r, signers, opts}, st, std::move(targets), tree));
  const auto message = "Promote " + name + " to " + opts.channel + "\n\nDrop: " + c.drop_id
                       + "\nTUF targets version: " + std::to_string(targets_version(meta)) + "\n";
  ECLUSE_TRY(commit, commit_tree({r, signers, opts}, st, tree, message));
  ECLUSE_TRY(tag, tag_release(r, name, commit, signers, opts));
  return PromotedRelease{
      opts.channel, c.product, c.version, commit, tag, targets_version(meta), false};
}

Result<PromotedRelease> withdraw(const repo::Repository& r,
                                 const WithdrawRequest& req,
                                 const Signers& signers,
                                 const CommitOptions& opts) {
  const auto& product = req.product;
  const auto& version = req.version;
  const auto& why = req.why;
  ECLUSE_TRY(st, read_state(r, std::string(k_branch)));
  const auto name = tag_name(product, version);
  const auto* rec = st.find(product, version);
  if (rec == nullptr || rec->withdrawn) {
    return fail(
        reason::k_promote_not_in_channel,
        name + (rec == nullptr ? " is not in " : " is withdrawn from ") + opts.channel + " already",
        name);
  }
  auto tree = st.tree;
  const auto in_release = [&](const std::string& p) {
    return p.starts_with(targets_dir(product, version) + "/")
           || p.starts_with(attestations_dir(product, version) + "/");
  };
  std::erase_if(tree, [&](const auto& e) { return in_release(e.first); });
  json::Json record{{"schema", k_release_schema},
                    {"product", product},
                    {"version", version},
                    {"drop", rec->release.value("drop", std::string())},
                    {"withdrawn", why}};
  ECLUSE_TRY(record_oid, r.write_blob(json::dump_pretty(record) + "\n"));
  tree[release_file(product, version)] = repo::TreeEntry{record_oid, false};
  ECLUSE_TRY(targets, tuf::current_targets(st.metadata));
  std::erase_if(targets, [&](const tuf::Target& t) { return t.path.starts_with(name + "/"); });
  ECLUSE_TRY(meta, update_metadata({r, signers, opts}, st, std::move(targets), tree));
  const auto message = "Withdraw " + name + " from " + opts.channel
                       + "\n\nReason: " + why.value("reason", std::string()) + "\n";
  ECLUSE_TRY(commit, commit_tree({r, signers, opts}, st, tree, message));
  return PromotedRelease{opts.channel, product, version, commit, {}, targets_version(meta), false};
}

}  // namespace ecluse::promote

namespace ecluse::promote {

Result<std::optional<repo::Oid>> refresh(const repo::Repository& r,
                                         const Signers& signers,
                                         const CommitOptions& opts) {
  ECLUSE_TRY(st, read_state(r, std::string(k_branch)));
  if (!st.head) {
    return std::optional<repo::Oid>{};
  }
  auto tree = st.tree;
  ECLUSE_TRY(targets, tuf::current_targets(st.metadata));
  ECLUSE_TRY(meta, update_metadata({r, signers, opts}, st, std::move(targets), tree));
  const auto message = "Refresh the TUF metadata of " + opts.channel + " (targets version "
                       + std::to_string(targets_version(meta)) + ")\n";
  ECLUSE_TRY(commit, commit_tree({r, signers, opts}, st, tree, message));
  return std::optional<repo::Oid>{commit};
}

}  // namespace ecluse::promote
