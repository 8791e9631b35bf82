// Reading a blob as a stream: a loose object file is inflated piece by piece (zlib, whose
// Adler-32 check catches a damaged file), its "blob SIZE\0" header checked against the bytes
// that follow; a packed object goes through libgit2, whole, under the repository's lock.
#include <ecluse/core/fs.hpp>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <charconv>
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

Status stream_loose(const stdfs::path& file,
                    const Oid& id,
                    const std::function<Status(std::string_view)>& sink) {
  const fs::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    return fail(reason::k_repo_io, fs::errno_message("cannot open", file, errno), id);
  }
  (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
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
