// Endpoint extraction: what must not be reported (file names, versions, code, noise) first,
// then URLs, hosts and IP literals in text, binaries and UTF-16LE, chunking and the allow-list.
#include <ecluse/diff/endpoints.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using ecluse::diff::BufferSource;
using ecluse::diff::ByteSource;
using ecluse::diff::Endpoint;
using ecluse::diff::EndpointKind;
using ecluse::diff::extract_endpoints;
using ecluse::diff::host_allowed;
using ecluse::diff::scan_endpoints;
using namespace std::string_literals;

namespace {

// "kind:value" for each endpoint, in order.
std::vector<std::string> found(std::string_view bytes) {
  std::vector<std::string> out;
  for (const auto& e : extract_endpoints(bytes)) {
    out.push_back(std::string(to_string(e.kind)) + ":" + e.value);
  }
  return out;
}

using Found = std::vector<std::string>;

// s as UTF-16LE (ASCII only).
std::string utf16le(std::string_view s) {
  std::string out;
  for (const char c : s) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

class FailingSource final : public ByteSource {
 public:
  [[nodiscard]] std::uint64_t size() const override { return 100; }

  [[nodiscard]] ecluse::Result<std::string> read_at(std::uint64_t /*offset*/,
                                                    std::size_t /*n*/) const override {
    return ecluse::fail(ecluse::reason::k_store_io, "cannot read 'x': injected");
  }
};

}  // namespace

TEST_CASE("diff::extract_endpoints reports nothing for file names, versions and code") {
  SUBCASE("file names") {
    CHECK(found("libc.so.6 main.cpp setup.py index.html a.out foo.tar.gz README.md") == Found{});
    CHECK(found("Makefile.in configure.ac Makefile.am lib.rs build.sh x.pl y.pm z.cc") == Found{});
    CHECK(found("archive.zip clip.mov proj.pro 99-default.link main.cf login.do") == Found{});
  }
  SUBCASE("versions") {
    CHECK(found("version 1.2.3 and 10.0.19041 and 2.0") == Found{});
    CHECK(found("System.Runtime, Version=4.0.0.0, Culture=neutral") == Found{});
    CHECK(found("ProductVersion: 1.0.0.1") == Found{});
  }
  SUBCASE("a PE version resource whose value follows its key") {
    const std::string res =
        "\x1c\x00"s + utf16le("FileVersion") + "\0\0\0\0"s + utf16le("1.0.0.1") + "\0\0"s;
    CHECK(found(res) == Found{});
  }
  SUBCASE("C++ scopes") {
    CHECK(found("std::vector<int> a::b::c ::abort() std::map ::dead ::") == Found{});
    CHECK(found("  be::ef  ab::cd::ef") == Found{});
  }
  SUBCASE("times and MAC addresses") {
    CHECK(found("at 12:34:56 on 00:1a:2b:3c:4d:5e, 1:2:3") == Found{});
  }
  SUBCASE("invalid IPv4") {
    CHECK(found("256.1.1.1 1.2.3 01.2.3.4 1.2.3.4.5 v1.2.3.4 1.2.3.4x 1.2.3.999") == Found{});
  }
  SUBCASE("code identifiers") {
    CHECK(found("java.net java.io System.IO System.Net com.example.app org.apache.io") == Found{});
    CHECK(found("com.example.Foo Microsoft.NETCore.App user.name my_host.example.com") == Found{});
  }
  SUBCASE("ELF sections, OIDs and clause numbers") {
    CHECK(found("\0.rela.data.rel.ro\0.data.rel.ro\0.note.gnu.build-id\0"s) == Found{});
    CHECK(found("2.5.29.17 1.3.101.112 1.2.156.10197 [5.2.1.9] section 8.1.5.1") == Found{});
  }
  SUBCASE("mixed-case noise and four-character names") {
    CHECK(found(" gQ.kR xQz.com t.co ") == Found{});
  }
  SUBCASE("labels with bad hyphens") {
    CHECK(found(" -bad.example.com bad-.example.com a.-b.com a.b-.com ") == Found{});
  }
  SUBCASE("over-long labels and names") {
    CHECK(found(std::string(64, 'a') + ".com") == Found{});
    std::string name;
    for (int i = 0; i < 5; ++i) {
      name += std::string(60, 'b') + ".";
    }
    CHECK(found(name + "com") == Found{});
  }
  SUBCASE("single labels, short runs and unknown TLDs") {
    CHECK(found("localhost intranet a.b x.c\0ab\0"s) == Found{});
    CHECK(found("host.internal srv.corp foo.local") == Found{});
  }
  SUBCASE("URL templates and schemes that are not listed") {
    CHECK(found("https://%s/api http:// https://${HOST}/x ws://{{.Host}}") == Found{});
    CHECK(found("file:///etc/passwd gopher://x") == Found{});
  }
}

TEST_CASE("diff::extract_endpoints finds few or no endpoints in random bytes") {
  std::mt19937_64 rng(20240601);  // NOLINT(cert-msc32-c,cert-msc51-cpp): reproducible noise
  std::string noise(std::size_t{1} << 20U, '\0');
  for (auto& c : noise) {
    c = static_cast<char>(rng() & 0xffU);
  }
  CHECK(extract_endpoints(noise).size() <= 2);
}

TEST_CASE("diff::extract_endpoints reports URLs") {
  SUBCASE("each listed scheme") {
    for (const std::string scheme :
         {"http",   "https", "ftp",   "ftps", "ws",    "wss",  "ldap", "ldaps", "sftp", "ssh",
          "telnet", "mqtt",  "mqtts", "amqp", "amqps", "grpc", "tcp",  "udp",   "smtp", "imap"}) {
      CAPTURE(scheme);
      const auto e = extract_endpoints("x " + scheme + "://svc.example.com/p q");
      REQUIRE(e.size() == 1);
      CHECK(e[0].kind == EndpointKind::url);
      CHECK(e[0].value == scheme + "://svc.example.com/p");
      CHECK(e[0].host == "svc.example.com");
      CHECK(e[0].offset == 2);
    }
  }
  SUBCASE("scheme and host lowercased, the rest as found") {
    const auto e = extract_endpoints("\"HTTPS://API.Example.COM/Path?Q=1#F\"");
    REQUIRE(e.size() == 1);
    CHECK(e[0].value == "https://api.example.com/Path?Q=1#F");
    CHECK(e[0].host == "api.example.com");
  }
  SUBCASE("userinfo and port") {
    const auto e = extract_endpoints("ftp://User:pw@Files.example.com:2121/pub");
    REQUIRE(e.size() == 1);
    CHECK(e[0].value == "ftp://User:pw@files.example.com:2121/pub");
    CHECK(e[0].host == "files.example.com");
  }
  SUBCASE("IPv6 and IPv4 hosts") {
    const auto e = extract_endpoints("<http://[2001:DB8::1]:8080/x> tcp://10.1.2.3:9000");
    REQUIRE(e.size() == 2);
    CHECK(e[0].value == "http://[2001:db8::1]:8080/x");
    CHECK(e[0].host == "2001:db8::1");
    CHECK(e[1].value == "tcp://10.1.2.3:9000");
    CHECK(e[1].host == "10.1.2.3");
  }
  SUBCASE("single-label hosts count inside a URL") {
    CHECK(found("http://localhost:8080/") == Found{"url:http://localhost:8080/"});
  }
  SUBCASE("sentence punctuation is not part of the URL") {
    CHECK(found("see https://example.com/a. or (https://example.org/b), ok")
          == Found{"url:https://example.com/a", "url:https://example.org/b"});
    CHECK(found("https://en.example.org/wiki/A_(b)")
          == Found{"url:https://en.example.org/wiki/A_(b)"});
  }
  SUBCASE("a length byte glued to the scheme") {
    const auto e = extract_endpoints("\x01Zhttps://len.example.com/x\x02"s);
    REQUIRE(e.size() == 1);
    CHECK(e[0].value == "https://len.example.com/x");
    CHECK(e[0].offset == 2);
  }
  SUBCASE("the host is not reported again, a second host is") {
    CHECK(found("https://a.example.com/x b.example.com")
          == Found{"url:https://a.example.com/x", "host:b.example.com"});
  }
  SUBCASE("value capped at 2048 characters") {
    const auto e = extract_endpoints("https://a.example.com/" + std::string(5000, 'p'));
    REQUIRE(e.size() == 1);
    CHECK(e[0].value.size() == 2048);
  }
}

TEST_CASE("diff::extract_endpoints reports host names") {
  SUBCASE("in text") {
    const auto e =
        extract_endpoints("to telemetry.vendor.com, updates.example.fr or api.example.io.");
    REQUIRE(e.size() == 3);
    CHECK(e[0].value == "telemetry.vendor.com");
    CHECK(e[0].offset == 3);
    CHECK(e[1].value == "updates.example.fr");
    CHECK(e[2].value == "api.example.io");
    CHECK(e[2].kind == EndpointKind::host);
    CHECK(e[2].host == "api.example.io");
  }
  SUBCASE("in a binary, between NULs") {
    const auto e = extract_endpoints(
        "\x7f"
        "ELF\0\0\x01telemetry.vendor.com\0\xff\xfe"s);
    REQUIRE(e.size() == 1);
    CHECK(e[0].value == "telemetry.vendor.com");
    CHECK(e[0].offset == 7);
  }
  SUBCASE("in UTF-16LE strings") {
    const std::string bytes = "\x90\x91\x1a\x00"s + utf16le("https://u16.example.com/x") + "\0\0"s
                              + utf16le("cdn.example.net") + "\0\0"s;
    const auto e = extract_endpoints(bytes);
    REQUIRE(e.size() == 2);
    CHECK(e[0].value == "https://u16.example.com/x");
    CHECK(e[0].offset == 4);
    CHECK(e[1].value == "cdn.example.net");
    CHECK(e[1].offset == 4 + 2 * 25 + 2);
  }
  SUBCASE("the host of an email address") {
    const auto e = extract_endpoints("mail user@mail.example.com now");
    REQUIRE(e.size() == 1);
    CHECK(e[0].value == "mail.example.com");
    CHECK(e[0].offset == 10);
  }
  SUBCASE("uppercase is normalised") {
    CHECK(found("API.EXAMPLE.COM Example.com")
          == Found{"host:api.example.com", "host:example.com"});
  }
  SUBCASE("wildcards") {
    CHECK(found("*.cdn.example.net") == Found{"host:cdn.example.net"});
  }
  SUBCASE("labels of 63 characters") {
    const std::string name = std::string(63, 'a') + ".example.com";
    CHECK(found(name) == Found{"host:" + name});
  }
  SUBCASE("each value once, at its first offset, sorted by offset") {
    const auto e = extract_endpoints("b.example.com a.example.com b.example.com A.EXAMPLE.COM");
    REQUIRE(e.size() == 2);
    CHECK(e[0].value == "b.example.com");
    CHECK(e[0].offset == 0);
    CHECK(e[1].value == "a.example.com");
    CHECK(e[1].offset == 14);
  }
  SUBCASE("base_offset is added") {
    const auto e = extract_endpoints("  x.example.com", 1000);
    REQUIRE(e.size() == 1);
    CHECK(e[0].offset == 1002);
  }
}

TEST_CASE("diff::extract_endpoints reports IP literals") {
  SUBCASE("IPv4 with and without a port") {
    CHECK(found("server 192.168.1.10:8080 and 8.8.8.8.")
          == Found{"ipv4:192.168.1.10", "ipv4:8.8.8.8"});
  }
  SUBCASE("bind-any, loopback and zero octets are kept") {
    CHECK(found("0.0.0.0 127.0.0.1 10.0.0.0")
          == Found{"ipv4:0.0.0.0", "ipv4:127.0.0.1", "ipv4:10.0.0.0"});
  }
  SUBCASE("ranges report both ends") {
    CHECK(found("allow 10.0.0.1-10.0.0.255;") == Found{"ipv4:10.0.0.1", "ipv4:10.0.0.255"});
  }
  SUBCASE("IPv6") {
    CHECK(found("addr 2001:db8::1, fe80::1%eth0 [::ffff:1.2.3.4]:80")
          == Found{"ipv6:2001:db8::1", "ipv6:fe80::1", "ipv6:::ffff:1.2.3.4"});
    CHECK(found("full 2001:0db8:0:0:0:0:0:1 end") == Found{"ipv6:2001:0db8:0:0:0:0:0:1"});
  }
  SUBCASE("IPv6 in a binary") {
    const auto e = extract_endpoints(
        "\0\0\x01"
        "2606:4700::1111\0"s);
    REQUIRE(e.size() == 1);
    CHECK(e[0].kind == EndpointKind::ipv6);
    CHECK(e[0].offset == 3);
  }
}

TEST_CASE("diff::scan_endpoints reads in chunks without splitting an endpoint") {
  constexpr std::size_t k_mib = std::size_t{1} << 20U;
  SUBCASE("an endpoint straddling 1 MiB is found once, at its offset") {
    std::string bytes(3 * k_mib, '\0');
    bytes.replace(k_mib - 10, 33, "https://straddle.example.com/path");
    bytes.replace(2 * k_mib - 8, 21, "telemetry.example.com");
    BufferSource src(bytes);
    const auto e = scan_endpoints(src, bytes.size());
    REQUIRE(e);
    REQUIRE(e->size() == 2);
    CHECK((*e)[0].value == "https://straddle.example.com/path");
    CHECK((*e)[0].offset == k_mib - 10);
    CHECK((*e)[1].value == "telemetry.example.com");
    CHECK((*e)[1].offset == 2 * k_mib - 8);
  }
  SUBCASE("a chunk start inside a token does not create a second host") {
    std::string bytes(2 * k_mib, '\0');
    bytes.replace(k_mib - 1, 22, "xtelemetry.example.com");
    BufferSource src(bytes);
    const auto e = scan_endpoints(src, bytes.size());
    REQUIRE(e);
    REQUIRE(e->size() == 1);
    CHECK((*e)[0].value == "xtelemetry.example.com");
    CHECK((*e)[0].offset == k_mib - 1);
  }
  SUBCASE("the same values as one pass, once each") {
    std::string bytes(3 * k_mib, '\0');
    for (std::size_t at = 1000; at + 40 < bytes.size(); at += 300000) {
      bytes.replace(at, 15, "dup.example.com");
    }
    BufferSource src(bytes);
    const auto e = scan_endpoints(src, bytes.size());
    REQUIRE(e);
    REQUIRE(e->size() == 1);
    CHECK((*e)[0].offset == 1000);
  }
  SUBCASE("max_bytes is honoured") {
    std::string bytes(20000, ' ');
    bytes.replace(3000, 13, "a.example.com");
    bytes.replace(10000, 13, "b.example.com");
    BufferSource src(bytes);
    const auto e = scan_endpoints(src, 5000);
    REQUIRE(e);
    REQUIRE(e->size() == 1);
    CHECK((*e)[0].value == "a.example.com");
  }
  SUBCASE("a read failure is store.io_error") {
    const FailingSource src;
    const auto e = scan_endpoints(src, 1000);
    REQUIRE_FALSE(e);
    CHECK(e.error().reason == "store.io_error");
  }
}

TEST_CASE("diff::host_allowed matches domains on label boundaries and IPs exactly") {
  const std::vector<std::string> allow{"Example.com", "cdn.vendor.net.", "10.0.0.1", "2001:db8::1"};
  SUBCASE("refused") {
    CHECK_FALSE(host_allowed("badexample.com", allow));
    CHECK_FALSE(host_allowed("example.com.evil.org", allow));
    CHECK_FALSE(host_allowed("vendor.net", allow));
    CHECK_FALSE(host_allowed("10.0.0.10", allow));
    CHECK_FALSE(host_allowed("1.10.0.0.1", allow));
    CHECK_FALSE(host_allowed("", allow));
    CHECK_FALSE(host_allowed("example.com", {}));
    CHECK_FALSE(host_allowed("x.0.0.1", {"0.0.1"}));
  }
  SUBCASE("exact and below") {
    CHECK(host_allowed("example.com", allow));
    CHECK(host_allowed("a.b.example.com", allow));
    CHECK(host_allowed("img.cdn.vendor.net", allow));
  }
  SUBCASE("case and trailing dot") {
    CHECK(host_allowed("API.EXAMPLE.COM.", allow));
    CHECK(host_allowed("cdn.vendor.net", allow));
  }
  SUBCASE("IP entries") {
    CHECK(host_allowed("10.0.0.1", allow));
    CHECK(host_allowed("2001:DB8:0::1", allow));
    CHECK(host_allowed("[2001:db8::1]", allow));
  }
}

TEST_CASE("diff::to_string names each endpoint kind") {
  CHECK(to_string(EndpointKind::url) == "url");
  CHECK(to_string(EndpointKind::host) == "host");
  CHECK(to_string(EndpointKind::ipv4) == "ipv4");
  CHECK(to_string(EndpointKind::ipv6) == "ipv6");
}
