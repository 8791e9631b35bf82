// PE/COFF headers (Microsoft "PE Format": MS-DOS stub, signature, COFF file header, optional
// header and its data directories): machine, PE32 or PE32+, subsystem, dll or exe, and
// whether an Authenticode signature (the certificate table) is attached.
#include <array>
#include <string>

#include "classify_formats.hpp"

namespace ecluse::diff::detail {

namespace {

constexpr std::size_t k_dos_header = 64;
constexpr std::size_t k_lfanew_at = 0x3c;
constexpr std::size_t k_coff_end = 24;                // "PE\0\0" and the COFF file header
constexpr std::size_t k_optional_max = 112 + 16 * 8;  // PE32+ fields and 16 data directories
constexpr std::uint16_t k_magic_pe32 = 0x10b;
constexpr std::uint16_t k_magic_pe32_plus = 0x20b;
constexpr std::uint16_t k_file_dll = 0x2000;
constexpr std::size_t k_security_directory = 4;
constexpr std::uint32_t k_min_certificate = 8;  // a WIN_CERTIFICATE header

// "Machine Types".
constexpr std::array<Named, 13> k_machines{{{0x14c, "i386"},
                                            {0x8664, "x86_64"},
                                            {0xaa64, "arm64"},
                                            {0xa641, "arm64ec"},
                                            {0x1c0, "arm"},
                                            {0x1c2, "arm"},
                                            {0x1c4, "arm"},
                                            {0x200, "ia64"},
                                            {0x5032, "riscv32"},
                                            {0x5064, "riscv64"},
                                            {0x6264, "loongarch64"},
                                            {0xebc, "ebc"},
                                            {0x1f0, "ppc"}}};

// "Windows Subsystem".
constexpr std::array<Named, 14> k_subsystems{{{0, "unknown"},
                                              {1, "native"},
                                              {2, "gui"},
                                              {3, "console"},
                                              {5, "os2_console"},
                                              {7, "posix_console"},
                                              {8, "native_windows"},
                                              {9, "windows_ce_gui"},
                                              {10, "efi_application"},
                                              {11, "efi_boot_service_driver"},
                                              {12, "efi_runtime_driver"},
                                              {13, "efi_rom"},
                                              {14, "xbox"},
                                              {16, "windows_boot_application"}}};

std::string name_or(std::span<const Named> table, std::uint64_t code, std::string_view what) {
  const std::string_view name = lookup(table, code);
  return name.empty() ? hex_label(what, code) : std::string(name);
}

// The certificate table's "RVA" is a file offset: it must lie inside the file.
bool has_certificate(const Fields& pe, std::size_t directories, std::uint64_t file_size) {
  const std::uint32_t count = pe.u32(directories - 4);  // NumberOfRvaAndSizes
  const std::size_t entry = directories + k_security_directory * 8;
  const std::size_t optional_size = pe.u16(20);
  if (count <= k_security_directory || optional_size < entry + 8 - k_coff_end) {
    return false;
  }
  const std::uint32_t offset = pe.u32(entry);
  const std::uint32_t size = pe.u32(entry + 4);
  return offset != 0 && size >= k_min_certificate && inside(offset, size, file_size);
}

// The headers at e_lfanew, or nullopt when they are not a PE image's.
std::optional<Classification> parse_pe(const Fields& pe, std::uint64_t file_size) {
  if (pe.bytes.substr(0, 4) != std::string_view("PE\0\0", 4)) {
    return std::nullopt;
  }
  const std::uint16_t magic = pe.u16(k_coff_end);
  const std::size_t optional_size = pe.u16(20);
  const bool plus = magic == k_magic_pe32_plus;
  if ((magic != k_magic_pe32 && !plus) || optional_size < 70 || pe.bytes.size() < k_coff_end + 70) {
    return std::nullopt;
  }
  Classification c;
  c.kind = FileKind::pe;
  c.arch = name_or(k_machines, pe.u16(4), "machine");
  const bool dll = (pe.u16(22) & k_file_dll) != 0;
  c.detail = std::string(plus ? "PE32+ " : "PE32 ") + (dll ? "dll" : "executable");
  c.subsystem = name_or(k_subsystems, pe.u16(k_coff_end + 68), "subsystem");
  c.authenticode = has_certificate(pe, k_coff_end + (plus ? 112 : 96), file_size);
  return c;
}

}  // namespace

Result<std::optional<Classification>> classify_pe(Reader& in, std::string_view head) {
  if (head.substr(0, 2) != "MZ") {
    return std::optional<Classification>();
  }
  Classification dos;
  dos.detail = "MS-DOS executable";
  if (head.size() < k_dos_header) {
    return std::optional<Classification>(std::move(dos));
  }
  const std::uint32_t lfanew = Fields{head}.u32(k_lfanew_at);
  if (lfanew > 0x7fffffffU || !inside(lfanew, k_coff_end, in.size())) {
    return std::optional<Classification>(std::move(dos));  // negative or past the end
  }
  ECLUSE_TRY(window, in.read(lfanew, k_coff_end + k_optional_max));
  auto pe = parse_pe(Fields{window}, in.size());
  return std::optional<Classification>(pe ? std::move(*pe) : std::move(dos));
}

}  // namespace ecluse::diff::detail
