// Loose object files we write ourselves: the compression-level-0 writer (zlib "stored" blocks,
// RFC 1950/1951 §3.2.4, which git inflates like any other object) and verbatim copies of
// another repository's loose files. Both write a temporary file, fsync it and rename it into
// objects/xx/, so an object file is never seen half-written.
#include <ecluse/core/fs.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "internal.hpp"

namespace ecluse::repo {

namespace {

constexpr std::size_t k_block = 65535;  // the largest stored deflate block
constexpr std::uint32_t k_adler_mod = 65521;

// A temporary file under objects/ that becomes objects/xx/yyyy… by install().
class TempObject {
 public:
  static Result<TempObject> create(const stdfs::path& objects_dir) {
    std::string tmpl = (objects_dir / "tmp_obj_XXXXXX").string();
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0) {
      return fail(reason::k_repo_io, fs::errno_message("creating", tmpl, errno));
    }
    return TempObject(objects_dir, tmpl, fs::UniqueFd(fd));
  }

  TempObject(TempObject&&) noexcept = default;
  TempObject& operator=(TempObject&&) = delete;
  TempObject(const TempObject&) = delete;
  TempObject& operator=(const TempObject&) = delete;

  ~TempObject() {
    if (!m_installed && !m_path.empty()) {
      ::unlink(m_path.c_str());
    }
  }

  [[nodiscard]] int fd() const { return m_fd.get(); }

  [[nodiscard]] const stdfs::path& path() const { return m_path; }

  // fsync, read-only, rename to its place, fsync the directories it changed.
  Status install(const Oid& id) {
    if (::fsync(m_fd.get()) != 0 || ::fchmod(m_fd.get(), 0444) != 0) {
      return fail(reason::k_repo_io, fs::errno_message("syncing", m_path, errno));
    }
    const auto target = loose_path(m_objects, id);
    const auto dir = target.parent_path();
    if (::mkdir(dir.c_str(), 0755) == 0) {
      ECLUSE_CHECK(fs::fsync_dir(m_objects, reason::k_repo_io));
    } else if (errno != EEXIST) {
      return fail(reason::k_repo_io, fs::errno_message("creating", dir, errno));
    }
    if (::rename(m_path.c_str(), target.c_str()) != 0) {
      return fail(reason::k_repo_io, fs::errno_message("renaming", m_path, errno));
    }
    m_installed = true;
    return fs::fsync_dir(dir, reason::k_repo_io);
  }

 private:
  TempObject(stdfs::path objects, stdfs::path path, fs::UniqueFd fd)
      : m_objects(std::move(objects)), m_path(std::move(path)), m_fd(std::move(fd)) {}

  stdfs::path m_objects;
  stdfs::path m_path;
  fs::UniqueFd m_fd;
  bool m_installed = false;
};

// A zlib stream of stored blocks written to a temporary object file.
class StoredWriter {
 public:
  explicit StoredWriter(TempObject file) : m_file(std::move(file)) {
    m_out.assign({'\x78', '\x01'});  // deflate, 32 KiB window, no dictionary, level "fastest"
  }

  Status write(std::string_view data) {
    for (const char c : data) {
      const auto u = static_cast<unsigned char>(c);
      m_a = (m_a + u) % k_adler_mod;
      m_b = (m_b + m_a) % k_adler_mod;
    }
    while (!data.empty()) {
      const auto n = std::min(k_block - m_pending.size(), data.size());
      m_pending.append(data.substr(0, n));
      data.remove_prefix(n);
      auto emitted = m_pending.size() == k_block ? emit_block(false) : Status();
      if (!emitted) {
        return emitted;
      }
    }
    return {};
  }

  Status finish(const Oid& id) {
    ECLUSE_CHECK(emit_block(true));
    const std::uint32_t adler = (m_b << 16U) | m_a;
    for (const unsigned shift : {24U, 16U, 8U, 0U}) {
      m_out.push_back(static_cast<char>((adler >> shift) & 0xffU));
    }
    ECLUSE_CHECK(flush());
    return m_file.install(id);
  }

 private:
  Status emit_block(bool final_block) {
    const auto len = static_cast<std::uint16_t>(m_pending.size());
    const auto nlen = static_cast<std::uint16_t>(~len);
    m_out.push_back(final_block ? '\x01' : '\x00');
    for (const std::uint16_t v : {len, nlen}) {
      m_out.push_back(static_cast<char>(v & 0xffU));
      m_out.push_back(static_cast<char>((v >> 8U) & 0xffU));
    }
    m_out.append(m_pending);
    m_pending.clear();
    return flush();
  }

  Status flush() {
    ECLUSE_CHECK(fs::write_all(m_file.fd(), m_out, m_file.path(), reason::k_repo_io));
    m_out.clear();
    return {};
  }

  TempObject m_file;
  std::string m_out;
  std::string m_pending;
  std::uint32_t m_a = 1;
  std::uint32_t m_b = 0;
};

std::string object_header(git_object_t type, git_object_size_t size) {
  return std::string(git_object_type2string(type)) + " " + std::to_string(size) + '\0';
}

// The git_odb_backend of the level-0 writer (libgit2 casts it from its first member).
struct StoredBackend {
  git_odb_backend parent;
  stdfs::path* objects;
};

static_assert(std::is_standard_layout_v<StoredBackend>);

struct StoredStream {
  git_odb_stream parent;
  StoredWriter* writer;
};

static_assert(std::is_standard_layout_v<StoredStream>);

int report(const Error& e) {
  git_error_set_str(GIT_ERROR_ODB, e.message.c_str());
  return -1;
}

StoredBackend* backend_of(git_odb_backend* b) {
  return reinterpret_cast<StoredBackend*>(
      b);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

StoredStream* stream_of(git_odb_stream* s) {
  return reinterpret_cast<StoredStream*>(s);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

Result<StoredWriter> start_writer(git_odb_backend* b, git_object_t type, git_object_size_t size) {
  ECLUSE_TRY(file, TempObject::create(*backend_of(b)->objects));
  StoredWriter w(std::move(file));
  ECLUSE_CHECK(w.write(object_header(type, size)));
  return w;
}

int stored_write(
    git_odb_backend* b, const git_oid* id, const void* data, std::size_t len, git_object_t type) {
  auto w = start_writer(b, type, len);
  if (!w) {
    return report(w.error());
  }
  auto st = w->write({static_cast<const char*>(data), len});
  if (st) {
    st = w->finish(to_hex(*id));
  }
  return st ? 0 : report(st.error());
}

int stream_write(git_odb_stream* s, const char* data, std::size_t len) {
  const auto st = stream_of(s)->writer->write({data, len});
  return st ? 0 : report(st.error());
}

int stream_finalize(git_odb_stream* s, const git_oid* id) {
  const auto st = stream_of(s)->writer->finish(to_hex(*id));
  return st ? 0 : report(st.error());
}

void stream_free(git_odb_stream* s) {
  auto* stream = stream_of(s);
  delete stream->writer;  // NOLINT(cppcoreguidelines-owning-memory)
  delete stream;          // NOLINT(cppcoreguidelines-owning-memory)
}

int stored_writestream(git_odb_stream** out,
                       git_odb_backend* b,
                       git_object_size_t size,
                       git_object_t type) {
  auto w = start_writer(b, type, size);
  if (!w) {
    return report(w.error());
  }
  auto* writer = new (std::nothrow) StoredWriter(std::move(*w));  // NOLINT
  auto* s = new (std::nothrow) StoredStream{};  // NOLINT(cppcoreguidelines-owning-memory)
  if (writer == nullptr || s == nullptr) {
    delete writer;  // NOLINT(cppcoreguidelines-owning-memory)
    delete s;       // NOLINT(cppcoreguidelines-owning-memory)
    return report(Error::from(reason::k_repo_io, "out of memory for an object stream"));
  }
  s->writer = writer;
  s->parent.backend = b;
  s->parent.mode = GIT_STREAM_WRONLY;
  s->parent.write = stream_write;
  s->parent.finalize_write = stream_finalize;
  s->parent.free = stream_free;
  *out = &s->parent;
  return 0;
}

void stored_free(git_odb_backend* b) {
  auto* backend = backend_of(b);
  delete backend->objects;  // NOLINT(cppcoreguidelines-owning-memory)
  delete backend;           // NOLINT(cppcoreguidelines-owning-memory)
}

}  // namespace

stdfs::path loose_path(const stdfs::path& objects_dir, const Oid& id) {
  return objects_dir / id.substr(0, 2) / id.substr(2);
}

Result<git_odb_backend*> stored_loose_backend(const stdfs::path& objects_dir) {
  auto* b = new StoredBackend{};              // NOLINT(cppcoreguidelines-owning-memory)
  b->objects = new stdfs::path(objects_dir);  // NOLINT(cppcoreguidelines-owning-memory)
  if (git_odb_init_backend(&b->parent, GIT_ODB_BACKEND_VERSION) != 0) {
    stored_free(&b->parent);
    return git_fail(reason::k_internal, "initialising the stored-object writer");
  }
  b->parent.write = stored_write;
  b->parent.writestream = stored_writestream;
  b->parent.free = stored_free;
  return &b->parent;
}

Status copy_loose_file(const stdfs::path& from, const stdfs::path& objects_dir, const Oid& id) {
  const fs::UniqueFd in(::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in.valid()) {
    const auto& r = errno == ENOENT ? reason::k_repo_not_found : reason::k_repo_io;
    return fail(r, fs::errno_message("opening", from, errno));
  }
  ECLUSE_TRY(out, TempObject::create(objects_dir));
  std::vector<char> buf(std::size_t{1} << 20U);
  for (;;) {
    const auto n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail(reason::k_repo_io, fs::errno_message("reading", from, errno));
    }
    if (n == 0) {
      return out.install(id);
    }
    ECLUSE_CHECK(fs::write_all(
        out.fd(), {buf.data(), static_cast<std::size_t>(n)}, out.path(), reason::k_repo_io));
  }
}

}  // namespace ecluse::repo
