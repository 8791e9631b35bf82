// Writing git bundles (v2: Documentation/gitformat-bundle.txt): a header naming the
// prerequisites and refs, then a pack of what the refs reach beyond the prerequisites.
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>

#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "internal.hpp"

namespace ecluse::repo {

namespace {

struct BundlePlan {
  std::string header;
  std::vector<git_oid> tips;  // commits to walk
  std::vector<git_oid> hide;  // prerequisites
  std::vector<git_oid> tags;  // tag objects named by refs
};

// The commit a ref names (through one annotated tag, which the pack then carries too).
Status add_ref(const RepoState& s, const Repository::BundleRef& ref, BundlePlan& plan) {
  ECLUSE_CHECK(check_ref_name(ref.name));
  ECLUSE_TRY(id, parse_oid(ref.target));
  git_object* raw = nullptr;
  if (const int rc = git_object_lookup(&raw, s.repo.get(), &id, GIT_OBJECT_ANY); rc != 0) {
    return lookup_fail(rc, "looking up " + ref.target + " for " + printable(ref.name));
  }
  const GitObject obj(raw);
  git_oid commit = id;
  if (git_object_type(raw) == GIT_OBJECT_TAG) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): a tag object is a git_tag
    const auto* tag = reinterpret_cast<const git_tag*>(raw);
    if (git_tag_target_type(tag) != GIT_OBJECT_COMMIT) {
      return fail(reason::k_repo_not_found, "tag " + ref.target + " does not name a commit");
    }
    commit = *git_tag_target_id(tag);
    plan.tags.push_back(id);
  } else if (git_object_type(raw) != GIT_OBJECT_COMMIT) {
    return fail(reason::k_repo_not_found, ref.target + " is neither a commit nor a tag");
  }
  plan.tips.push_back(commit);
  plan.header += ref.target + " " + ref.name + "\n";
  return {};
}

Result<BundlePlan> plan_bundle(const RepoState& s,
                               const std::vector<Repository::BundleRef>& refs,
                               const std::vector<Oid>& exclude) {
  if (refs.empty()) {
    return fail(reason::k_internal, "a bundle needs at least one ref");
  }
  BundlePlan plan;
  plan.header = "# v2 git bundle\n";
  for (const auto& oid : exclude) {
    ECLUSE_TRY(id, parse_oid(oid));
    git_commit* raw = nullptr;
    const int rc = git_commit_lookup(&raw, s.repo.get(), &id);
    if (rc != 0 && rc != GIT_ENOTFOUND) {
      return git_fail(reason::k_repo_io, "looking up excluded commit " + oid);
    }
    if (rc == 0) {  // a commit we never had cannot be a prerequisite of what we send
      git_commit_free(raw);
      plan.hide.push_back(id);
      plan.header += "-" + oid + "\n";
    }
  }
  for (const auto& ref : refs) {
    ECLUSE_CHECK(add_ref(s, ref, plan));
  }
  plan.header += "\n";
  return plan;
}

Result<GitPackbuilder> build_pack(const RepoState& s, const BundlePlan& plan) {
  git_revwalk* raw_walk = nullptr;
  git_packbuilder* raw_pb = nullptr;
  if (git_revwalk_new(&raw_walk, s.repo.get()) != 0) {
    return git_fail(reason::k_repo_io, "starting a walk for a bundle");
  }
  const GitRevwalk walk(raw_walk);
  if (git_packbuilder_new(&raw_pb, s.repo.get()) != 0) {
    return git_fail(reason::k_repo_io, "starting a pack for a bundle");
  }
  GitPackbuilder pb(raw_pb);
  git_packbuilder_set_threads(raw_pb, 1);
  for (const auto& id : plan.tips) {
    if (git_revwalk_push(raw_walk, &id) != 0) {
      return git_fail(reason::k_repo_io, "walking " + to_hex(id) + " for a bundle");
    }
  }
  for (const auto& id : plan.hide) {
    if (git_revwalk_hide(raw_walk, &id) != 0) {
      return git_fail(reason::k_repo_io, "excluding " + to_hex(id) + " from a bundle");
    }
  }
  if (git_packbuilder_insert_walk(raw_pb, raw_walk) != 0) {
    return git_fail(reason::k_repo_io, "packing the objects of a bundle");
  }
  for (const auto& id : plan.tags) {
    if (git_packbuilder_insert(raw_pb, &id, nullptr) != 0) {
      return git_fail(reason::k_repo_io, "packing tag " + to_hex(id));
    }
  }
  return pb;
}

struct PackSink {
  int fd;
  const stdfs::path* path;
  Status status;
};

int write_chunk(void* buf, std::size_t size, void* payload) {
  auto* sink = static_cast<PackSink*>(payload);
  sink->status = fs::write_all(
      sink->fd, {static_cast<const char*>(buf), size}, *sink->path, reason::k_repo_io);
  return sink->status ? 0 : -1;
}

// Writes header and pack to a temporary file beside out, then fsync, rename, fsync dir.
Status write_file(const stdfs::path& out, const std::string& header, git_packbuilder* pb) {
  const auto dir = out.parent_path().empty() ? stdfs::path(".") : out.parent_path();
  std::string tmpl = (dir / ".ecluse-bundle-XXXXXX").string();
  const fs::UniqueFd fd(::mkstemp(tmpl.data()));
  if (!fd.valid()) {
    return fail(reason::k_repo_io, fs::errno_message("creating", tmpl, errno));
  }
  const stdfs::path tmp(tmpl);
  auto written = fs::write_all(fd.get(), header, tmp, reason::k_repo_io);
  PackSink sink{fd.get(), &tmp, {}};
  if (written && git_packbuilder_foreach(pb, write_chunk, &sink) != 0) {
    written = git_fail(reason::k_repo_io, "writing the pack of a bundle");
    if (!sink.status) {
      written = sink.status;
    }
  }
  if (written && ::fsync(fd.get()) != 0) {
    written = fail(reason::k_repo_io, fs::errno_message("syncing", tmp, errno));
  }
  if (written && ::rename(tmp.c_str(), out.c_str()) != 0) {
    written = fail(reason::k_repo_io, fs::errno_message("renaming", tmp, errno));
  }
  if (!written) {
    ::unlink(tmp.c_str());
    return written;
  }
  return fs::fsync_dir(dir, reason::k_repo_io);
}

}  // namespace

Status Repository::write_bundle(const stdfs::path& out,
                                const std::vector<BundleRef>& refs,
                                const std::vector<Oid>& exclude) const {
  ECLUSE_TRY(plan, plan_bundle(m_impl->s, refs, exclude));
  ECLUSE_TRY(pb, build_pack(m_impl->s, plan));
  return write_file(out, plan.header, pb.get());
}

}  // namespace ecluse::repo
