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

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ecluse::diff {
namespace {

constexpr std::size_t k_min_run = 4;
constexpr std::size_t k_max_url = 2048;
constexpr std::size_t k_min_host = 5;  // "x.com"; "a.de" shapes are mostly noise in binaries
constexpr std::size_t k_max_host = 253;
constexpr std::size_t k_max_label = 63;
constexpr std::size_t k_max_ipv6 = 45;
constexpr std::size_t k_max_endpoints = 65536;  // distinct values kept per scan
constexpr std::uint64_t k_context_gap = 8;      // bytes between a "Version" key and its value
constexpr std::uint64_t k_chunk = std::uint64_t{1} << 20U;
constexpr std::uint64_t k_overlap = 4096;

constexpr unsigned k_printable = 1U;
constexpr unsigned k_alpha = 2U;
constexpr unsigned k_digit = 4U;
constexpr unsigned k_hex = 8U;
constexpr unsigned k_token = 16U;     // host-name token: [A-Za-z0-9._-]
constexpr unsigned k_word = 32U;      // [A-Za-z0-9_]
constexpr unsigned k_url_stop = 64U;  // ends a URL

constexpr unsigned char_flags(unsigned c) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  const bool digit = c >= '0' && c <= '9';
  const bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  const bool stop = c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || c == '`' || c == '<'
                    || c == '>' || c == '\\';
  unsigned f = 0;
  f |= ((c >= 0x20 && c <= 0x7e) || c == '\t') ? k_printable : 0U;
  f |= alpha ? k_alpha : 0U;
  f |= digit ? k_digit : 0U;
  f |= hex ? k_hex : 0U;
  f |= (alpha || digit || c == '.' || c == '-' || c == '_') ? k_token : 0U;
  f |= (alpha || digit || c == '_') ? k_word : 0U;
  f |= stop ? k_url_stop : 0U;
  return f;
}

constexpr std::array<std::uint8_t, 256> make_char_table() {
  std::array<std::uint8_t, 256> t{};
  for (unsigned c = 0; c < t.size(); ++c) {
    t[c] = static_cast<std::uint8_t>(char_flags(c));
  }
  return t;
}

constexpr auto k_chars = make_char_table();

bool has(char c, unsigned flag) {
  return (k_chars[static_cast<unsigned char>(c)] & flag) != 0U;
}

// Neither ASCII nor UTF-16LE text can hold byte b (b's predecessor a): a fast skip of binary.
bool skippable(char a, char b) {
  return !has(b, k_printable) && (b != '\0' || !has(a, k_printable));
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower_copy(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

constexpr auto k_schemes = std::to_array<std::string_view>(
    {"amqp", "amqps", "ftp",  "ftps", "grpc", "http", "https",  "imap", "ldap", "ldaps",
     "mqtt", "mqtts", "sftp", "smtp", "ssh",  "tcp",  "telnet", "udp",  "ws",   "wss"});
static_assert(std::ranges::is_sorted(k_schemes));

// Generic TLDs likely in vendor code, and the two-letter country codes minus those that are
// also common file extensions or code: ac am as ax bb cc cf cl cu do gd id in la md mk ml mm mo
// pl pm ps pt py rs sh so sv tf (configure.ac, Makefile.am/.in, .as ActionScript, .ax filters,
// .bb recipes, .cf configs, .cl OpenCL, .cu CUDA, login.do, .gd scripts, client.id keys, .la
// libtool, .md, .mk, .ml OCaml, .mm Objective-C++, .mo gettext, .pl/.pm Perl, .ps, .pt models,
// .py, .rs, .sh, .so, .sv SystemVerilog, .tf Terraform). Also left out: name and home
// ("user.name"), zip and mov (archives and videos), pro (Qt projects), link and network
// (systemd units). cs, hh, js, ts, go, h and c are no TLDs at all.
constexpr auto k_tlds = std::to_array<std::string_view>(
    {"ad",   "ae",      "aero",     "af",       "ag",    "ai",      "al",   "ao",     "app", "aq",
     "ar",   "asia",    "at",       "au",       "aw",    "az",      "ba",   "bd",     "be",  "bf",
     "bg",   "bh",      "bi",       "biz",      "bj",    "blog",    "bm",   "bn",     "bo",  "br",
     "bs",   "bt",      "bw",       "by",       "bz",    "ca",      "cd",   "cg",     "ch",  "ci",
     "ck",   "cloud",   "cm",       "cn",       "co",    "com",     "coop", "cr",     "cv",  "cw",
     "cx",   "cy",      "cz",       "de",       "dev",   "digital", "dj",   "dk",     "dm",  "dz",
     "ec",   "edu",     "ee",       "eg",       "email", "er",      "es",   "et",     "eu",  "fi",
     "fj",   "fk",      "fm",       "fo",       "fr",    "ga",      "gb",   "ge",     "gf",  "gg",
     "gh",   "gi",      "gl",       "gm",       "gn",    "gov",     "gp",   "gq",     "gr",  "gs",
     "gt",   "gu",      "gw",       "gy",       "hk",    "hm",      "hn",   "hr",     "ht",  "hu",
     "ie",   "il",      "im",       "info",     "int",   "io",      "iq",   "ir",     "is",  "it",
     "je",   "jm",      "jo",       "jobs",     "jp",    "ke",      "kg",   "kh",     "ki",  "km",
     "kn",   "kp",      "kr",       "kw",       "ky",    "kz",      "lb",   "lc",     "li",  "live",
     "lk",   "lr",      "ls",       "lt",       "lu",    "lv",      "ly",   "ma",     "mc",  "me",
     "mg",   "mh",      "mil",      "mn",       "mobi",  "mp",      "mq",   "mr",     "ms",  "mt",
     "mu",   "mv",      "mw",       "mx",       "my",    "mz",      "na",   "nc",     "ne",  "net",
     "news", "nf",      "ng",       "ni",       "nl",    "no",      "np",   "nr",     "nu",  "nz",
     "om",   "onion",   "online",   "org",      "pa",    "pe",      "pf",   "pg",     "ph",  "pk",
     "pn",   "pr",      "pw",       "qa",       "re",    "ro",      "ru",   "rw",     "sa",  "sb",
     "sc",   "sd",      "se",       "services", "sg",    "shop",    "si",   "site",   "sk",  "sl",
     "sm",   "sn",      "software", "space",    "sr",    "ss",      "st",   "store",  "su",  "sx",
     "sy",   "systems", "sz",       "tc",       "td",    "tech",    "tel",  "tg",     "th",  "tj",
     "tk",   "tl",      "tm",       "tn",       "to",    "top",     "tr",   "travel", "tt",  "tv",
     "tw",   "tz",      "ua",       "ug",       "uk",    "us",      "uy",   "uz",     "va",  "vc",
     "ve",   "vg",      "vi",       "vn",       "vu",    "website", "wf",   "ws",     "xyz", "ye",
     "yt",   "za",      "zm",       "zw"});
static_assert(std::ranges::is_sorted(k_tlds));

// First labels of reverse-DNS package names and .NET/Java namespaces: "java.net" is code.
constexpr auto k_namespace_roots = std::to_array<std::string_view>({"android",
                                                                    "androidx",
                                                                    "com",
                                                                    "edu",
                                                                    "gov",
                                                                    "java",
                                                                    "javax",
                                                                    "kotlin",
                                                                    "kotlinx",
                                                                    "mil",
                                                                    "net",
                                                                    "org",
                                                                    "sun",
                                                                    "system"});
static_assert(std::ranges::is_sorted(k_namespace_roots));

// Is s, ignoring case, in the sorted list (of lowercase words shorter than 16)?
template <std::size_t N>
bool listed(const std::array<std::string_view, N>& list, std::string_view s) {
  std::array<char, 16> buf{};
  if (s.size() >= buf.size()) {
    return false;
  }
  std::transform(s.begin(), s.end(), buf.begin(), lower);
  return std::binary_search(list.begin(), list.end(), std::string_view(buf.data(), s.size()));
}

bool is_scheme(std::string_view s) {
  return listed(k_schemes, s);
}

// A run of text with the byte offset of each character (stride 2 for UTF-16LE).
struct Run {
  std::string_view text;
  std::uint64_t base = 0;
  std::uint64_t stride = 1;
  std::string_view prev_word;  // last word of the previous run when it ends just before this one

  [[nodiscard]] std::uint64_t offset(std::size_t k) const { return base + k * stride; }
};

// ---- host names and IP literals -------------------------------------------------------

// Lowercase, UPPERCASE or Capitalised: how people write names ("telemetry", "Example").
// Random bytes and identifiers ("NETCore", "xQz") are mixed otherwise.
bool plain_case(std::string_view l) {
  bool first = true;
  bool capital = false;
  bool lower_seen = false;
  bool upper_seen = false;
  for (const char c : l) {
    const bool up = c >= 'A' && c <= 'Z';
    if (!up && !(c >= 'a' && c <= 'z')) {
      continue;
    }
    capital = first ? up : capital;
    lower_seen = lower_seen || !up;
    upper_seen = upper_seen || (up && !first);
    first = false;
  }
  return !(lower_seen && upper_seen) || (capital && !lower_seen);
}

bool is_label(std::string_view l) {
  if (l.empty() || l.size() > k_max_label || l.front() == '-' || l.back() == '-') {
    return false;
  }
  return plain_case(l) && std::all_of(l.begin(), l.end(), [](char c) {
           return (has(c, k_word) && c != '_') || c == '-';
         });
}

bool mixed_case(std::string_view s) {
  const bool up = std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  const bool low = std::any_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
  return up && low;
}

// A host name by the rules in the file comment (labels, TLD list, namespace roots).
bool is_host_name(std::string_view h) {
  if (h.size() < k_min_host || h.size() > k_max_host) {
    return false;
  }
  std::size_t labels = 0;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = h.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? h.size() : dot;
    if (!is_label(h.substr(start, end - start))) {
      return false;
    }
    ++labels;
    if (dot == std::string_view::npos) {
      break;
    }
    start = dot + 1;
  }
  const std::string_view tld = h.substr(start);
  const bool alpha = std::all_of(tld.begin(), tld.end(), [](char c) { return has(c, k_alpha); });
  if (labels < 2 || !alpha || mixed_case(tld) || !listed(k_tlds, tld)) {
    return false;
  }
  return !listed(k_namespace_roots, h.substr(0, h.find('.')));
}

bool is_octet(std::string_view o) {
  if (o.empty() || o.size() > 3 || (o.size() > 1 && o.front() == '0')) {
    return false;
  }
  unsigned v = 0;
  for (const char c : o) {
    if (!has(c, k_digit)) {
      return false;
    }
    v = v * 10U + static_cast<unsigned>(c - '0');
  }
  return v <= 255U;
}

bool is_ipv4(std::string_view s) {
  std::size_t parts = 0;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = s.find('.', start);
    const std::size_t end = dot == std::string_view::npos ? s.size() : dot;
    if (++parts > 4 || !is_octet(s.substr(start, end - start))) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return parts == 4;
    }
    start = dot + 1;
  }
}

bool inet6_valid(std::string_view s) {
  in6_addr addr{};
  const std::string z(s);
  return inet_pton(AF_INET6, z.c_str(), &addr) == 1;
}

// Address bytes tagged with the family, or empty when s is no IP literal.
std::string ip_bytes(std::string_view s) {
  const std::string z(s);
  in_addr v4{};
  if (inet_pton(AF_INET, z.c_str(), &v4) == 1) {
    return "4" + std::string(reinterpret_cast<const char*>(&v4), sizeof v4);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, z.c_str(), &v6) == 1) {
    return "6" + std::string(reinterpret_cast<const char*>(&v6), sizeof v6);
  }
  return {};
}

// "::" or exactly 7 colons, at least 2 non-empty groups, a decimal digit ("be::ef" is a C++
// scope), and inet_pton agrees.
bool is_ipv6(std::string_view s) {
  const auto colons = std::count(s.begin(), s.end(), ':');
  const bool compressed = s.find("::") != std::string_view::npos;
  if (s.size() > k_max_ipv6 || (!compressed && colons != 7)) {
    return false;
  }
  std::size_t groups = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    groups += (s[i] != ':' && (i == 0 || s[i - 1] == ':')) ? 1U : 0U;
  }
  const bool digit = std::any_of(s.begin(), s.end(), [](char c) { return has(c, k_digit); });
  return groups >= 2 && digit && inet6_valid(s);
}

// Words after which a dotted quad numbers something else than a host.
constexpr auto k_number_words = std::to_array<std::string_view>({"annex",
                                                                 "appendix",
                                                                 "chapter",
                                                                 "clause",
                                                                 "figure",
                                                                 "oid",
                                                                 "para",
                                                                 "paragraph",
                                                                 "rule",
                                                                 "sec",
                                                                 "section",
                                                                 "spec",
                                                                 "step",
                                                                 "table",
                                                                 "ver"});
static_assert(std::ranges::is_sorted(k_number_words));

// Is the token at k the value of a "version" key (same run, or the run just before) or a
// section number ("section 8.1.5.1", "clause 5.2.1.9")?
bool after_number_word(const Run& run, std::size_t k) {
  const std::string_view s = run.text;
  std::size_t j = k;
  while (j > 0 && k - j < 2
         && std::string_view(" =:\"'([").find(s[j - 1]) != std::string_view::npos) {
    --j;
  }
  std::size_t w = j;
  while (w > 0 && j - w < 16 && has(s[w - 1], k_alpha)) {
    --w;
  }
  const std::string word =
      (w == j && j == 0) ? std::string(run.prev_word) : lower_copy(s.substr(w, j - w));
  return word.ends_with("version") || listed(k_number_words, word);
}

// Dotted quads that are numbers of another kind: "[5.2.1.9]" clauses, OIDs under 1.2, 1.3
// (ISO member bodies, identified organisations) and 2.5 (X.500 attributes, X.509 extensions).
bool other_number(std::string_view quad, std::string_view before, std::string_view after) {
  if (before.ends_with('[') && after.starts_with(']')) {
    return true;
  }
  return quad.starts_with("1.2.") || quad.starts_with("1.3.") || quad.starts_with("2.5.");
}

// ---- URLs ----------------------------------------------------------------------------

struct UrlMatch {
  std::size_t begin = 0;  // the scheme's first character
  std::size_t end = 0;    // one past the last character found
  std::string value;
  std::string host;
};

// Start of the scheme ending at colon, not before floor; npos when none is listed.
std::size_t scheme_start(std::string_view s, std::size_t colon, std::size_t floor) {
  std::size_t j = colon;
  while (j > floor && colon - j < 7 && has(s[j - 1], k_alpha)) {
    --j;
  }
  for (std::size_t len = colon - j; len >= 2; --len) {
    if (!is_scheme(s.substr(colon - len, len))) {
      continue;
    }
    const bool glued = colon - len > floor && has(s[colon - len - 1], k_alpha);
    return (glued && len < 4) ? std::string_view::npos : colon - len;
  }
  return std::string_view::npos;
}

// End of a URL's text starting at from: up to a stop character, minus trailing punctuation.
std::size_t url_end(std::string_view s, std::size_t from) {
  std::size_t end = from;
  while (end < s.size() && !has(s[end], k_url_stop)) {
    ++end;
  }
  const bool paren = s.substr(from, end - from).find('(') != std::string_view::npos;
  while (end > from) {
    const char c = s[end - 1];
    if (std::string_view(".,;:!?").find(c) == std::string_view::npos && (c != ')' || paren)) {
      break;
    }
    --end;
  }
  return end;
}

struct HostSpan {
  std::size_t begin = 0;  // in the authority, brackets included
  std::size_t end = 0;
  std::string host;  // lowercased, no brackets, no trailing dot
};

bool valid_port(std::string_view rest) {
  if (rest.empty()) {
    return true;
  }
  const std::string_view digits = rest.substr(1);
  return rest.front() == ':' && digits.size() <= 5
         && std::all_of(digits.begin(), digits.end(), [](char c) { return has(c, k_digit); });
}

std::optional<HostSpan> parse_authority(std::string_view a) {
  const std::size_t at = a.rfind('@');
  HostSpan h;
  h.begin = at == std::string_view::npos ? 0 : at + 1;
  std::string_view name;
  if (h.begin < a.size() && a[h.begin] == '[') {
    const std::size_t close = a.find(']', h.begin);
    if (close == std::string_view::npos
        || !inet6_valid(a.substr(h.begin + 1, close - h.begin - 1))) {
      return std::nullopt;
    }
    name = a.substr(h.begin + 1, close - h.begin - 1);
    h.end = close + 1;
  } else {
    h.end = std::min(a.find(':', h.begin), a.size());
    name = a.substr(h.begin, h.end - h.begin);
    const auto ok = [](char c) {
      return has(c, k_word) || c == '.' || c == '-' || c == '~';
    };
    const auto alnum = [](char c) {
      return has(c, k_word) && c != '_';
    };
    if (!std::all_of(name.begin(), name.end(), ok)
        || !std::any_of(name.begin(), name.end(), alnum)) {
      return std::nullopt;
    }
  }
  if (!valid_port(a.substr(h.end))) {
    return std::nullopt;
  }
  h.host = lower_copy(name);
  while (!h.host.empty() && h.host.back() == '.') {
    h.host.pop_back();
  }
  return h;
}

// The URL whose "://" is at colon, its scheme starting at or after floor.
std::optional<UrlMatch> parse_url(std::string_view s, std::size_t colon, std::size_t floor) {
  const std::size_t begin = scheme_start(s, colon, floor);
  if (begin == std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t auth = colon + 3;
  const std::size_t end = url_end(s, auth);
  std::size_t auth_end = auth;
  while (auth_end < end && std::string_view("/?#").find(s[auth_end]) == std::string_view::npos) {
    ++auth_end;
  }
  auto span = parse_authority(s.substr(auth, auth_end - auth));
  if (!span) {
    return std::nullopt;
  }
  UrlMatch m{begin, end, lower_copy(s.substr(begin, colon - begin)), std::move(span->host)};
  m.value += "://";
  m.value += s.substr(auth, span->begin);
  m.value += lower_copy(s.substr(auth + span->begin, span->end - span->begin));
  m.value += s.substr(auth + span->end, std::min(end - auth - span->end, k_max_url));
  m.value.resize(std::min(m.value.size(), k_max_url));
  return m;
}

// ---- the scanner ---------------------------------------------------------------------

// Lets m_seen be searched with a string_view.
struct StringHash {
  using is_transparent = void;

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

// Lowercased, without trailing dots and without the brackets of "[v6]".
std::string normalise_host(std::string_view h) {
  std::string out = lower_copy(h);
  while (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  if (out.size() >= 2 && out.front() == '[' && out.back() == ']') {
    out = out.substr(1, out.size() - 2);
  }
  return out;
}

// A last label of digits: an address or a malformed one, never a domain to match below.
bool numeric_tld(std::string_view h) {
  const std::string_view last = h.substr(h.rfind('.') + 1);
  return !last.empty()
         && std::all_of(last.begin(), last.end(), [](char c) { return has(c, k_digit); });
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
    const std::uint64_t from = own > k_overlap ? own - k_overlap : 0;
    const std::uint64_t to = std::min(limit, own_end + k_overlap);
    auto bytes = src.read_at(from, static_cast<std::size_t>(to - from));
    if (!bytes) {
      return fail(std::move(bytes).error());
    }
    scanner.scan(*bytes, from, own, own_end);
    if (bytes->size() < to - from) {
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
