// The sandbox's seccomp filter (libseccomp): every system call is allowed except those that
// attack the kernel or other processes, which fail with EPERM: ptrace and process_vm_*,
// mount and the new mount API, kernel modules, kexec, keyctl/add_key/request_key, bpf,
// perf_event_open, userfaultfd, reboot, swap, namespaces (setns, unshare with CLONE_NEWUSER),
// clock setting, and the TIOCSTI/TIOCLINUX ioctls (CVE-2017-5226). System calls of another
// architecture (i386 through int 0x80, x32) kill the process.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/fs.hpp>

#include <span>
#include <string_view>

namespace ecluse::sandbox {

// The names of the refused system calls (documentation and tests).
std::span<const std::string_view> refused_syscalls();

// The compiled filter (classic BPF, seccomp_export_bpf) in a memfd at offset 0, for
// bwrap --seccomp FD. sandbox.seccomp_unsupported when the kernel or libseccomp cannot build
// or accept it; sandbox.failed for memfd errors.
Result<fs::UniqueFd> seccomp_program();

// Does the kernel accept seccomp filters (prctl PR_GET_SECCOMP and
// /proc/sys/kernel/seccomp/actions_avail listing "errno")? sandbox.seccomp_unsupported.
Status seccomp_available();

}  // namespace ecluse::sandbox
