// Times crypto::verify_cms (the whole vendor-signature check of the verify stage: parse, policy,
// signature over drop.json, chain to the pinned root, code-signing usage, CRLs) on one drop.
// usage: ecluse-bench-verify DROP_DIR ROOT.pem [ITERATIONS]   prints the median in microseconds
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/signature.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

std::string slurp(const std::string& path) {
  auto r = ecluse::fs::read_file_bounded(
      path, 1U << 20U, ecluse::reason::k_workspace_io, ecluse::reason::k_workspace_io);
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
    std::exit(2);
  }
  return *r;
}

int run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ecluse-bench-verify DROP_DIR ROOT.pem [ITERATIONS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const auto content = slurp(dir + "/drop.json");
  const auto sig = slurp(dir + "/drop.json.sig");
  ecluse::crypto::Anchors anchors;
  auto roots = ecluse::crypto::parse_certificates(
      slurp(argv[2]), ecluse::reason::k_trust_bad_material, argv[2]);
  if (!roots) {
    std::fprintf(stderr, "%s\n", roots.error().to_string().c_str());
    return 2;
  }
  anchors.roots = *roots;
  const int n = argc > 3 ? std::max(1, std::atoi(argv[3])) : 200;
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = ecluse::crypto::verify_cms(sig, content, anchors, {}, now);
    const auto t1 = std::chrono::steady_clock::now();
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
      return 1;
    }
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  std::printf("%.1f\n", us[us.size() / 2]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
