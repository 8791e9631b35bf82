// The sandbox's seccomp filter: the refused system calls, compiled by libseccomp into a sealed
// memfd that bwrap loads with --seccomp.
#include "seccomp_filter.hpp"

#include <ecluse/core/c_handle.hpp>

#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace ecluse::sandbox {

namespace {

// How a refused system call is matched and what it returns.
enum class Match : std::uint8_t {
  always,         // every call fails with EPERM
  personality,    // any persona but 0 (PER_LINUX) and 0xffffffff (the query) fails with EPERM
  newuser_arg0,   // fails with EPERM when the flags in arg0 hold CLONE_NEWUSER
  tty_injection,  // ioctl TIOCSTI / TIOCLINUX fail with EPERM (CVE-2017-5226)
  enosys,         // fails with ENOSYS, so libc falls back to an older call we can filter
};

struct Refusal {
  std::string_view name;
  Match match;
};

// clone3 passes its flags in a struct the filter cannot read: it fails with ENOSYS and glibc
// falls back to clone, whose flags in arg0 the filter sees (as Docker and Flatpak do). The
// clone rule reads arg0, which holds the flags on every architecture but s390.
constexpr std::array k_refusals{
    Refusal{"ptrace", Match::always},
    Refusal{"process_vm_readv", Match::always},
    Refusal{"process_vm_writev", Match::always},
    Refusal{"mount", Match::always},
    Refusal{"umount2", Match::always},
    Refusal{"move_mount", Match::always},
    Refusal{"open_tree", Match::always},
    Refusal{"fsopen", Match::always},
    Refusal{"fsconfig", Match::always},
    Refusal{"fsmount", Match::always},
    Refusal{"fspick", Match::always},
    Refusal{"mount_setattr", Match::always},
    Refusal{"pivot_root", Match::always},
    Refusal{"init_module", Match::always},
    Refusal{"finit_module", Match::always},
    Refusal{"delete_module", Match::always},
    Refusal{"kexec_load", Match::always},
    Refusal{"kexec_file_load", Match::always},
    Refusal{"keyctl", Match::always},
    Refusal{"add_key", Match::always},
    Refusal{"request_key", Match::always},
    Refusal{"bpf", Match::always},
    Refusal{"perf_event_open", Match::always},
    Refusal{"userfaultfd", Match::always},
    Refusal{"reboot", Match::always},
    Refusal{"swapon", Match::always},
    Refusal{"swapoff", Match::always},
    Refusal{"syslog", Match::always},
    Refusal{"acct", Match::always},
    Refusal{"quotactl", Match::always},
    Refusal{"setns", Match::always},
    Refusal{"lookup_dcookie", Match::always},
    Refusal{"iopl", Match::always},
    Refusal{"ioperm", Match::always},
    Refusal{"settimeofday", Match::always},
    Refusal{"clock_settime", Match::always},
    Refusal{"clock_adjtime", Match::always},
    Refusal{"adjtimex", Match::always},
    Refusal{"open_by_handle_at", Match::always},
    Refusal{"name_to_handle_at", Match::always},
    Refusal{"personality", Match::personality},
    Refusal{"unshare", Match::newuser_arg0},
    Refusal{"clone", Match::newuser_arg0},
    Refusal{"ioctl", Match::tty_injection},
    Refusal{"clone3", Match::enosys},
};

constexpr auto k_refused_names = [] {
  std::array<std::string_view, k_refusals.size()> names{};
  std::transform(
      k_refusals.begin(), k_refusals.end(), names.begin(), [](const Refusal& r) { return r.name; });
  return names;
}();

constexpr std::uint32_t k_eperm = SCMP_ACT_ERRNO(EPERM);
constexpr scmp_datum_t k_low32 = 0xFFFFFFFFU;
constexpr scmp_datum_t k_persona_query = 0xFFFFFFFFU;

using FilterCtx = CHandle<void, seccomp_release>;

std::string seccomp_message(std::string_view what, int rc) {
  return std::string(what) + ": " + std::error_code(-rc, std::generic_category()).message();
}

Status rule_failed(std::string_view name, int rc) {
  return fail(reason::k_sandbox_seccomp_unsupported,
              seccomp_message("cannot add the seccomp rule for '" + std::string(name) + "'", rc),
              std::string(name));
}

// libseccomp allows one comparison per argument and a rule, and rules are or-ed: a persona x
// other than 0 and 0xffffffff has, within its low 32 bits, a set bit whose cyclic neighbour is
// clear, so 32 rules "bit i set, bit i+1 clear" plus "x > 0xffffffff" match exactly those.
Status add_personality_rules(scmp_filter_ctx ctx, int nr) {
  int rc = seccomp_rule_add(ctx, k_eperm, nr, 1, SCMP_A0(SCMP_CMP_GT, k_persona_query));
  for (unsigned bit = 0; bit < 32 && rc == 0; ++bit) {
    const scmp_datum_t set = scmp_datum_t{1} << bit;
    const scmp_datum_t next = scmp_datum_t{1} << ((bit + 1) % 32);
    rc = seccomp_rule_add(ctx, k_eperm, nr, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, set | next, set));
  }
  if (rc != 0) {
    return rule_failed("personality", rc);
  }
  return {};
}

// The ioctl request is an int: only its low 32 bits are compared.
Status add_tty_rules(scmp_filter_ctx ctx, int nr) {
  int rc = seccomp_rule_add(ctx, k_eperm, nr, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, k_low32, TIOCSTI));
  if (rc == 0) {
    rc = seccomp_rule_add(ctx, k_eperm, nr, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, k_low32, TIOCLINUX));
  }
  if (rc != 0) {
    return rule_failed("ioctl", rc);
  }
  return {};
}

Status add_refusal(scmp_filter_ctx ctx, const Refusal& refusal, int nr) {
  int rc = 0;
  switch (refusal.match) {
    case Match::always:
      rc = seccomp_rule_add(ctx, k_eperm, nr, 0);
      break;
    case Match::enosys:
      rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
      break;
    case Match::newuser_arg0:
      rc = seccomp_rule_add(
          ctx, k_eperm, nr, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
      break;
    case Match::personality:
      return add_personality_rules(ctx, nr);
    case Match::tty_injection:
      return add_tty_rules(ctx, nr);
  }
  if (rc != 0) {
    return rule_failed(refusal.name, rc);
  }
  return {};
}

// Allow by default, the refusals above, and any other architecture's calls kill the process.
Result<FilterCtx> build_filter() {
  FilterCtx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (ctx == nullptr) {
    return fail(reason::k_sandbox_seccomp_unsupported, "libseccomp cannot create a seccomp filter");
  }
  const int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) {
    return fail(reason::k_sandbox_seccomp_unsupported,
                seccomp_message("cannot set the seccomp filter's bad-architecture action", rc));
  }
  for (const Refusal& refusal : k_refusals) {
    const int nr = seccomp_syscall_resolve_name(std::string(refusal.name).c_str());
    if (nr < 0) {  // __NR_SCMP_ERROR or a pseudo number: no such call on this architecture
      continue;
    }
    ECLUSE_CHECK(add_refusal(ctx.get(), refusal, nr));
  }
  return ctx;
}

Status seal(int fd) {
  if (::lseek(fd, 0, SEEK_SET) != 0) {
    return fail(reason::k_sandbox_failed,
                fs::errno_message("cannot rewind", "memfd:ecluse-seccomp", errno));
  }
  constexpr int k_seals = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;
  if (::fcntl(fd, F_ADD_SEALS, k_seals) != 0) {
    return fail(reason::k_sandbox_failed,
                fs::errno_message("cannot seal", "memfd:ecluse-seccomp", errno));
  }
  return {};
}

// Reads a small /proc file; nullopt when it cannot be opened or read.
std::optional<std::string> read_proc(const char* path) {
  const fs::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return std::nullopt;
  }
  std::string out;
  std::array<char, 512> buf{};
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return std::nullopt;
    }
    if (n == 0) {
      return out;
    }
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
}

bool lists_word(std::string_view text, std::string_view word) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = std::min(text.find_first_of(" \t\n", pos), text.size());
    if (text.substr(pos, end - pos) == word) {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

}  // namespace

std::span<const std::string_view> refused_syscalls() {
  return k_refused_names;
}

Result<fs::UniqueFd> seccomp_program() {
  ECLUSE_TRY(ctx, build_filter());
  fs::UniqueFd fd(::memfd_create("ecluse-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) {
    return fail(reason::k_sandbox_failed,
                fs::errno_message("cannot create", "memfd:ecluse-seccomp", errno));
  }
  const int rc = seccomp_export_bpf(ctx.get(), fd.get());
  if (rc != 0) {
    return fail(reason::k_sandbox_seccomp_unsupported,
                seccomp_message("cannot export the seccomp filter to 'memfd:ecluse-seccomp'", rc));
  }
  ECLUSE_CHECK(seal(fd.get()));
  return fd;
}

Status seccomp_available() {
  if (::prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL) {
    return fail(reason::k_sandbox_seccomp_unsupported,
                "the kernel has no seccomp support (prctl PR_GET_SECCOMP fails with EINVAL)");
  }
  constexpr const char* k_actions = "/proc/sys/kernel/seccomp/actions_avail";
  const auto actions = read_proc(k_actions);
  if (actions.has_value() && !lists_word(*actions, "errno")) {
    return fail(reason::k_sandbox_seccomp_unsupported,
                std::string("the kernel's seccomp actions '") + k_actions
                    + "' do not list 'errno' (the filter's refusals need SECCOMP_RET_ERRNO)");
  }
  return {};
}

}  // namespace ecluse::sandbox
