// Runs the unpack engine on archive files into a content store, as the unpack stage does for a
// drop's artifacts, and prints one JSON line per file (or the rejection).
// usage: ecluse-bench-unpack --store DIR [--no-commit] ARCHIVE...
//   DIR holds objects/ and tmp/ (created); run twice on the same DIR to measure deduplication.
#include <ecluse/core/json.hpp>
#include <ecluse/unpack/unpack.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::filesystem::path store_dir;
  bool commit = true;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--store" && i + 1 < argc) {
      store_dir = argv[++i];
    } else if (a == "--no-commit") {
      commit = false;
    } else {
      files.push_back(a);
    }
  }
  if (store_dir.empty() || files.empty()) {
    std::fprintf(stderr, "usage: ecluse-bench-unpack --store DIR [--no-commit] ARCHIVE...\n");
    return 2;
  }
  std::filesystem::create_directories(store_dir / "objects" / "sha256");
  std::filesystem::create_directories(store_dir / "tmp");
  const ecluse::store::ContentStore objects(store_dir / "objects", store_dir / "tmp");
  const ecluse::workspace::UnpackLimits limits;
  int status = 0;
  for (const auto& f : files) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = ecluse::unpack::unpack_file(
        objects, limits, std::filesystem::path(f).filename().string(), f, commit);
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    ecluse::json::Json line{{"file", f}, {"seconds", dt.count()}};
    if (r) {
      line["format"] = r->entry.format;
      line["filters"] = r->entry.filters;
      line["entries"] = r->entries;
      line["bytes"] = r->bytes;
      line["new_objects"] = r->new_objects;
      line["findings"] = r->findings.size();
      if (!r->findings.empty()) {
        line["first_finding"] = r->findings.front().code + " " + r->findings.front().item;
      }
    } else {
      line["reason"] = r.error().reason;
      line["message"] = r.error().message;
      status = 1;
    }
    std::printf("%s\n", ecluse::json::dump_line(line).c_str());
  }
  return status;
}
