// Materialising a tree with *at() calls: mkdirat, openat(O_CREAT|O_EXCL|O_NOFOLLOW), symlinkat,
// linkat without AT_SYMLINK_FOLLOW; directories reopened component by component with
// O_DIRECTORY|O_NOFOLLOW.
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/unpack/materialise.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace ecluse::unpack {

namespace {

tl::unexpected<Error> io(const std::string& what, const std::string& path) {
  const auto shown = printable(path);
  return fail(reason::k_store_io, fs::errno_message(what, shown, errno), shown);
}

// Opens the directory that holds path's last component, creating missing directories and
// refusing to pass through anything that is not a real directory.
Result<fs::UniqueFd> open_parent(int root, const std::string& path) {
  fs::UniqueFd dir(::fcntl(root, F_DUPFD_CLOEXEC, 0));
  std::size_t start = 0;
  for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', start)) {
    const auto part = path.substr(start, slash - start);
    if (::mkdirat(dir.get(), part.c_str(), 0755) != 0 && errno != EEXIST) {
      return io("cannot create directory", path.substr(0, slash));
    }
    fs::UniqueFd next(
        ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      const auto shown = printable(path);
      return fail(reason::k_unpack_write_through_symlink,
                  "'" + shown + "': '" + printable(path.substr(0, slash))
                      + "' is not a directory in the destination (a symlink?)",
                  shown);
    }
    dir = std::move(next);
    start = slash + 1;
  }
  return dir;
}

std::string last_component(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The copy when the destination is on another file system than the store.
Status copy_by_reading(int src, int dst, const std::string& path) {
  std::vector<char> buf(std::size_t{1} << 20U);
  for (;;) {
    const ssize_t n = ::read(src, buf.data(), buf.size());
    if (n == 0) {
      return {};
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return io("cannot read the object of", path);
    }
    ECLUSE_CHECK(fs::write_all(
        dst, std::string_view(buf.data(), static_cast<std::size_t>(n)), path, reason::k_store_io));
  }
}

Status copy_object(const store::ContentStore& objects, const Entry& e, int parent) {
  ECLUSE_TRY(src,
             fs::open_read_nofollow(objects.object_path(e.sha256), reason::k_store_object_missing));
  // Readable by all, executable by all when executable at all, never writable: the sandbox runs
  // the drop as an unprivileged user that owns none of it.
  const auto mode = static_cast<mode_t>(0444U | ((e.mode & 0111U) != 0 ? 0111U : 0U));
  fs::UniqueFd dst(::openat(parent,
                            last_component(e.path).c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            mode));
  if (!dst.valid()) {
    return io("cannot create", e.path);
  }
  for (;;) {
    const ssize_t n = ::copy_file_range(src.get(), nullptr, dst.get(), nullptr, 1U << 30U, 0);
    if (n == 0) {
      return {};
    }
    if (n < 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
      return copy_by_reading(src.get(), dst.get(), e.path);
    }
    if (n < 0 && errno != EINTR) {
      return io("cannot write", e.path);
    }
  }
}

Status create(const store::ContentStore& objects, const Entry& e, int root) {
  ECLUSE_TRY(parent, open_parent(root, e.path));
  const auto name = last_component(e.path);
  switch (e.type) {
    case EntryType::dir: {
      struct stat st {};

      if (::mkdirat(parent.get(), name.c_str(), 0755) != 0
          && (errno != EEXIST
              || ::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0
              || !S_ISDIR(st.st_mode))) {
        return io("cannot create directory", e.path);
      }
      return {};
    }
    case EntryType::file:
      return copy_object(objects, e, parent.get());
    case EntryType::symlink:
      if (::symlinkat(e.target.c_str(), parent.get(), name.c_str()) != 0) {
        return io("cannot create symlink", e.path);
      }
      return {};
    case EntryType::hardlink: {
      ECLUSE_TRY(target_parent, open_parent(root, e.target));
      if (::linkat(
              target_parent.get(), last_component(e.target).c_str(), parent.get(), name.c_str(), 0)
          != 0) {
        return io("cannot create hardlink", e.path);
      }
      return {};
    }
  }
  return {};
}

// The same checks as while unpacking, on the whole tree, before anything is written.
Status check_tree(const std::vector<Entry>& entries, const NameLimits& limits) {
  TreeGuard guard(limits);
  for (const auto& e : entries) {
    ECLUSE_TRY(normal, check_entry_path(e.path, limits));
    if (normal != e.path) {
      const auto shown = printable(e.path);
      return fail(reason::k_unpack_bad_name, "entry '" + shown + "' is not in normal form", shown);
    }
    ECLUSE_CHECK(guard.admit(e.path, e.type, e.target));
  }
  return guard.finish();
}

// Parents before children (sorted by path); hardlinks last, as the file they name may sort
// after them.
Status write_tree(std::vector<Entry> sorted, const store::ContentStore& objects, int root) {
  std::sort(
      sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) { return a.path < b.path; });
  std::stable_partition(
      sorted.begin(), sorted.end(), [](const Entry& e) { return e.type != EntryType::hardlink; });
  for (const auto& e : sorted) {
    ECLUSE_CHECK(create(objects, e, root));
  }
  return {};
}

}  // namespace

Status materialise(const std::vector<Entry>& entries,
                   const store::ContentStore& objects,
                   const std::filesystem::path& dest,
                   const NameLimits& limits) {
  ECLUSE_CHECK(check_tree(entries, limits));
  const fs::UniqueFd root(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root.valid()) {
    return io("cannot open destination", dest.string());
  }
  return write_tree(entries, objects, root.get());
}

}  // namespace ecluse::unpack
