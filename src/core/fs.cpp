// POSIX file helpers: owned descriptors, durable atomic writes, bounded reads.
#include <ecluse/core/fs.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <random>

namespace ecluse::fs {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

int UniqueFd::release() noexcept {
  const int fd = m_fd;
  m_fd = -1;
  return fd;
}

std::string errno_message(std::string_view what, const stdfs::path& path, int err) {
  std::string msg(what);
  msg += " '" + path.string() + "': ";
  msg += std::error_code(err, std::generic_category()).message();
  return msg;
}

namespace {

constexpr int k_open_file = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

// Checks an fd opened with k_open_file is a regular file, then makes reads blocking again.
Result<UniqueFd> regular_file(UniqueFd fd, const std::string& name, const Reason& on_error) {
  struct stat st {};

  if (::fstat(fd.get(), &st) != 0) {
    return fail(on_error, errno_message("cannot stat", name, errno), name);
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(reason::k_intake_not_regular, "'" + name + "' is not a regular file", name);
  }
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return fail(on_error, errno_message("cannot configure", name, errno), name);
  }
  return fd;
}

tl::unexpected<Error> open_failure(const std::string& name, int err, const Reason& on_error) {
  if (err == ELOOP || err == ENOTDIR || err == ENXIO) {  // a symlink, or a socket/fifo quirk
    return fail(reason::k_intake_not_regular, "'" + name + "' is not a regular file", name);
  }
  return fail(on_error, errno_message("cannot open", name, err), name);
}

}  // namespace

Result<UniqueFd> open_read_nofollow(const stdfs::path& path, const Reason& on_error) {
  UniqueFd fd(::open(path.c_str(), k_open_file));
  if (!fd.valid()) {
    return open_failure(path.string(), errno, on_error);
  }
  return regular_file(std::move(fd), path.string(), on_error);
}

Result<UniqueFd> open_beneath(const stdfs::path& root,
                              std::string_view rel,
                              const Reason& on_error) {
  const std::string name(rel);
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir.valid()) {
    return open_failure(root.string(), errno, on_error);
  }
  std::size_t start = 0;
  for (auto slash = rel.find('/'); slash != std::string_view::npos; slash = rel.find('/', start)) {
    const std::string part(rel.substr(start, slash - start));
    UniqueFd next(
        ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      return open_failure(name, errno, on_error);
    }
    dir = std::move(next);
    start = slash + 1;
  }
  const std::string leaf(rel.substr(start));
  UniqueFd fd(::openat(dir.get(), leaf.c_str(), k_open_file));
  if (!fd.valid()) {
    return open_failure(name, errno, on_error);
  }
  return regular_file(std::move(fd), name, on_error);
}

Status write_all(int fd, std::string_view data, const stdfs::path& path, const Reason& on_error) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(on_error, errno_message("cannot write", path, errno), path.string());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Status fsync_dir(const stdfs::path& dir, const Reason& on_error) {
  const UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return fail(on_error, errno_message("cannot sync directory", dir, errno), dir.string());
  }
  return {};
}

namespace {

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<char, 17> buf{};
  constexpr std::string_view k_hex = "0123456789abcdef";
  auto v = rng();
  for (std::size_t i = 0; i < 16; ++i) {
    buf.at(i) = k_hex[v & 0xfU];
    v >>= 4U;
  }
  return buf.data();
}

}  // namespace

Status write_file_atomic(const stdfs::path& path,
                         std::string_view data,
                         const Reason& on_error,
                         unsigned mode) {
  const stdfs::path tmp =
      path.parent_path() / ("." + path.filename().string() + ".tmp-" + random_suffix());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) {
    return fail(on_error, errno_message("cannot create", tmp, errno), tmp.string());
  }
  auto written = write_all(fd.get(), data, tmp, on_error);
  if (written && ::fsync(fd.get()) != 0) {
    written = fail(on_error, errno_message("cannot sync", tmp, errno), tmp.string());
  }
  if (written && ::rename(tmp.c_str(), path.c_str()) != 0) {
    written = fail(on_error, errno_message("cannot rename onto", path, errno), path.string());
  }
  if (!written) {
    ::unlink(tmp.c_str());
    return written;
  }
  return fsync_dir(path.parent_path().empty() ? stdfs::path(".") : path.parent_path(), on_error);
}

Result<std::string> read_file_bounded(const stdfs::path& path,
                                      std::uint64_t max_bytes,
                                      const Reason& on_error,
                                      const Reason& on_too_large) {
  ECLUSE_TRY(fd, open_read_nofollow(path, on_error));
  std::string out;

  struct stat st {};

  if (::fstat(fd.get(), &st) == 0 && st.st_size > 0
      && static_cast<std::uint64_t>(st.st_size) <= max_bytes) {
    out.reserve(static_cast<std::size_t>(st.st_size) + 1);  // one allocation for the whole file
  }
  std::array<char, 65536> buf{};
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(on_error, errno_message("cannot read", path, errno), path.string());
    }
    if (n == 0) {
      return out;
    }
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      return fail(on_too_large,
                  "'" + path.filename().string() + "' is larger than " + std::to_string(max_bytes)
                      + " bytes",
                  path.filename().string());
    }
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
}

namespace {

Result<UniqueFd> lock_file(const stdfs::path& path, int how, const Reason& on_error) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) {
    return fail(on_error, errno_message("cannot open lock", path, errno), path.string());
  }
  while (::flock(fd.get(), how) != 0) {
    if (errno != EINTR) {
      return fail(on_error, errno_message("cannot lock", path, errno), path.string());
    }
  }
  return fd;
}

}  // namespace

Result<UniqueFd> lock_exclusive(const stdfs::path& path, const Reason& on_error) {
  return lock_file(path, LOCK_EX, on_error);
}

Result<UniqueFd> lock_shared(const stdfs::path& path, const Reason& on_error) {
  return lock_file(path, LOCK_SH, on_error);
}

Status make_dirs(const stdfs::path& dir, const Reason& on_error) {
  std::error_code ec;
  stdfs::create_directories(dir, ec);
  if (ec) {
    return fail(
        on_error, "cannot create directory '" + dir.string() + "': " + ec.message(), dir.string());
  }
  return {};
}

}  // namespace ecluse::fs
