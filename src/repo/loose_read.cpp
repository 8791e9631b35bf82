// Reading a blob as a stream: a loose object file is inflated piece by piece (zlib, whose
// Adler-32 check catches a damaged file), its "blob SIZE\0" header checked against the bytes
// that follow; a packed object goes through libgit2, whole, under the repository's lock.
#include <ecluse/core/fs.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "internal.hpp"

namespace ecluse::repo {

namespace {

constexpr std::size_t k_chunk = 1U << 20U;

tl::unexpected<Error> damaged(const Oid& id, const std::string& why) {
  return fail(reason::k_repo_io, "object " + id + " is damaged: " + why, id);
}

// Splits "blob SIZE\0" off the first inflated bytes; the rest is content.
struct Header {
  std::string pending;  // bytes before the NUL
  bool done = false;
  std::uint64_t size = 0;
};

Result<std::string_view> take_header(Header& h, std::string_view data, const Oid& id) {
  if (h.done) {
    return data;
  }
  const auto nul = data.find('\0');
  h.pending.append(data.substr(0, nul));
  if (h.pending.size() > 32) {
    return damaged(id, "no object header");
  }
  if (nul == std::string_view::npos) {
    return std::string_view{};
  }
  if (!h.pending.starts_with("blob ")) {
    return damaged(id, "not a blob");
  }
  const auto digits = std::string_view(h.pending).substr(5);
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), h.size);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) {
    return damaged(id, "malformed object header");
  }
  h.done = true;
  return data.substr(nul + 1);
}

struct Inflater {
  z_stream z{};
  bool ok = false;

  Inflater() { ok = inflateInit(&z) == Z_OK; }

  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  Inflater(Inflater&&) = delete;
  Inflater& operator=(Inflater&&) = delete;

  ~Inflater() {
    if (ok) {
      inflateEnd(&z);
    }
  }
};

// Inflates one input buffer into sink; returns whether the stream ended.
Result<bool> inflate_chunk(Inflater& inf,
                           std::string_view in,
                           std::vector<unsigned char>& out,
                           Header& h,
                           std::uint64_t& content,
                           const Oid& id,
                           const std::function<Status(std::string_view)>& sink) {
  // zlib's API takes a non-const pointer but does not write through next_in.
  inf.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));  // NOLINT
  inf.z.avail_in = static_cast<uInt>(in.size());
  do {
    inf.z.next_out = out.data();
    inf.z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&inf.z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      return damaged(id, inf.z.msg != nullptr ? inf.z.msg : "inflate failed");
    }
    const std::string_view produced(reinterpret_cast<const char*>(out.data()),  // NOLINT
                                    out.size() - inf.z.avail_out);
    ECLUSE_TRY(body, take_header(h, produced, id));
    content += body.size();
    if (h.done && content > h.size) {
      return damaged(id, "more content than its header says");
    }
    if (!body.empty()) {
      ECLUSE_CHECK(sink(body));
    }
    if (rc == Z_STREAM_END) {
      return true;
    }
  } while (inf.z.avail_in > 0 || inf.z.avail_out == 0);
  return false;
}

// --- stored streams (promotion.compression 0): no zlib, no copy --------------------------
// A zlib stream made only of stored deflate blocks (what ecluse writes at level 0, and zlib at
// level 0) holds the object's bytes verbatim: each block is one header byte (BFINAL, BTYPE 00,
// zero padding), LEN and its complement, then LEN bytes; the Adler-32 follows the last. Such an
// object is streamed straight from the read buffer. Its Adler-32 is not recomputed: the
// callers compare the content's SHA-256 with signed metadata, which a damaged object fails;
// a broken block structure or a length that disagrees with the header is still refused here.

constexpr std::size_t k_block_header = 5;
constexpr std::size_t k_adler = 4;

std::uint16_t le16(const unsigned char* p) {
  return static_cast<std::uint16_t>(p[0] | (p[1] << 8U));  // NOLINT(*-pointer-arithmetic)
}

// Does the file hold exactly a zlib header, stored blocks up to a final one, and the Adler-32?
// Walks the block headers with pread (one per 64 KiB block), never the content.
bool only_stored_blocks(int fd, std::uint64_t file_size) {
  std::array<unsigned char, k_block_header> h{};
  if (file_size < 2 + k_block_header + k_adler || ::pread(fd, h.data(), 2, 0) != 2) {
    return false;
  }
  if ((h[0] & 0x0fU) != 8 || ((h[0] << 8U) | h[1]) % 31 != 0 || (h[1] & 0x20U) != 0) {
    return false;
  }
  std::uint64_t off = 2;
  for (;;) {
    if (off + k_block_header > file_size
        || ::pread(fd, h.data(), h.size(), static_cast<off_t>(off))
               != static_cast<ssize_t>(h.size())) {
      return false;
    }
    const auto len = le16(&h[1]);
    if ((h[0] & 0xfeU) != 0 || static_cast<std::uint16_t>(~len) != le16(&h[3])) {
      return false;
    }
    off += k_block_header + len;
    if ((h[0] & 1U) != 0) {
      return off + k_adler == file_size;
    }
  }
}

// A read-only mapping of a whole file, unmapped on destruction.
struct Mapping {
  void* addr = MAP_FAILED;
  std::size_t size = 0;

  Mapping(int fd, std::size_t n) : size(n) {
    addr = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE, fd, 0);
    if (addr != MAP_FAILED) {
      (void)::madvise(addr, n, MADV_SEQUENTIAL | MADV_WILLNEED);
    }
  }

  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping(Mapping&&) = delete;
  Mapping& operator=(Mapping&&) = delete;

  ~Mapping() {
    if (addr != MAP_FAILED) {
      ::munmap(addr, size);
    }
  }
};

// Streams the content of an object file only_stored_blocks() accepted, from a mapping of it:
// the blocks go to the sink where they lie, never copied.
Status stream_stored(int fd,
                     std::uint64_t file_size,
                     const Oid& id,
                     const std::function<Status(std::string_view)>& sink) {
  const Mapping map(fd, static_cast<std::size_t>(file_size));
  if (map.addr == MAP_FAILED) {
    return fail(reason::k_repo_io, "object " + id + ": cannot map it: " + std::strerror(errno), id);
  }
  const std::string_view file(static_cast<const char*>(map.addr), map.size);
  Header h;
  std::uint64_t content = 0;
  std::size_t off = 2;
  for (;;) {  // only_stored_blocks() checked every header and that they fit in the file
    const auto* hdr = reinterpret_cast<const unsigned char*>(file.data() + off);  // NOLINT
    const std::size_t len = le16(hdr + 1);  // NOLINT(*-pointer-arithmetic)
    ECLUSE_TRY(body, take_header(h, file.substr(off + k_block_header, len), id));
    content += body.size();
    if (h.done && content > h.size) {
      return damaged(id, "more content than its header says");
    }
    if (!body.empty()) {
      ECLUSE_CHECK(sink(body));
    }
    off += k_block_header + len;
    if ((hdr[0] & 1U) != 0) {
      break;
    }
  }
  if (!h.done || content != h.size) {
    return damaged(id, "its content is shorter than its header says");
  }
  return {};
}

Status stream_loose(const stdfs::path& file,
                    const Oid& id,
                    const std::function<Status(std::string_view)>& sink) {
  const fs::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    return fail(reason::k_repo_io, fs::errno_message("cannot open", file, errno), id);
  }
  (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  struct stat st {};

  if (::fstat(fd.get(), &st) == 0
      && only_stored_blocks(fd.get(), static_cast<std::uint64_t>(st.st_size))) {
    return stream_stored(fd.get(), static_cast<std::uint64_t>(st.st_size), id, sink);
  }
  Inflater inf;
  if (!inf.ok) {
    return fail(reason::k_internal, "zlib inflateInit failed", id);
  }
  std::vector<char> in(k_chunk);
  std::vector<unsigned char> out(k_chunk);
  Header h;
  std::uint64_t content = 0;
  bool ended = false;
  while (!ended) {
    const auto n = ::read(fd.get(), in.data(), in.size());
    if (n < 0) {
      return fail(reason::k_repo_io, fs::errno_message("cannot read", file, errno), id);
    }
    if (n == 0) {
      return damaged(id, "truncated");
    }
    ECLUSE_TRY(
        end,
        inflate_chunk(inf, {in.data(), static_cast<std::size_t>(n)}, out, h, content, id, sink));
    ended = end;
  }
  if (!h.done || content != h.size) {
    return damaged(id, "its content is shorter than its header says");
  }
  return {};
}

}  // namespace

Status Repository::read_blob_stream(const Oid& id,
                                    const std::function<Status(std::string_view)>& sink) const {
  ECLUSE_TRY(oid, parse_oid(id));
  (void)oid;
  const auto file = loose_path(m_impl->s.git_dir / "objects", id);
  if (::access(file.c_str(), F_OK) == 0) {
    return stream_loose(file, id, sink);
  }
  std::string whole;
  {
    const std::scoped_lock lock(m_impl->libgit2);
    ECLUSE_TRY(bytes, read_blob(id));
    whole = std::move(bytes);
  }
  for (std::size_t off = 0; off < whole.size(); off += k_chunk) {
    ECLUSE_CHECK(sink(std::string_view(whole).substr(off, k_chunk)));
  }
  return {};
}

Result<bool> Repository::descends_from(const Oid& descendant, const Oid& ancestor) const {
  if (descendant == ancestor) {
    return true;
  }
  ECLUSE_TRY(d, parse_oid(descendant));
  ECLUSE_TRY(a, parse_oid(ancestor));
  const int rc = git_graph_descendant_of(m_impl->s.repo.get(), &d, &a);
  if (rc < 0) {
    return lookup_fail(rc, "walking from " + descendant + " to " + ancestor);
  }
  return rc == 1;
}

}  // namespace ecluse::repo
