// The content-addressed store. Invariant: a file at sha256/ab/cdef… holds exactly the bytes
// whose SHA-256 is abcdef…; it is created by link(2) from a fully written temporary file
// made durable (syncfs) before the link, so it is never seen half-written and never rewritten.
#include <ecluse/core/fault.hpp>
#include <ecluse/store/content_store.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <random>
#include <set>
#include <utility>
#include <vector>

namespace ecluse::store {

namespace {

constexpr std::size_t k_chunk = std::size_t{1} << 20U;

constexpr std::string_view k_temp_prefix = "obj-";

// obj-PID-RANDOM: the writer's pid lets a later run tell a dead writer's leftovers.
stdfs::path temp_name(const stdfs::path& dir) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return dir
         / (std::string(k_temp_prefix) + std::to_string(::getpid()) + "-" + std::to_string(rng()));
}

// The pid in a temporary's name, or 0 when the name is not one of ours.
pid_t temp_owner(const std::string& name) {
  if (name.rfind(k_temp_prefix, 0) != 0) {
    return 0;
  }
  const auto start = k_temp_prefix.size();
  const auto dash = name.find('-', start);
  if (dash == std::string::npos || dash == start || dash - start > 9) {
    return 0;
  }
  pid_t pid = 0;
  for (std::size_t i = start; i < dash; ++i) {
    if (name[i] < '0' || name[i] > '9') {
      return 0;
    }
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

tl::unexpected<Error> io_error(std::string_view what, const stdfs::path& p) {
  return fail(reason::k_store_io, fs::errno_message(what, p, errno), p.string());
}

// A new temporary object file, and a guard that removes it unless released.
Result<std::pair<fs::UniqueFd, StagedObject>> new_temp(const stdfs::path& dir) {
  const auto tmp = temp_name(dir);
  fs::UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444));
  if (!out.valid()) {
    return io_error("cannot create", tmp);
  }
  return std::pair<fs::UniqueFd, StagedObject>{std::move(out), StagedObject(tmp, {}, 0)};
}

// Reads up to size bytes, retrying EINTR; returns bytes read or -1.
ssize_t read_some(int fd, char* buf, std::size_t size) {
  for (;;) {
    const ssize_t n = ::read(fd, buf, size);
    if (n >= 0 || errno != EINTR) {
      return n;
    }
  }
}

}  // namespace

StagedObject::StagedObject(StagedObject&& other) noexcept
    : m_tmp(std::move(other.m_tmp)), m_digest(other.m_digest), m_size(other.m_size) {
  other.m_tmp.clear();
}

StagedObject& StagedObject::operator=(StagedObject&& other) noexcept {
  if (this != &other) {
    if (!m_tmp.empty()) {
      ::unlink(m_tmp.c_str());
    }
    m_tmp = std::move(other.m_tmp);
    other.m_tmp.clear();
    m_digest = other.m_digest;
    m_size = other.m_size;
  }
  return *this;
}

StagedObject::~StagedObject() {
  if (!m_tmp.empty()) {
    ::unlink(m_tmp.c_str());
  }
}

stdfs::path ContentStore::object_path(const crypto::Digest& d) const {
  const auto hex = d.hex();
  return m_root / "sha256" / hex.substr(0, 2) / hex.substr(2);
}

bool ContentStore::contains(const crypto::Digest& d) const {
  struct stat st {};

  return ::lstat(object_path(d).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<StagedObject> ContentStore::stage(int fd,
                                         std::uint64_t max_bytes,
                                         const Reason& on_too_large,
                                         const std::string& item,
                                         const ProgressFn& progress) const {
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  ECLUSE_TRY(temp, new_temp(m_tmp));
  auto& [out, staged] = temp;
  const auto tmp = staged.tmp_path();
  ECLUSE_TRY(hasher, crypto::Sha256::create());
  std::vector<char> buf(k_chunk);
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = read_some(fd, buf.data(), buf.size());
    if (n < 0) {
      return fail(reason::k_intake_io, fs::errno_message("cannot read", item, errno), item);
    }
    if (n == 0) {
      break;
    }
    total += static_cast<std::uint64_t>(n);
    if (total > max_bytes) {
      return fail(on_too_large,
                  "'" + item + "' is larger than " + std::to_string(max_bytes) + " bytes",
                  item);
    }
    const std::string_view chunk(buf.data(), static_cast<std::size_t>(n));
    ECLUSE_CHECK(hasher.update(chunk));
    ECLUSE_CHECK(fs::write_all(out.get(), chunk, tmp, reason::k_store_io));
    if (progress) {
      progress(total);
    }
  }
  ECLUSE_TRY(digest, hasher.finish());
  staged.release();
  return StagedObject(tmp, digest, total);
}

Result<StagedObject> ContentStore::stage_bytes(std::string_view bytes) const {
  ECLUSE_TRY(digest, crypto::sha256(bytes));
  return stage_hashed(bytes, digest);
}

Result<StagedObject> ContentStore::stage_hashed(std::string_view bytes,
                                                const crypto::Digest& digest) const {
  ECLUSE_TRY(temp, new_temp(m_tmp));
  auto& [out, guard] = temp;
  const auto tmp = guard.tmp_path();
  ECLUSE_CHECK(fs::write_all(out.get(), bytes, tmp, reason::k_store_io));
  guard.release();
  return StagedObject(tmp, digest, bytes.size());
}

Result<std::pair<fs::UniqueFd, StagedObject>> ContentStore::create_temp() const {
  return new_temp(m_tmp);
}

Status ContentStore::commit_all(std::vector<StagedObject>& staged) const {
  if (staged.empty()) {
    return {};
  }
  // One syncfs makes every temporary's data durable: far cheaper than an fsync per object
  // when a drop holds thousands of small files.
  const fs::UniqueFd tmp_dir(::open(m_tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!tmp_dir.valid() || ::syncfs(tmp_dir.get()) != 0) {
    return io_error("cannot sync", m_tmp);
  }
  fault_point("store.synced");
  std::set<stdfs::path> touched;
  for (auto& obj : staged) {
    const auto final_path = object_path(obj.digest());
    const auto dir = final_path.parent_path();
    if (!touched.contains(dir)) {
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return io_error("cannot create directory", dir);
      }
    }
    // EEXIST: an identical object is already there (dedup, or a concurrent writer won).
    if (::link(obj.tmp_path().c_str(), final_path.c_str()) != 0 && errno != EEXIST) {
      return io_error("cannot link object", final_path);
    }
    touched.insert(dir);
  }
  fault_point("store.linked");
  for (const auto& dir : touched) {
    ECLUSE_CHECK(fs::fsync_dir(dir, reason::k_store_io));
  }
  // Always: a fan-out directory another (perhaps crashed) writer created may not be durable.
  ECLUSE_CHECK(fs::fsync_dir(m_root / "sha256", reason::k_store_io));
  staged.clear();  // the temporaries go
  return {};
}

Result<crypto::Digest> ContentStore::commit(StagedObject&& staged) const {
  const auto digest = staged.digest();
  std::vector<StagedObject> one;
  one.push_back(std::move(staged));
  ECLUSE_CHECK(commit_all(one));
  return digest;
}

Result<crypto::Digest> ContentStore::put(std::string_view bytes) const {
  ECLUSE_TRY(staged, stage_bytes(bytes));
  return commit(std::move(staged));
}

Result<std::string> ContentStore::read(const crypto::Digest& d, Verify verify) const {
  const auto p = object_path(d);
  auto text =
      fs::read_file_bounded(p, UINT64_MAX, reason::k_store_object_missing, reason::k_store_io);
  if (!text) {
    return text;
  }
  if (verify == Verify::yes) {
    ECLUSE_TRY(actual, crypto::sha256(*text));
    if (!(actual == d)) {
      return fail(reason::k_store_object_corrupt,
                  "object " + d.hex() + " no longer matches its digest (now " + actual.hex() + ")",
                  d.hex());
    }
  }
  return text;
}

Status ContentStore::verify(const crypto::Digest& d) const {
  const auto p = object_path(d);
  ECLUSE_TRY(fd, fs::open_read_nofollow(p, reason::k_store_object_missing));
  ECLUSE_TRY(hasher, crypto::Sha256::create());
  std::vector<char> buf(k_chunk);
  for (;;) {
    const ssize_t n = read_some(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      return io_error("cannot read", p);
    }
    if (n == 0) {
      break;
    }
    ECLUSE_CHECK(hasher.update(std::string_view(buf.data(), static_cast<std::size_t>(n))));
  }
  ECLUSE_TRY(actual, hasher.finish());
  if (!(actual == d)) {
    return fail(reason::k_store_object_corrupt,
                "object " + d.hex() + " no longer matches its digest (now " + actual.hex() + ")",
                d.hex());
  }
  return {};
}

std::size_t ContentStore::sweep_stale_temporaries() const {
  std::size_t removed = 0;
  std::error_code ec;
  for (stdfs::directory_iterator it(m_tmp, ec), end; !ec && it != end; it.increment(ec)) {
    const pid_t owner = temp_owner(it->path().filename().string());
    if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH && ::unlink(it->path().c_str()) == 0) {
      ++removed;
    }
  }
  return removed;
}

}  // namespace ecluse::store
