// Shared helpers of the repo tests (fixture.hpp).
#include "unit/repo/fixture.hpp"

namespace ecluse::test {

Result<std::string> fake_sign(std::string_view /*payload*/) {
  return k_sig;
}

repo::Oid commit_files(const repo::Repository& r,
                       const std::map<std::string, std::string>& files,
                       const std::vector<repo::Oid>& parents,
                       const std::string& message,
                       std::int64_t time) {
  repo::Tree tree;
  for (const auto& [path, bytes] : files) {
    tree[path] = {.blob = must(r.write_blob(bytes))};
  }
  const repo::CommitRequest req{
      .tree = must(r.write_tree(tree)),
      .parents = parents,
      .author = {.name = "ecluse", .email = "ecluse@localhost", .time = time},
      .message = message};
  return must(r.create_commit(req, fake_sign));
}

std::string GitHome::git_cmd(const stdfs::path& gitdir, const std::string& args) const {
  return "HOME=" + dir.path().string()
         + " GIT_CONFIG_NOSYSTEM=1 git -c safe.directory='*' -c user.name=t -c user.email=t@t"
         + " --git-dir=" + gitdir.string() + " " + args;
}

}  // namespace ecluse::test
