// Sandbox start and teardown overhead: /bin/true run directly (posix_spawn, wait) and through
// the sandbox (bwrap, seccomp filter, pids cgroup, egress recorder, the work-dir listing), N
// times each; prints the medians and the overhead as JSON. The direct runs happen in two
// batches, before and after the sandboxed ones, not interleaved with them: right after a
// sandbox run the kernel is still tearing its namespaces down, which slows the next spawn
// tenfold and would flatter the overhead.
#include <ecluse/core/json.hpp>
#include <ecluse/sandbox/run.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double direct_true() {
  const auto start = Clock::now();
  pid_t pid = 0;
  char arg0[] = "/bin/true";
  char* argv[] = {arg0, nullptr};
  if (::posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) {
    return -1;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::stoi(argv[1]) : 50;
  const std::string source = argc > 2 ? argv[2] : ".";
  auto env = ecluse::sandbox::probe_environment();
  if (!env) {
    std::fprintf(stderr, "%s\n", env.error().to_string().c_str());
    return 3;
  }
  std::ifstream in(source + "/sandbox/profiles/default.json");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  auto profile = ecluse::sandbox::parse_profile(ecluse::json::parse_strict(text).value);
  if (!profile) {
    std::fprintf(stderr, "%s\n", profile.error().to_string().c_str());
    return 3;
  }
  const auto dir = std::filesystem::temp_directory_path() / "ecluse-bench-sandbox";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "drop");
  auto sb = ecluse::sandbox::Sandbox::prepare(*env, *profile, dir / "drop");
  if (!sb) {
    std::fprintf(stderr, "%s\n", sb.error().to_string().c_str());
    return 3;
  }
  std::vector<double> direct, boxed;
  for (int i = 0; i < runs; ++i) {
    direct.push_back(direct_true());
  }
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    auto r = sb->run({"/bin/true"}, 0);
    boxed.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (!r || r->exit_code != 0) {
      std::fprintf(stderr, "sandboxed /bin/true failed\n");
      return 1;
    }
  }
  ::usleep(200000);  // let the last namespaces go
  for (int i = 0; i < runs; ++i) {
    direct.push_back(direct_true());
  }
  std::filesystem::remove_all(dir);
  const auto d = median(direct);
  const auto b = median(boxed);
  const ecluse::json::Json out{{"runs", runs},
                               {"direct_ms", d},
                               {"sandbox_ms", b},
                               {"overhead_ms", b - d},
                               {"sandbox_min_ms", *std::min_element(boxed.begin(), boxed.end())},
                               {"sandbox_max_ms", *std::max_element(boxed.begin(), boxed.end())},
                               {"bwrap", env->bwrap_version},
                               {"process_cap", env->process_cap}};
  std::printf("%s\n", ecluse::json::dump_pretty(out).c_str());
  return b - d < 50.0 ? 0 : 1;
}
