// Branches and tag refs: every move is one compare-and-swap through libgit2's lock file (fsync
// on, reflog kept), so a promotion either moves the branch from the commit it saw or not at all.
#include <ecluse/core/printable.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "internal.hpp"

namespace ecluse::repo {

namespace {

constexpr std::string_view k_tags_prefix = "refs/tags/";

Result<std::optional<Oid>> read_ref(const RepoState& s, const std::string& full) {
  git_reference* raw = nullptr;
  if (const int rc = git_reference_lookup(&raw, s.repo.get(), full.c_str()); rc != 0) {
    if (rc == GIT_ENOTFOUND) {
      return std::optional<Oid>();
    }
    return git_fail(reason::k_repo_io, "reading ref " + printable(full));
  }
  const GitReference ref(raw);
  const git_oid* target = git_reference_target(raw);
  if (target == nullptr) {
    return fail(reason::k_repo_io, "ref " + printable(full) + " is symbolic");
  }
  return std::optional<Oid>(to_hex(*target));
}

tl::unexpected<Error> moved(const std::string& full, const std::string& why) {
  const auto shown = printable(full);
  return fail(reason::k_repo_ref_moved, "ref " + shown + " " + why, shown);
}

// Branches only move forward: target must descend from (or be) expected.
Status check_fast_forward(const RepoState& s,
                          const std::string& full,
                          const git_oid& expected,
                          const git_oid& target) {
  if (git_oid_equal(&expected, &target) != 0) {
    return {};
  }
  const int rc = git_graph_descendant_of(s.repo.get(), &target, &expected);
  if (rc < 0) {
    return git_fail(reason::k_repo_io, "comparing commits for " + printable(full));
  }
  if (rc == 0) {
    return moved(full,
                 "would not move forward (" + to_hex(expected) + " to " + to_hex(target)
                     + " is not a fast-forward)");
  }
  return {};
}

// Creates full at target (nullopt expected) or swaps it from expected to target.
Status swap_ref(const RepoState& s,
                const std::string& full,
                const std::optional<git_oid>& expected,
                const git_oid& target,
                const std::string& log_message) {
  git_reference* raw = nullptr;
  const int rc = expected ? git_reference_create_matching(
                     &raw, s.repo.get(), full.c_str(), &target, 1, &*expected, log_message.c_str())
                          : git_reference_create(
                              &raw, s.repo.get(), full.c_str(), &target, 0, log_message.c_str());
  if (rc == GIT_EEXISTS || rc == GIT_EMODIFIED || (expected && rc == GIT_ENOTFOUND)) {
    const git_error* e = git_error_last();
    return moved(full,
                 std::string("is not where it was expected: ")
                     + (e != nullptr && e->message != nullptr ? e->message : "it moved"));
  }
  if (rc != 0) {
    return git_fail(reason::k_repo_io, "updating ref " + printable(full));
  }
  const GitReference ref(raw);
  return {};
}

}  // namespace

Result<std::optional<Oid>> Repository::branch(const std::string& name) const {
  const auto full = "refs/heads/" + name;
  ECLUSE_CHECK(check_ref_name(full));
  return read_ref(m_impl->s, full);
}

Status Repository::update_branch(const std::string& name,
                                 const std::optional<Oid>& expected,
                                 const Oid& target,
                                 const std::string& log_message) const {
  const auto& s = m_impl->s;
  ECLUSE_CHECK(check_writable(s));
  const auto full = "refs/heads/" + name;
  ECLUSE_CHECK(check_ref_name(full));
  ECLUSE_TRY(commit, lookup_commit(s, target));
  const git_oid target_id = *git_commit_id(commit.get());
  std::optional<git_oid> expected_id;
  if (expected) {
    ECLUSE_TRY(e, parse_oid(*expected));
    expected_id = e;
    ECLUSE_CHECK(check_fast_forward(s, full, e, target_id));
  }
  return swap_ref(s, full, expected_id, target_id, log_message);
}

Status Repository::create_tag_ref(const std::string& name, const Oid& tag) const {
  const auto& s = m_impl->s;
  ECLUSE_CHECK(check_writable(s));
  const auto full = std::string(k_tags_prefix) + name;
  ECLUSE_CHECK(check_ref_name(full));
  ECLUSE_TRY(id, parse_oid(tag));
  git_object* raw = nullptr;
  if (const int rc = git_object_lookup(&raw, s.repo.get(), &id, GIT_OBJECT_TAG); rc != 0) {
    return lookup_fail(rc, "looking up tag object " + tag);
  }
  const GitObject obj(raw);
  // Create first, compare after: idempotent even when another process creates it meanwhile.
  auto created = swap_ref(s, full, std::nullopt, id, "ecluse: tag " + name);
  if (created || created.error().reason != reason::k_repo_ref_moved.code) {
    return created;
  }
  ECLUSE_TRY(current, read_ref(s, full));
  if (current && *current == tag) {
    return {};
  }
  return moved(full, "already names " + current.value_or("nothing"));
}

Result<std::vector<std::string>> Repository::tag_names() const {
  git_reference_iterator* raw = nullptr;
  if (git_reference_iterator_new(&raw, m_impl->s.repo.get()) != 0) {
    return git_fail(reason::k_repo_io, "listing refs");
  }
  const GitRefIterator it(raw);
  std::vector<std::string> names;
  const char* name = nullptr;
  int rc = 0;
  while ((rc = git_reference_next_name(&name, raw)) == 0) {
    const std::string_view n(name);
    if (n.starts_with(k_tags_prefix)) {
      names.emplace_back(n.substr(k_tags_prefix.size()));
    }
  }
  if (rc != GIT_ITEROVER) {
    return git_fail(reason::k_repo_io, "listing refs");
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace ecluse::repo
