// Endpoint extraction: one linear pass over a file's printable ASCII and UTF-16LE runs that
// reports URLs, host names and IP literals, with heuristics against file names and code.
//
// Heuristics (each one trades a false positive against a false negative; keep docs in sync):
// - Runs: bytes 0x20-0x7e and tab, at least 4 long (strings(1)); UTF-16LE runs are pairs of
//   such a byte and 0x00, at least 4 characters. Newlines and NULs end a run.
// - URLs: a listed scheme (case-insensitive) and "://", an authority ([userinfo@]host[:port],
//   host a name of [A-Za-z0-9._~-] or a bracketed IPv6 address), then a path up to whitespace,
//   a quote, '<', '>', a backslash or a control byte. Trailing ".,;:!?" (and ')' when the URL
//   holds no '(') are sentence punctuation, not part of it. Templates ("https://%s/") have no
//   host and are not reported. A scheme glued to preceding letters counts only when it has at
//   least 4 letters ("Xhttps://" after a length byte, but not "news://" as "ws://"). The
//   value is capped at 2048 characters; URLs inside a URL's query are not reported apart.
// - Host names are maximal tokens of [A-Za-z0-9._-]: a token that holds '_' or a bad label is
//   no host (so nothing is found in the middle of an identifier). One trailing dot is
//   dropped; a token with a leading dot is no host (".rela.data.rel.ro" ELF sections, also
//   ".example.com" cookie domains) unless after '*' ("*.example.com" wildcards).
//   The char before may be '@': "user@mail.example.com" reports mail.example.com. At least 2
//   labels, the last in k_tlds, at least 5 characters ("t.co" is lost: random bytes make
//   many "x.yy"). Each label lowercase, UPPERCASE or Capitalised, the TLD not Capitalised:
//   mixed case is noise or an identifier ("Microsoft.NETCore.App", "gQ.Kr"). Not hosts
//   either: a first label that roots a code namespace ("java.net", "System.IO",
//   "com.example.app").
// - IPv4: a whole token of four decimal octets 0-255 without leading zeros ("v1.2.3.4" and
//   "1.2.3.4.5" are not addresses); "a-b" ranges report both ends. 0.0.0.0 and private or
//   loopback addresses are kept. Not reported after a word ending in "version" (.NET
//   "Version=1.0.0.0", PE "FileVersion" resources whose value is the next string) or in
//   k_number_words ("section 8.1.5.1"), in "[5.2.1.9]" brackets, or when it starts like an
//   OID: 1.2, 1.3 or 2.5 ("2.5.29.17"). Clause numbers after "// " are still reported.
// - IPv6: a maximal run of [0-9A-Fa-f:.] not glued to a word character, holding "::" or
//   exactly 7 colons, accepted by inet_pton, with at least 2 groups and a decimal digit: so
//   "::", "::1" and C++ scopes made of hex letters ("::dead", "be::ef") are not reported;
//   "std::vector" never starts a run (a word character is glued to it).
//   IPv6 values are kept as written.
#include <ecluse/diff/endpoints.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "endpoint_match.hpp"

namespace ecluse::diff {
namespace {

using detail::after_number_word;
using detail::has;
using detail::ip_bytes;
using detail::is_host_name;
using detail::is_ipv4;
using detail::is_ipv6;
using detail::k_alpha;
using detail::k_digit;
using detail::k_hex;
using detail::k_max_host;
using detail::k_printable;
using detail::k_token;
using detail::k_word;
using detail::lower;
using detail::lower_copy;
using detail::normalise_host;
using detail::numeric_tld;
using detail::other_number;
using detail::parse_url;
using detail::Run;

constexpr std::size_t k_min_run = 4;
constexpr std::size_t k_max_endpoints = 65536;  // distinct values kept per scan
constexpr std::uint64_t k_context_gap = 8;      // bytes between a "Version" key and its value
constexpr std::uint64_t k_chunk = std::uint64_t{1} << 20U;
constexpr std::uint64_t k_overlap = 4096;

// Neither ASCII nor UTF-16LE text can hold byte b (b's predecessor a): a fast skip of binary.
bool skippable(char a, char b) {
  return !has(b, k_printable) && (b != '\0' || !has(a, k_printable));
}

// ---- the scanner ---------------------------------------------------------------------

// Lets m_seen be searched with a string_view.
struct StringHash {
  using is_transparent = void;  // NOLINT(readability-identifier-naming): the standard's name

  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Finds endpoints in windows of a file and keeps each distinct value once, at its first offset.
class Scanner {
 public:
  // Scans window (its first byte at file offset base); keeps endpoints starting in [from, to).
  void scan(std::string_view window, std::uint64_t base, std::uint64_t from, std::uint64_t to);

  std::vector<Endpoint> take();

 private:
  std::size_t scan_utf16(std::string_view w, std::size_t first, std::uint64_t base);
  void scan_run(std::string_view text, std::uint64_t base, std::uint64_t stride);
  void scan_plain(const Run& run, std::size_t from, std::size_t to);
  std::size_t scan_ipv6(const Run& run, std::size_t k, std::size_t to);
  void scan_token(const Run& run, std::size_t from, std::size_t to);
  void scan_ipv4(const Run& run, std::size_t from, std::string_view token);
  void remember_tail(const Run& run);
  void add(EndpointKind kind, std::string_view value, std::string_view host, std::uint64_t offset);

  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>>
      m_seen;  // value -> index in m_found
  std::vector<Endpoint> m_found;
  std::string m_wide;       // the current UTF-16LE run, narrowed
  std::string m_scratch;    // a lowercased host name
  std::string m_tail_word;  // last word of the previous run, lowercased
  std::uint64_t m_tail_end = 0;
  std::uint64_t m_accept_from = 0;
  std::uint64_t m_accept_to = 0;
};

void Scanner::scan(std::string_view window,
                   std::uint64_t base,
                   std::uint64_t from,
                   std::uint64_t to) {
  m_accept_from = from;
  m_accept_to = to;
  m_tail_word.clear();
  m_tail_end = 0;
  std::size_t i = 0;
  while (i < window.size()) {
    if (i + 3 < window.size() && skippable(window[i + 2], window[i + 3])) {
      i += 4;  // no ASCII or UTF-16LE run of k_min_run characters starts in [i, i + 4)
      continue;
    }
    if (!has(window[i], k_printable)) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < window.size() && has(window[i], k_printable)) {
      ++i;
    }
    if (i - start >= k_min_run) {
      scan_run(window.substr(start, i - start), base + start, 1);
    }
    if (i < window.size() && window[i] == '\0') {
      i = scan_utf16(window, i - 1, base);
    }
  }
}

// A UTF-16LE run starting at first (a printable byte followed by 0): scanned when at least
// k_min_run characters long. Returns where the byte scan continues.
std::size_t Scanner::scan_utf16(std::string_view w, std::size_t first, std::uint64_t base) {
  std::size_t p = first;
  while (p + 1 < w.size() && has(w[p], k_printable) && w[p + 1] == '\0') {
    p += 2;
  }
  if ((p - first) / 2 < k_min_run) {
    return first + 1;
  }
  m_wide.clear();
  for (std::size_t q = first; q < p; q += 2) {
    m_wide.push_back(w[q]);
  }
  scan_run(m_wide, base + first, 2);
  return p;
}

void Scanner::scan_run(std::string_view text, std::uint64_t base, std::uint64_t stride) {
  const bool near = base >= m_tail_end && base - m_tail_end <= k_context_gap;
  const Run run{text, base, stride, near ? std::string_view(m_tail_word) : std::string_view()};
  std::size_t seg = 0;  // text before seg is inside a URL already reported
  std::size_t pos = 0;
  while ((pos = text.find("://", pos)) != std::string_view::npos) {
    auto url = parse_url(text, pos, seg);
    if (!url) {
      ++pos;
      continue;
    }
    scan_plain(run, seg, url->begin);
    add(EndpointKind::url, url->value, url->host, run.offset(url->begin));
    seg = pos = url->end;
  }
  scan_plain(run, seg, text.size());
  remember_tail(run);
}

void Scanner::remember_tail(const Run& run) {
  const std::string_view s = run.text;
  std::size_t w = s.size();
  while (w > 0 && s.size() - w < 16 && has(s[w - 1], k_alpha)) {
    --w;
  }
  m_tail_word = lower_copy(s.substr(w));
  m_tail_end = run.offset(s.size());
}

// Host names and IP literals in text[from, to), outside any URL.
void Scanner::scan_plain(const Run& run, std::size_t from, std::size_t to) {
  const std::string_view s = run.text;
  // An IPv6 literal starts with ':' or with a token of hex digits followed by ':'.
  const auto ipv6_at = [&](std::size_t k) {
    const bool bounded =
        k == from || (!has(s[k - 1], k_word) && s[k - 1] != ':' && s[k - 1] != '.');
    return bounded ? scan_ipv6(run, k, to) : std::size_t{0};
  };
  std::size_t k = from;
  while (k < to) {
    if (!has(s[k], k_token)) {
      const std::size_t end = s[k] == ':' ? ipv6_at(k) : 0;
      k = end != 0 ? end : k + 1;
      continue;
    }
    std::size_t t = k;
    bool dot = false;
    for (; t < to && has(s[t], k_token); ++t) {
      dot = dot || s[t] == '.';
    }
    const std::size_t end = (t < to && s[t] == ':' && has(s[k], k_hex)) ? ipv6_at(k) : 0;
    if (end == 0 && dot) {
      scan_token(run, k, t);  // hosts and IPv4 literals hold a dot
    }
    k = end != 0 ? end : t;
  }
}

// Reports the IPv6 literal starting at k; returns the end of its run, or 0 when none.
std::size_t Scanner::scan_ipv6(const Run& run, std::size_t k, std::size_t to) {
  const std::string_view s = run.text;
  std::size_t r = k;
  while (r < to && (has(s[r], k_hex) || s[r] == ':' || s[r] == '.')) {
    ++r;
  }
  if (r < to && has(s[r], k_word)) {
    return 0;
  }
  std::size_t e = r;
  while (e > k && s[e - 1] == '.') {
    --e;
  }
  const std::string_view v = s.substr(k, e - k);
  if (v.find(':') == std::string_view::npos || !is_ipv6(v)) {
    return 0;
  }
  add(EndpointKind::ipv6, v, v, run.offset(k));
  return r;
}

// One maximal [A-Za-z0-9._-] token: an IPv4 literal (or range), a host name, or nothing.
void Scanner::scan_token(const Run& run, std::size_t from, std::size_t to) {
  const std::string_view s = run.text;
  std::size_t e = to;
  if (e > from && s[e - 1] == '.') {
    --e;
  }
  if (e - from > k_max_host + 1) {
    return;
  }
  const std::string_view token = s.substr(from, e - from);
  const bool numeric = std::all_of(
      token.begin(), token.end(), [](char c) { return has(c, k_digit) || c == '.' || c == '-'; });
  if (numeric) {
    scan_ipv4(run, from, token);
    return;
  }
  // ".rela.data.rel.ro" is an ELF section, "*.cdn.example.com" a wildcard.
  const bool wildcard = token.starts_with('.') && from > 0 && s[from - 1] == '*';
  if (token.starts_with('.') && !wildcard) {
    return;
  }
  const std::size_t b = wildcard ? 1 : 0;
  if (is_host_name(token.substr(b))) {
    m_scratch.assign(token.substr(b));
    std::transform(m_scratch.begin(), m_scratch.end(), m_scratch.begin(), lower);
    add(EndpointKind::host, m_scratch, m_scratch, run.offset(from + b));
  }
}

// An address, or a range "a-b" of addresses (both reported), unless it is a version.
void Scanner::scan_ipv4(const Run& run, std::size_t from, std::string_view token) {
  const std::size_t dash = token.find('-');
  const std::string_view first = token.substr(0, dash);
  const std::string_view second =
      dash == std::string_view::npos ? std::string_view() : token.substr(dash + 1);
  if (!is_ipv4(first) || (dash != std::string_view::npos && !is_ipv4(second))
      || after_number_word(run, from)
      || other_number(token, run.text.substr(0, from), run.text.substr(from + token.size()))) {
    return;
  }
  add(EndpointKind::ipv4, first, first, run.offset(from));
  if (!second.empty()) {
    add(EndpointKind::ipv4, second, second, run.offset(from + dash + 1));
  }
}

void Scanner::add(EndpointKind kind,
                  std::string_view value,
                  std::string_view host,
                  std::uint64_t offset) {
  if (offset < m_accept_from || offset >= m_accept_to) {
    return;
  }
  if (const auto it = m_seen.find(value); it != m_seen.end()) {
    Endpoint& e = m_found[it->second];
    e.offset = std::min(e.offset, offset);
    return;
  }
  if (m_found.size() >= k_max_endpoints) {
    return;
  }
  m_seen.emplace(std::string(value), m_found.size());
  m_found.push_back(Endpoint{kind, std::string(value), std::string(host), offset});
}

std::vector<Endpoint> Scanner::take() {
  std::stable_sort(m_found.begin(), m_found.end(), [](const Endpoint& a, const Endpoint& b) {
    return a.offset < b.offset;
  });
  m_seen.clear();
  return std::move(m_found);
}

}  // namespace

std::string_view to_string(EndpointKind k) {
  switch (k) {
    case EndpointKind::url:
      return "url";
    case EndpointKind::host:
      return "host";
    case EndpointKind::ipv4:
      return "ipv4";
    case EndpointKind::ipv6:
      return "ipv6";
  }
  return "host";
}

std::vector<Endpoint> extract_endpoints(std::string_view bytes, std::uint64_t base_offset) {
  Scanner scanner;
  scanner.scan(bytes, base_offset, base_offset, base_offset + bytes.size());
  return scanner.take();
}

// Each chunk owns k_chunk bytes and is read with k_overlap bytes of context on both sides:
// an endpoint is reported by the chunk its first byte belongs to, seen whole (endpoints are
// shorter than the overlap) and with the same left context as in a single pass.
Result<std::vector<Endpoint>> scan_endpoints(const ByteSource& src, std::uint64_t max_bytes) {
  const std::uint64_t limit = std::min(src.size(), max_bytes);
  Scanner scanner;
  for (std::uint64_t own = 0; own < limit; own += k_chunk) {
    const std::uint64_t own_end = std::min(limit, own + k_chunk);
    const std::uint64_t read_begin = own > k_overlap ? own - k_overlap : 0;
    const std::uint64_t read_end = std::min(limit, own_end + k_overlap);
    auto bytes = src.read_at(read_begin, static_cast<std::size_t>(read_end - read_begin));
    if (!bytes) {
      return fail(std::move(bytes).error());
    }
    scanner.scan(*bytes, read_begin, own, own_end);
    if (bytes->size() < read_end - read_begin) {
      break;  // the file ended early: nothing further to read
    }
  }
  return scanner.take();
}

bool host_allowed(std::string_view host, const std::vector<std::string>& allow_list) {
  const std::string h = normalise_host(host);
  if (h.empty()) {
    return false;
  }
  const std::string h_ip = ip_bytes(h);
  for (const auto& raw : allow_list) {
    std::string e = normalise_host(raw);
    const std::string e_ip = ip_bytes(e);
    if (!h_ip.empty() || !e_ip.empty() || numeric_tld(h) || numeric_tld(e)) {
      if ((!h_ip.empty() && h_ip == e_ip) || (h_ip.empty() && h == e)) {
        return true;
      }
      continue;
    }
    if (e.starts_with("*.")) {
      e.erase(0, 2);
    } else if (e.starts_with('.')) {
      e.erase(0, 1);
    }
    const bool below = h.size() > e.size() && h.ends_with(e) && h[h.size() - e.size() - 1] == '.';
    if (!e.empty() && (h == e || below)) {
      return true;
    }
  }
  return false;
}

}  // namespace ecluse::diff
