// The libgit2 runtime guard. Invariant: before any repository is opened, libgit2 is initialised
// once, reads no system, XDG, global or ProgramData configuration and no templates (their
// search paths lead to an empty directory this process created), and runs with strict object
// creation, strict hash verification, fsync of the git directory and owner validation on.
#include <ecluse/core/fs.hpp>

#include <unistd.h>

#include <array>
#include <cstdlib>
#include <system_error>

#include "internal.hpp"

namespace ecluse::repo {

namespace {

// The empty directory the configuration search paths point at, removed at exit.
struct EmptyDir {
  std::string path;
  EmptyDir() = default;
  EmptyDir(const EmptyDir&) = delete;
  EmptyDir& operator=(const EmptyDir&) = delete;
  EmptyDir(EmptyDir&&) = delete;
  EmptyDir& operator=(EmptyDir&&) = delete;

  ~EmptyDir() {
    if (!path.empty()) {
      ::rmdir(path.c_str());
    }
  }
};

Status make_empty_dir(EmptyDir& dir) {
  std::error_code ec;
  const auto tmp = stdfs::temp_directory_path(ec);
  if (ec) {
    return fail(reason::k_repo_io, "no temporary directory for the git runtime: " + ec.message());
  }
  std::string tmpl = (tmp / "ecluse-git-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return fail(reason::k_repo_io, fs::errno_message("creating", tmpl, errno));
  }
  dir.path = tmpl;
  return {};
}

Status set_opt_failed(const char* what) {
  return git_fail(reason::k_internal, std::string("setting libgit2 option ") + what);
}

Status configure(const std::string& empty) {
  constexpr std::array k_levels{GIT_CONFIG_LEVEL_PROGRAMDATA,
                                GIT_CONFIG_LEVEL_SYSTEM,
                                GIT_CONFIG_LEVEL_XDG,
                                GIT_CONFIG_LEVEL_GLOBAL};
  for (const auto level : k_levels) {
    if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, empty.c_str()) != 0) {
      return set_opt_failed("search path");
    }
  }
  if (git_libgit2_opts(GIT_OPT_SET_TEMPLATE_PATH, empty.c_str()) != 0) {
    return set_opt_failed("template path");
  }
  constexpr std::array k_on{GIT_OPT_ENABLE_STRICT_OBJECT_CREATION,
                            GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION,
                            GIT_OPT_ENABLE_FSYNC_GITDIR,
                            GIT_OPT_SET_OWNER_VALIDATION,
                            GIT_OPT_ENABLE_STRICT_SYMBOLIC_REF_CREATION};
  for (const auto opt : k_on) {
    if (git_libgit2_opts(opt, 1) != 0) {
      return set_opt_failed("strict/fsync/owner");
    }
  }
  return {};
}

Status initialise(EmptyDir& dir) {
  if (git_libgit2_init() < 0) {
    return git_fail(reason::k_internal, "initialising libgit2");
  }
  ECLUSE_CHECK(make_empty_dir(dir));
  return configure(dir.path);
}

}  // namespace

Status ensure_runtime() {
  static EmptyDir dir;
  static const Status state = initialise(dir);
  return state;
}

tl::unexpected<Error> git_fail(const Reason& r, const std::string& what) {
  const git_error* e = git_error_last();
  const std::string detail = e != nullptr && e->message != nullptr ? e->message : "unknown error";
  return fail(r, what + ": " + detail);
}

tl::unexpected<Error> lookup_fail(int status, const std::string& what) {
  return git_fail(status == GIT_ENOTFOUND ? reason::k_repo_not_found : reason::k_repo_io, what);
}

}  // namespace ecluse::repo
