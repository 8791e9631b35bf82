// Small POSIX file helpers: owned descriptors, durable writes, bounded reads. Never throw.
#pragma once

#include <ecluse/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ecluse::fs {

namespace stdfs = std::filesystem;

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;

  explicit UniqueFd(int fd) : m_fd(fd) {}

  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}

  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd();

  [[nodiscard]] int get() const { return m_fd; }

  [[nodiscard]] bool valid() const { return m_fd >= 0; }

  int release() noexcept;

 private:
  int m_fd = -1;
};

// "what 'path': strerror(errno)" for messages.
std::string errno_message(std::string_view what, const stdfs::path& path, int err);

// Opens a regular file for reading without following a final symlink and without blocking on
// a fifo (O_NOFOLLOW | O_NONBLOCK, then fstat). A symlink, fifo, device or socket gives
// intake.not_regular_file; a missing file on_error; any other failure to open is
// on_io_error (the caller's own I/O trouble, not the file's fault).
Result<UniqueFd> open_read_nofollow(const stdfs::path& path, const Reason& on_error);

// Opens root/rel for reading, resolving rel one component at a time with openat(O_NOFOLLOW),
// so neither a symlinked directory nor a final symlink can lead outside root, even when the
// tree changes while it is read. Same checks and reasons as open_read_nofollow.
Result<UniqueFd> open_beneath(const stdfs::path& root,
                              std::string_view rel,
                              const Reason& on_error);

// Writes all of data to fd, retrying short writes and EINTR.
Status write_all(int fd, std::string_view data, const stdfs::path& path, const Reason& on_error);

// fsyncs a directory so a rename or link in it is durable.
Status fsync_dir(const stdfs::path& dir, const Reason& on_error);

// Writes bytes to path durably: temporary file in the same directory, fsync, rename, fsync dir.
Status write_file_atomic(const stdfs::path& path,
                         std::string_view data,
                         const Reason& on_error,
                         unsigned mode = 0644);

// Reads a whole regular file of at most max_bytes (a larger file gives on_too_large).
Result<std::string> read_file_bounded(const stdfs::path& path,
                                      std::uint64_t max_bytes,
                                      const Reason& on_error,
                                      const Reason& on_too_large);

// Creates (if needed) and locks path exclusively with flock(2), waiting for other holders;
// the lock lasts as long as the returned descriptor.
Result<UniqueFd> lock_exclusive(const stdfs::path& path, const Reason& on_error);

// The same with a shared lock (many holders at once, none while an exclusive one is held).
Result<UniqueFd> lock_shared(const stdfs::path& path, const Reason& on_error);

// Creates a directory and its parents (mode 0755 unless given).
Status make_dirs(const stdfs::path& dir, const Reason& on_error);

}  // namespace ecluse::fs
