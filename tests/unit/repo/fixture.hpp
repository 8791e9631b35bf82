// Shared by bundle_test.cpp and repository_test.cpp: a fake commit signer, commits of literal
// files, and git's command line run on a repository with a temporary HOME.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/repo/repository.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "support/support.hpp"

namespace ecluse::test {

// What fake_sign returns: armored like an SSH signature, but no signature of anything.
inline const std::string k_sig =
    "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n";

Result<std::string> fake_sign(std::string_view payload);

// A commit of files (path to contents) on parents, by ecluse at time, signed by fake_sign.
repo::Oid commit_files(const repo::Repository& r,
                       const std::map<std::string, std::string>& files,
                       const std::vector<repo::Oid>& parents,
                       const std::string& message,
                       std::int64_t time = 1700000000);

// A temporary directory that is git's HOME, and git run on a repository with no user or system
// configuration (but committer t <t@t>).
struct GitHome {
  TempDir dir;

  [[nodiscard]] std::string git_cmd(const stdfs::path& gitdir, const std::string& args) const;

  [[nodiscard]] Run git_in(const repo::Repository& r, const std::string& args) const {
    return run(git_cmd(r.path(), args));
  }
};

}  // namespace ecluse::test
