// Generates a deterministic synthetic vendor drop for benchmarks: payload files of a
// configurable total size and size mix, and a drop.json listing them with their digests.
// usage: ecluse-gen-drop OUT_DIR [--total-mib N] [--mix LARGE,MEDIUM,SMALL] [--seed S]
//   mix: percentages of the total bytes in large (64-256 MiB), medium (1-8 MiB) and small
//   (4-64 KiB) files; default 50,30,20.
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/sha256.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Options {
  std::filesystem::path out;
  std::uint64_t total_mib = 1024;
  std::uint64_t mix[3] = {50, 30, 20};
  std::uint64_t seed = 1;
};

// xorshift64*: fast, deterministic, incompressible enough for I/O benchmarks.
struct Rng {
  std::uint64_t s;

  std::uint64_t next() {
    s ^= s >> 12U;
    s ^= s << 25U;
    s ^= s >> 27U;
    return s * 2685821657736338717ULL;
  }

  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + next() % (hi - lo + 1); }
};

bool parse(int argc, char** argv, Options& o) {
  if (argc < 2) {
    return false;
  }
  o.out = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--total-mib") {
      o.total_mib = std::stoull(value);
    } else if (flag == "--seed") {
      o.seed = std::stoull(value) | 1U;
    } else if (flag == "--mix") {
      if (std::sscanf(value.c_str(), "%lu,%lu,%lu", &o.mix[0], &o.mix[1], &o.mix[2]) != 3) {
        return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

// Writes one file of `size` pseudo-random bytes; returns its digest.
std::string write_file(const std::filesystem::path& p, std::uint64_t size, Rng& rng) {
  std::ofstream f(p, std::ios::binary);
  auto hasher = ecluse::crypto::Sha256::create().value();
  std::vector<std::uint64_t> buf(1U << 17U);  // 1 MiB
  for (std::uint64_t left = size; left > 0;) {
    for (auto& w : buf) {
      w = rng.next();
    }
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size() * 8));
    const std::string_view chunk(reinterpret_cast<const char*>(buf.data()), n);
    f.write(chunk.data(), static_cast<std::streamsize>(n));
    (void)hasher.update(chunk);
    left -= n;
  }
  return hasher.finish().value().hex();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: ecluse-gen-drop OUT_DIR [--total-mib N] [--mix L,M,S] [--seed S]\n");
    return 2;
  }
  Rng rng{o.seed * 0x9E3779B97F4A7C15ULL};
  const std::uint64_t total = o.total_mib << 20U;
  const std::uint64_t ranges[3][2] = {
      {64ULL << 20U, 256ULL << 20U}, {1ULL << 20U, 8ULL << 20U}, {4ULL << 10U, 64ULL << 10U}};
  const char* names[3] = {"large", "medium", "small"};
  auto artifacts = ecluse::json::Json::array();
  std::filesystem::create_directories(o.out / "payload");
  for (int k = 0; k < 3; ++k) {
    std::uint64_t budget = total * o.mix[k] / 100;
    std::filesystem::create_directories(o.out / "payload" / names[k]);
    for (int i = 0; budget > 0; ++i) {
      const auto size = std::min(budget, rng.between(ranges[k][0], ranges[k][1]));
      const std::string rel = std::string(names[k]) + "/f" + std::to_string(i) + ".bin";
      artifacts.push_back({{"path", rel},
                           {"sha256", write_file(o.out / "payload" / rel, size, rng)},
                           {"size", size}});
      budget -= size;
    }
  }
  const ecluse::json::Json drop{{"schema", "ecluse.drop/v1"},
                                {"vendor", "bench"},
                                {"product", "synthetic"},
                                {"version", "1." + std::to_string(o.seed)},
                                {"channel", "prod"},
                                {"released", "2026-01-01T00:00:00Z"},
                                {"artifacts", artifacts}};
  std::ofstream(o.out / "drop.json") << drop.dump(1) << "\n";
  std::printf("%s: %zu files, %llu MiB\n",
              o.out.c_str(),
              artifacts.size(),
              static_cast<unsigned long long>(o.total_mib));
  return 0;
}
