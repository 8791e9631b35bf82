// Small shared helpers of src/repo/: object ids, ref names, the read-only guard.
#include <ecluse/core/printable.hpp>

#include <array>

#include "internal.hpp"

namespace ecluse::repo {

Result<git_oid> parse_oid(std::string_view hex) {
  const bool well_formed = hex.size() == GIT_OID_HEXSZ
                           && hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  git_oid id{};
  if (!well_formed || git_oid_fromstrn(&id, hex.data(), hex.size()) != 0) {
    return fail(reason::k_repo_not_found,
                "object id '" + printable(hex.substr(0, 64)) + "' is not 40 lowercase hex digits");
  }
  return id;
}

Oid to_hex(const git_oid& id) {
  std::array<char, GIT_OID_HEXSZ + 1> buf{};
  git_oid_tostr(buf.data(), buf.size(), &id);
  return {buf.data()};
}

Status check_writable(const RepoState& s) {
  if (s.read_only) {
    return fail(reason::k_repo_io, "repository '" + s.git_dir.string() + "' is open read-only");
  }
  return {};
}

Status check_ref_name(const std::string& full_name) {
  int valid = 0;
  if (full_name.find('\0') != std::string::npos) {
    valid = 0;
  } else if (git_reference_name_is_valid(&valid, full_name.c_str()) != 0) {
    return git_fail(reason::k_internal, "checking ref name");
  }
  if (valid != 1 || !full_name.starts_with("refs/")) {
    const auto shown = printable(full_name);
    return fail(reason::k_repo_bad_path, "'" + shown + "' is not a valid ref name", shown);
  }
  return {};
}

Result<GitCommit> lookup_commit(const RepoState& s, const Oid& id) {
  ECLUSE_TRY(oid, parse_oid(id));
  git_commit* raw = nullptr;
  if (const int rc = git_commit_lookup(&raw, s.repo.get(), &oid); rc != 0) {
    return lookup_fail(rc, "looking up commit " + id);
  }
  return GitCommit(raw);
}

}  // namespace ecluse::repo
