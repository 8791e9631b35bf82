// libFuzzer target: hostile bytes through the unpack engine (format detection, every enabled
// libarchive reader, the gzip and filter sources, the zip layout check, path safety, limits,
// name checks) must never crash, hang or throw; every refusal carries an unpack.* reason code.
// The first byte picks the artifact's name, so the name/content consistency checks run too.
// Seeds: the archive corpus of tests/support/make_archives.py (scripts/fuzz.sh makes it).
#include <ecluse/unpack/unpack.hpp>

#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace {

namespace stdfs = std::filesystem;

const stdfs::path& scratch() {
  static const stdfs::path k_dir = [] {
    auto d = stdfs::temp_directory_path() / ("ecluse-fuzz-unpack-" + std::to_string(::getpid()));
    stdfs::create_directories(d / "objects" / "sha256");
    stdfs::create_directories(d / "tmp");
    return d;
  }();
  return k_dir;
}

constexpr std::array<std::string_view, 8> k_names{
    "artifact.bin", "a.tar", "a.tar.gz", "a.zip", "a.7z", "a.deb", "a.rpm", "a.iso"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const auto file = scratch() / "input";
  {
    std::FILE* f = std::fopen(file.c_str(), "wb");
    if (f == nullptr) {
      __builtin_trap();
    }
    (void)std::fwrite(data + 1, 1, size - 1, f);
    (void)std::fclose(f);
  }
  const ecluse::store::ContentStore objects(scratch() / "objects", scratch() / "tmp");
  ecluse::workspace::UnpackLimits limits;
  limits.max_total_bytes = 64ULL << 20U;
  limits.max_entry_bytes = 32ULL << 20U;
  limits.max_entries = 10000;
  const auto name = std::string(k_names[data[0] % k_names.size()]);
  auto r = ecluse::unpack::unpack_file(objects, limits, name, file, false);
  if (!r && r.error().reason.rfind("unpack.", 0) != 0 && r.error().reason != "store.io_error") {
    std::fprintf(
        stderr, "unexpected reason %s: %s\n", r.error().reason.c_str(), r.error().message.c_str());
    __builtin_trap();
  }
  return 0;
}
