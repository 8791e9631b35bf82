// Matchers for URLs, host names and IP literals in a run of text, and the host normalisation
// of the allow-list; the heuristics are listed in the file comment of endpoints.cpp.
#include "endpoint_match.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ecluse::diff::detail {
namespace {

constexpr std::size_t k_max_url = 2048;
constexpr std::size_t k_min_host = 5;  // "x.com"; "a.de" shapes are mostly noise in binaries
constexpr std::size_t k_max_label = 63;
constexpr std::size_t k_max_ipv6 = 45;

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

}  // namespace

std::string lower_copy(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

// ---- host names and IP literals -------------------------------------------------------

namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

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

namespace {

bool inet6_valid(std::string_view s) {
  in6_addr addr{};
  const std::string z(s);
  return inet_pton(AF_INET6, z.c_str(), &addr) == 1;
}

}  // namespace

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

namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

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

// ---- allow-list matching -------------------------------------------------------------

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

}  // namespace ecluse::diff::detail
