// Network endpoints named in a file's bytes: URLs, host names and IPv4/IPv6 literals, in text
// and in the printable strings of binaries. How the operator learns that a patch introduces a
// destination its code may talk to. Bounded: memory does not grow with the file.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/diff/classify.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::diff {

enum class EndpointKind { url, host, ipv4, ipv6 };

std::string_view to_string(EndpointKind k);

struct Endpoint {
  EndpointKind kind = EndpointKind::host;
  std::string value;  // normalised: url as found with scheme and host lowercased; host lowercased
                      // without trailing dot; ip as written
  std::string host;   // the host part (for a url: its host; for host/ip: value)
  std::uint64_t offset = 0;  // byte offset of its first occurrence in the file
};

// Endpoints in one buffer, each distinct value once (first offset), sorted by offset.
// base_offset is added to every offset (for chunked scans).
std::vector<Endpoint> extract_endpoints(std::string_view bytes, std::uint64_t base_offset = 0);

// Endpoints in a whole file, streamed in chunks with an overlap so none is split, reading at
// most max_bytes; each distinct value once. store.io_error when the source fails.
Result<std::vector<Endpoint>> scan_endpoints(const ByteSource& src, std::uint64_t max_bytes);

// Does the allow-list cover this host? An entry "example.com" allows example.com and every
// name below it (a.example.com), never "badexample.com"; an IP literal entry allows only that
// address; matching ignores case.
bool host_allowed(std::string_view host, const std::vector<std::string>& allow_list);

}  // namespace ecluse::diff
