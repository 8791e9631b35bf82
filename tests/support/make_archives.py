#!/usr/bin/env python3
"""Generate the archive corpus used by the unpack-stage tests.

Usage: python3 tests/support/make_archives.py OUTDIR

Writes every case file into OUTDIR (created if needed) and OUTDIR/cases.json,
a JSON array of {"name", "file", "expect", "item", "note"} objects. "expect" is
"ok" or the reason code the unpack stage must give; "item" is the offending
entry's name as stored in the archive (bytes that are not UTF-8, and control
characters, written as \\xNN), or null when no single entry is to blame.

Standard library only, plus the bsdtar, zstd and lz4 command-line tools. The
output is deterministic: fixed mtimes (1700000000), owner 0/0 root/root, fixed
random seeds, and the volume/creation times that libarchive's iso9660 and xar
writers take from the clock are overwritten with the fixed time.

"Standard content": hello.txt (b"hello\\n", 0644), bin/tool (3000 random
bytes, 0755), docs/ (0755), docs/guide.txt (b"guide\\n" * 100, 0644) and the
symlink link -> hello.txt where the format has symlinks.

Accepted cases (expect "ok"):
  ok-tar            ok.tar                 pax tar, standard content
  ok-tar-gz         ok.tar.gz              the same, gzip
  ok-tar-bz2        ok.tar.bz2             the same, bzip2
  ok-tar-xz         ok.tar.xz              the same, xz
  ok-tar-zst        ok.tar.zst             the same, zstd
  ok-tar-lz4        ok.tar.lz4             the same, lz4 frame format
  ok-zip-stored     ok-stored.zip          zip, stored, with docs/ and a unix symlink
  ok-zip-deflate    ok-deflate.zip         the same, deflated
  ok-7z             ok.7z                  7-Zip (bsdtar)
  ok-cpio           ok.cpio                cpio newc (bsdtar)
  ok-iso            ok.iso                 iso9660 + Rock Ridge (bsdtar); lists "." and "bin" too
  ok-xar            ok.xar                 xar (bsdtar), no TOC checksum
  ok-ar             ok.a                   ar: hello.txt and tool, flat
  ok-deb            ok.deb                 ar of debian-binary, control.tar.xz, data.tar.xz (nested)
  ok-rpm            ok.rpm                 hand-written rpm lead + empty headers + cpio.gz payload
  ok-cab            ok.cab                 hand-written cabinet, uncompressed, read-only files, docs\\guide.txt
  ok-nested         nested.tar.gz          tar.gz > inner.zip > deep.tar > hello.txt (depth 3)
  ok-plain          plain.bin              4096 random bytes, not an archive
  ok-gz-plain       notes.txt.gz           a gzip-compressed text file, not an archive

Rejected cases (expect -> item):
  path-absolute         abs.tar                unpack.path_absolute         /etc/pwned
  path-drive            drive.zip              unpack.path_absolute         C:/pwned.txt
  path-traversal        traversal.tar          unpack.path_traversal        ../canary/pwned
  path-traversal-inner  traversal2.tar         unpack.path_traversal        a/../../canary/pwned
  path-backslash        backslash.tar          unpack.path_backslash        dir\\..\\..\\pwned
  bad-name              badname.tar            unpack.bad_name              a//b
  symlink-escape        symlink-escape.tar     unpack.symlink_escape        evil -> ../../canary
  symlink-absolute      symlink-abs.tar        unpack.symlink_escape        passwd -> /etc/passwd
  symlink-write-through through.tar            unpack.write_through_symlink d/pwned
  hardlink-escape       hardlink-escape.tar    unpack.hardlink_escape       h -> ../canary/x
  hardlink-unseen       hardlink-unseen.tar    unpack.hardlink_escape       h -> later.txt (comes later)
  special-chr           chardev.tar            unpack.special_file          null (char 1,3)
  special-fifo          fifo.tar               unpack.special_file          pipe
  type-conflict         conflict.tar           unpack.type_conflict         a/b under file a
  name-utf8             badutf8.tar            unpack.name_invalid_utf8     bad\\xff.txt
  name-control          control.tar            unpack.name_control_char     evil\\x0aname.txt
  name-case             case.tar               unpack.name_collision        readme (after README)
  name-nfc              nfc.tar                unpack.name_collision        cafe+U+0301.txt (after NFC cafe)
  duplicate             duplicate.tar          unpack.duplicate_entry       a.txt twice
  git-dir               git.tar                unpack.git_path              .git/config
  gitmodules            gitmodules.tar         unpack.git_path              lib/.gitmodules
  setuid                setuid.tar             unpack.setuid                su (04755)
  world-writable        world.tar              unpack.world_writable        open.txt (0666)
  truncated-tar         truncated.tar          unpack.truncated             big.bin cut mid-data
  truncated-gz          truncated.tar.gz       unpack.truncated             -
  crc-zip               badcrc.zip             unpack.checksum              data.bin
  crc-gzip              badcrc.tar.gz          unpack.checksum              - (gzip trailer CRC)
  corrupt-header        corrupt.tar            unpack.corrupt               - (2nd header checksum)
  encrypted-zip         encrypted.zip          unpack.encrypted             secret.txt
  trailing-tar          trailing.tar           unpack.trailing_data         -
  trailing-gz           trailing.tar.gz        unpack.trailing_data         -
  trailing-zip          trailing.zip           unpack.trailing_data         -
  empty-tar             empty.tar              unpack.empty_archive         -
  empty-zip             empty.zip              unpack.empty_archive         -
  mismatch-zip-is-tar   mislabelled.zip        unpack.format_mismatch       -
  mismatch-targz-is-text mislabelled.tar.gz    unpack.format_mismatch       -
  zip-overlap           overlap.zip            unpack.zip_overlap           f1.bin
  zip-name-mismatch     namemismatch.zip       unpack.zip_name_mismatch     evil.txt
  nesting               nesting.zip            unpack.nesting_too_deep      - (6 nested zips)
  zip-bomb-recursive    bomb42.zip             unpack.total_too_large       - (16 GiB in 4 layers)
  limits-many           many.tar               unpack.too_many_entries      - (3000 entries)
  limits-entry          bigentry.tar           unpack.entry_too_large       big.bin (2 MiB)
  limits-total          total.tar              unpack.total_too_large       - (4 x 1 MiB)
  limits-name           longname.tar           unpack.name_too_long         d/n*300
  limits-path           longpath.tar           unpack.path_too_long         40 x c*120 + /f.txt
  ratio-entry           ratio-entry.tar.gz     unpack.entry_ratio           zeros.bin
  ratio-archive         ratio-archive.tar.gz   unpack.archive_ratio         - (50 MiB of zeros)
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
import lzma
import random
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import zipfile
import zlib
from pathlib import Path

MTIME = 1_700_000_000                      # 2023-11-14 22:13:20 UTC
ZIP_DATE = (2023, 11, 14, 22, 13, 20)      # the same instant, as zip wants it
DOS_TIME = (22 << 11) | (13 << 5) | (20 // 2)
DOS_DATE = ((2023 - 1980) << 9) | (11 << 5) | 14
KIB = 1024
MIB = 1024 * KIB
TOOLS = ("bsdtar", "zstd", "lz4")


def rand(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


TOOL = rand(1, 3000)
GUIDE = b"guide\n" * 100

_cache: dict[str, bytes] = {}


def cached(fn):
    """Build a shared input once (ok.tar is reused by several cases)."""
    def wrapper() -> bytes:
        if fn.__name__ not in _cache:
            _cache[fn.__name__] = fn()
        return _cache[fn.__name__]
    wrapper.__name__ = fn.__name__
    return wrapper


# --------------------------------------------------------------------------
# tar
# --------------------------------------------------------------------------

Entry = tuple[tarfile.TarInfo, bytes]


def _info(name: str, kind: bytes, mode: int, size: int = 0, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.linkname = kind, mode, size, link
    info.mtime, info.uid, info.gid, info.uname, info.gname = MTIME, 0, 0, "root", "root"
    return info


def reg(name: str, data: bytes, mode: int = 0o644) -> Entry:
    return _info(name, tarfile.REGTYPE, mode, len(data)), data


def dirent(name: str, mode: int = 0o755) -> Entry:
    return _info(name, tarfile.DIRTYPE, mode), b""


def symlink(name: str, target: str) -> Entry:
    return _info(name, tarfile.SYMTYPE, 0o777, link=target), b""


def hardlink(name: str, target: str) -> Entry:
    return _info(name, tarfile.LNKTYPE, 0o644, link=target), b""


def device(name: str, kind: bytes, major: int = 0, minor: int = 0) -> Entry:
    info = _info(name, kind, 0o644)
    info.devmajor, info.devminor = major, minor
    return info, b""


def tar_bytes(entries: list[Entry], fmt: int = tarfile.PAX_FORMAT, **kwargs) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, **kwargs) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def xz(data: bytes) -> bytes:
    return lzma.compress(data, format=lzma.FORMAT_XZ)


def standard(prefix: str = "", links: bool = True) -> list[Entry]:
    entries = [reg(prefix + "hello.txt", b"hello\n"),
               reg(prefix + "bin/tool", TOOL, 0o755),
               dirent(prefix + "docs"),
               reg(prefix + "docs/guide.txt", GUIDE)]
    if links:
        entries.append(symlink(prefix + "link", "hello.txt"))
    return entries


@cached
def ok_tar() -> bytes:
    return tar_bytes(standard())


@cached
def ok_tar_gz() -> bytes:
    return gz(ok_tar())


@cached
def big_tar() -> bytes:
    return tar_bytes([reg("big.bin", rand(11, 20000))])


def simple_tar(*entries: Entry) -> bytes:
    return tar_bytes(list(entries))


# --------------------------------------------------------------------------
# zip
# --------------------------------------------------------------------------

def zinfo(name: str, mode: int = 0o100644, method: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.create_system = 3
    info.external_attr = mode << 16
    if mode >> 12 == 0o04:
        info.external_attr |= 0x10      # MS-DOS directory bit
    info.compress_type = method
    return info


def zip_bytes(members: list[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for info, data in members:
            archive.writestr(info, data)
    return buf.getvalue()


def zip_of(name: str, data: bytes, method: int = zipfile.ZIP_STORED) -> bytes:
    return zip_bytes([(zinfo(name, method=method), data)])


def standard_zip(method: int) -> bytes:
    return zip_bytes([
        (zinfo("hello.txt", method=method), b"hello\n"),
        (zinfo("bin/tool", 0o100755, method), TOOL),
        (zinfo("docs/", 0o040755, zipfile.ZIP_STORED), b""),
        (zinfo("docs/guide.txt", method=method), GUIDE),
        (zinfo("link", 0o120777, method), b"hello.txt"),
    ])


@cached
def ok_zip_stored() -> bytes:
    return standard_zip(zipfile.ZIP_STORED)


def central_directory(data: bytes) -> int:
    """Offset of the central directory of a zip without a comment."""
    sig, *_, cd_offset, comment = struct.unpack("<IHHHHIIH", data[-22:])
    assert sig == 0x06054B50 and comment == 0
    return cd_offset


def patch_zip(data: bytes, local: dict[int, bytes], central: dict[int, bytes]) -> bytes:
    """Overwrite bytes at offsets within the first local header and central entry."""
    out = bytearray(data)
    cd = central_directory(data)
    for base, edits in ((0, local), (cd, central)):
        for off, value in edits.items():
            out[base + off:base + off + len(value)] = value
    return bytes(out)


# --------------------------------------------------------------------------
# bsdtar conversions (7z, cpio, iso9660, xar, ar) from a tar made here
# --------------------------------------------------------------------------

def with_nlink(entries: list[Entry]) -> list[Entry]:
    """Give entries a link count (pax SCHILY.nlink) so cpio headers carry 1, not 0."""
    for info, _ in entries:
        info.pax_headers = {"SCHILY.nlink": "2" if info.isdir() else "1"}
    return entries


def bsdtar_convert(entries: list[Entry], fmt: str, options: str | None = None) -> bytes:
    """Re-encode a tar as FMT with `bsdtar -cf OUT @SRC.tar`.

    Reading the entries from a tar (not from a staging directory) keeps owner,
    times, link counts and inode numbers independent of the machine.
    """
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp, "src.tar"), Path(tmp, "out")
        src.write_bytes(tar_bytes(with_nlink(entries)))
        cmd = ["bsdtar", "--format", fmt, "-cf", str(out)]
        if options:
            cmd += ["--options", options]
        subprocess.run(cmd + ["@" + str(src)], check=True)
        return out.read_bytes()


ISO_DATE7 = bytes([2023 - 1900, 11, 14, 22, 13, 20, 0])
ISO_DATE17 = b"2023111422132000\x00"
ISO_CTIME = b"Tue Nov 14 22:13:20 2023"


def _iso_fix_susp(img: bytearray, start: int, end: int, seen: set[int]) -> None:
    """Rewrite the Rock Ridge TF timestamps in a System Use area (and its CE)."""
    pos = start
    while pos + 4 <= end:
        sig, length = bytes(img[pos:pos + 2]), img[pos + 2]
        if length < 4:
            break
        if sig == b"TF":
            flags = img[pos + 4]
            size = 17 if flags & 0x80 else 7
            stamp = ISO_DATE17 if size == 17 else ISO_DATE7
            for i in range(bin(flags & 0x7F).count("1")):
                at = pos + 5 + i * size
                img[at:at + size] = stamp
        elif sig == b"CE":
            block, offset, ce_len = (struct.unpack_from("<I", img, pos + k)[0] for k in (4, 12, 20))
            ce = block * 2048 + offset
            if ce not in seen:
                seen.add(ce)
                _iso_fix_susp(img, ce, ce + ce_len, seen)
        elif sig == b"ST":
            break
        pos += length


def _iso_fix_dir(img: bytearray, record: int, rock: bool, seen: set[int]) -> None:
    extent, size = struct.unpack_from("<I", img, record + 2)[0], struct.unpack_from("<I", img, record + 10)[0]
    start = extent * 2048
    if start in seen:
        return
    seen.add(start)
    pos = start
    while pos < start + size:
        length = img[pos]
        if length == 0:                                  # records never straddle sectors
            pos = (pos // 2048 + 1) * 2048
            continue
        img[pos + 18:pos + 25] = ISO_DATE7
        name_len = img[pos + 32]
        name = bytes(img[pos + 33:pos + 33 + name_len])
        if rock:
            susp = pos + 33 + name_len + (1 - name_len % 2)
            _iso_fix_susp(img, susp, pos + length, seen)
        if img[pos + 25] & 0x02 and name not in (b"\x00", b"\x01"):
            _iso_fix_dir(img, pos, rock, seen)
        pos += length


def iso_fix_times(data: bytes) -> bytes:
    """Set every time libarchive stamped in an ISO image to MTIME (UTC).

    libarchive's writer takes the volume and implicit-directory times from the
    clock and writes file times in local time: overwrite them all.
    """
    img = bytearray(data)
    seen: set[int] = set()
    sector = 16
    while img[sector * 2048 + 1:sector * 2048 + 6] == b"CD001":
        vd = sector * 2048
        kind = img[vd]
        if kind == 255:
            break
        if kind in (1, 2):                     # primary (Rock Ridge) and Joliet
            for off in (813, 830, 847, 864):   # creation, modification, expiration, effective
                if img[vd + off:vd + off + 16] != b"0" * 16:
                    img[vd + off:vd + off + 17] = ISO_DATE17
            img[vd + 156 + 18:vd + 156 + 25] = ISO_DATE7
            _iso_fix_dir(img, vd + 156, kind == 1, seen)
        sector += 1
    info = (sector + 1) * 2048          # libarchive's "INFO <ctime>" block after the terminator
    if img[info:info + 5] == b"INFO ":
        end = img.index(b"\n", info)
        assert end - info - 5 == len(ISO_CTIME)
        img[info + 5:end] = ISO_CTIME
    return bytes(img)


def xar_fix_time(data: bytes) -> bytes:
    """Replace the TOC's clock-derived creation-time (the TOC carries no checksum)."""
    magic, hsize, version, clen, _, cksum = struct.unpack(">4sHHQQI", data[:28])
    assert magic == b"xar!" and cksum == 0, "xar must be written with toc-checksum=none"
    toc = zlib.decompress(data[hsize:hsize + clen])
    start = toc.index(b"<creation-time>") + len(b"<creation-time>")
    end = toc.index(b"</creation-time>")
    toc = toc[:start] + b"2023-11-14T22:13:20" + toc[end:]
    packed = zlib.compress(toc, 9)
    header = struct.pack(">4sHHQQI", magic, hsize, version, len(packed), len(toc), cksum)
    return header + data[28:hsize] + packed + data[hsize + clen:]


def make_7z() -> bytes:
    return bsdtar_convert(standard(), "7zip")


def make_cpio() -> bytes:
    return bsdtar_convert(standard(), "newc")


def make_cpio_hardlinks() -> bytes:
    """cpio newc where two names share one inode: bsdtar writes the data on the last link.

    Made from a real directory (a tar source cannot carry the shared inode); inode numbers
    make the bytes vary from run to run, the content does not."""
    data = b"shared content\n" * 100
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp, "stage")
        stage.mkdir()
        Path(stage, "a.txt").write_bytes(data)
        os.link(Path(stage, "a.txt"), Path(stage, "b.txt"))
        for name in ("a.txt", "b.txt"):
            os.utime(Path(stage, name), (1700000000, 1700000000))
        os.chmod(Path(stage, "a.txt"), 0o644)
        out = Path(tmp, "out.cpio")
        subprocess.run(["bsdtar", "--format", "newc", "-cf", str(out), "-C", str(stage),
                        "a.txt", "b.txt"], check=True)
        return out.read_bytes()


def make_padded_zst() -> bytes:
    """A valid tar followed by 2 MiB of zeros, compressed: the zeros decode after the end."""
    return compress_with("zstd", ok_tar() + bytes(2 << 20))


def make_iso() -> bytes:
    return iso_fix_times(bsdtar_convert(standard(), "iso9660", "iso9660:rockridge=strict"))


def make_xar() -> bytes:
    return xar_fix_time(bsdtar_convert(standard(), "xar", "xar:toc-checksum=none"))


def make_ar() -> bytes:
    return bsdtar_convert([reg("hello.txt", b"hello\n"), reg("tool", TOOL, 0o755)], "ar")


def make_deb() -> bytes:
    control = xz(tar_bytes([reg("./control", b"Package: demo\nVersion: 1.0\n")]))
    data = xz(tar_bytes(standard("./")))
    return bsdtar_convert([reg("debian-binary", b"2.0\n"),
                           reg("control.tar.xz", control),
                           reg("data.tar.xz", data)], "ar")


# --------------------------------------------------------------------------
# rpm and cab, by hand
# --------------------------------------------------------------------------

def rpm_header() -> bytes:
    """An rpm header structure with no index entries and an empty store."""
    return b"\x8e\xad\xe8\x01" + bytes(4) + struct.pack(">II", 0, 0)


def make_rpm() -> bytes:
    lead = struct.pack(">4sBBHH66sHH16s", b"\xed\xab\xee\xdb", 3, 0, 0, 1,
                       b"demo-1.0-1", 1, 5, bytes(16))
    signature = rpm_header()
    signature += bytes(-len(signature) % 8)          # pad to 8 bytes (already aligned)
    payload = gzip.compress(bsdtar_convert(standard("./", links=False), "newc"), mtime=0)
    return lead + signature + rpm_header() + payload


# archive + read-only: libarchive gives read-only CAB files mode 0555 and the
# others 0666, which the unpack stage would report as world-writable.
CAB_ATTRIBS = 0x20 | 0x01


def make_cab() -> bytes:
    files = [("hello.txt", b"hello\n"), ("tool", TOOL), ("docs\\guide.txt", GUIDE)]
    header_size, folder_size = 36, 8
    cffiles, offset = b"", 0
    for name, data in files:
        cffiles += struct.pack("<IIHHHH", len(data), offset, 0, 0x5021, 0, CAB_ATTRIBS) + name.encode() + b"\0"
        offset += len(data)
    payload = b"".join(data for _, data in files)
    blocks = [payload[i:i + 32768] for i in range(0, len(payload), 32768)]
    cfdata = b"".join(struct.pack("<IHH", 0, len(b), len(b)) + b for b in blocks)
    data_start = header_size + folder_size + len(cffiles)
    total = data_start + len(cfdata)
    header = struct.pack("<4sIIIIIBBHHHHH", b"MSCF", 0, total, 0, header_size + folder_size, 0,
                         3, 1, 1, len(files), 0, 0, 0)
    folder = struct.pack("<IHH", data_start, len(blocks), 0)
    return header + folder + cffiles + cfdata


# --------------------------------------------------------------------------
# the other ok cases
# --------------------------------------------------------------------------

def make_nested() -> bytes:
    deep = tar_bytes([reg("hello.txt", b"hello\n")])
    inner = zip_of("deep.tar", deep, zipfile.ZIP_DEFLATED)
    return gz(tar_bytes([reg("inner.zip", inner), reg("top.txt", b"top\n")]))


def compress_with(tool: str, data: bytes) -> bytes:
    return subprocess.run([tool, "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout


# --------------------------------------------------------------------------
# rejected tars and gzip streams that need byte surgery
# --------------------------------------------------------------------------

def make_badutf8() -> bytes:
    return tar_bytes([reg("bad\udcff.txt", b"x")], tarfile.GNU_FORMAT,
                     encoding="utf-8", errors="surrogateescape")


def make_truncated_gz() -> bytes:
    data = gz(big_tar())
    return data[:len(data) // 2]


def make_crc_gzip() -> bytes:
    data = bytearray(ok_tar_gz())
    crc = struct.unpack_from("<I", data, len(data) - 8)[0] ^ 0xFFFFFFFF
    struct.pack_into("<I", data, len(data) - 8, crc)
    return bytes(data)


def make_corrupt_header() -> bytes:
    data = bytearray(simple_tar(reg("one.txt", b"one\n"), reg("two.txt", b"two\n")))
    second = 1024                                    # header, one block of data, header
    assert data[second:second + 7] == b"two.txt"
    data[second + 148 + 5] ^= 0x01                   # last octal digit of the checksum
    return bytes(data)


# --------------------------------------------------------------------------
# rejected zips
# --------------------------------------------------------------------------

def make_drive_zip() -> bytes:
    return zip_of("C:/pwned.txt", b"x")


def make_crc_zip() -> bytes:
    data = zip_of("data.bin", rand(12, 1000))
    crc = struct.unpack_from("<I", data, 14)[0] ^ 0xFFFFFFFF
    value = struct.pack("<I", crc)
    return patch_zip(data, {14: value}, {16: value})


def make_encrypted_zip() -> bytes:
    data = zip_of("secret.txt", b"twelve bytes of header, then secret text\n")
    flags = struct.unpack_from("<H", data, 6)[0] | 0x0001
    value = struct.pack("<H", flags)
    return patch_zip(data, {6: value}, {8: value})


def make_name_mismatch_zip() -> bytes:
    data = zip_of("evil.txt", b"which name is it?\n")
    return patch_zip(data, {30: b"safe.txt"}, {})


def make_overlap_zip() -> bytes:
    """Fifield's full-overlap bomb: ten central entries share one local file."""
    plain = bytes(MIB)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = packer.compress(plain) + packer.flush()
    crc = zlib.crc32(plain)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, DOS_TIME, DOS_DATE,
                        crc, len(packed), len(plain), 6, 0) + b"f0.bin" + packed
    central = b""
    for i in range(10):
        name = f"f{i}.bin".encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 20, 0, 8,
                               DOS_TIME, DOS_DATE, crc, len(packed), len(plain), len(name),
                               0, 0, 0, 0, 0o100644 << 16, 0) + name
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 10, 10, len(central), len(local), 0)
    return local + central + eocd


def make_nesting_zip() -> bytes:
    data = zip_of("core.txt", b"core\n")                 # level1.zip
    for level in range(1, 6):
        data = zip_of(f"level{level}.zip", data)         # level{level+1}.zip
    return data                                          # level6.zip


def make_bomb_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        with archive.open(zinfo("zeros.bin"), "w") as out:
            chunk = bytes(MIB)
            for _ in range(32):
                out.write(chunk)
    layer = buf.getvalue()
    for depth in range(3):
        layer = zip_bytes([(zinfo(f"l{depth}_{i}.zip"), layer) for i in range(8)])
    return layer


# --------------------------------------------------------------------------
# limits and ratios
# --------------------------------------------------------------------------

def make_many() -> bytes:
    return tar_bytes([reg(f"f/{i:04d}.txt", b"x") for i in range(3000)])


def make_ratio_entry() -> bytes:
    return gz(simple_tar(reg("noise.bin", rand(13, 2 * MIB)), reg("zeros.bin", bytes(16 * MIB))))


def make_ratio_archive() -> bytes:
    zeros = bytes(256 * KIB)
    return gz(tar_bytes([reg(f"z/{i:03d}.bin", zeros) for i in range(200)]))


# --------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------

NFD_NAME = unicodedata.normalize("NFD", "caf\u00e9.txt")
LONG_NAME = "d/" + "n" * 300
LONG_PATH = "/".join(["c" * 120] * 40) + "/f.txt"

OK = "ok"
# (name, file, expect, item, note, builder)
CASES = [
    ("ok-tar", "ok.tar", OK, None, "pax tar of the standard content", ok_tar),
    ("ok-tar-gz", "ok.tar.gz", OK, None, "ok.tar, gzip", ok_tar_gz),
    ("ok-tar-bz2", "ok.tar.bz2", OK, None, "ok.tar, bzip2", lambda: bz2.compress(ok_tar())),
    ("ok-tar-xz", "ok.tar.xz", OK, None, "ok.tar, xz", lambda: xz(ok_tar())),
    ("ok-tar-zst", "ok.tar.zst", OK, None, "ok.tar, zstd", lambda: compress_with("zstd", ok_tar())),
    ("ok-tar-lz4", "ok.tar.lz4", OK, None, "ok.tar, lz4 frame", lambda: compress_with("lz4", ok_tar())),
    ("ok-zip-stored", "ok-stored.zip", OK, None, "zip, stored, unix modes and symlink", ok_zip_stored),
    ("ok-zip-deflate", "ok-deflate.zip", OK, None, "zip, deflated, unix modes and symlink",
     lambda: standard_zip(zipfile.ZIP_DEFLATED)),
    ("ok-7z", "ok.7z", OK, None, "7-Zip by bsdtar", make_7z),
    ("ok-cpio", "ok.cpio", OK, None, "cpio newc by bsdtar", make_cpio),
    ("ok-iso", "ok.iso", OK, None, "iso9660 + Rock Ridge by bsdtar; reader also lists '.' and 'bin'", make_iso),
    ("ok-xar", "ok.xar", OK, None, "xar by bsdtar, no TOC checksum", make_xar),
    ("ok-ar", "ok.a", OK, None, "ar of hello.txt and tool", make_ar),
    ("ok-deb", "ok.deb", OK, None, "ar holding control.tar.xz and data.tar.xz (nested)", make_deb),
    ("ok-rpm", "ok.rpm", OK, None, "rpm lead, empty headers, cpio.gz payload without the symlink", make_rpm),
    ("ok-cab", "ok.cab", OK, None, "uncompressed cabinet; docs\\guide.txt reads as docs/guide.txt", make_cab),
    ("ok-nested", "nested.tar.gz", OK, None, "tar.gz > zip > tar, depth 3", make_nested),
    ("ok-plain", "plain.bin", OK, None, "not an archive: kept as one file", lambda: rand(7, 4096)),
    ("ok-gz-plain", "notes.txt.gz", OK, None, "a compressed plain file, not an archive",
     lambda: gz(b"just text\n" * 50)),

    ("path-absolute", "abs.tar", "unpack.path_absolute", "/etc/pwned", "absolute path",
     lambda: simple_tar(reg("/etc/pwned", b"x"))),
    ("path-drive", "drive.zip", "unpack.path_absolute", "C:/pwned.txt", "drive letter", make_drive_zip),
    ("path-traversal", "traversal.tar", "unpack.path_traversal", "../canary/pwned", "leading ..",
     lambda: simple_tar(reg("ok.txt", b"ok\n"), reg("../canary/pwned", b"x"))),
    ("path-traversal-inner", "traversal2.tar", "unpack.path_traversal", "a/../../canary/pwned", ".. inside",
     lambda: simple_tar(reg("a/../../canary/pwned", b"x"))),
    ("path-backslash", "backslash.tar", "unpack.path_backslash", "dir\\..\\..\\pwned", "backslash separators",
     lambda: simple_tar(reg("dir\\..\\..\\pwned", b"x"))),
    ("bad-name", "badname.tar", "unpack.bad_name", "a//b", "empty component",
     lambda: simple_tar(reg("a//b", b"x"))),
    ("symlink-escape", "symlink-escape.tar", "unpack.symlink_escape", "evil", "evil -> ../../canary",
     lambda: simple_tar(symlink("evil", "../../canary"))),
    ("symlink-absolute", "symlink-abs.tar", "unpack.symlink_escape", "passwd", "passwd -> /etc/passwd",
     lambda: simple_tar(symlink("passwd", "/etc/passwd"))),
    ("symlink-write-through", "through.tar", "unpack.write_through_symlink", "d/pwned",
     "d -> sub, then d/pwned",
     lambda: simple_tar(dirent("sub"), symlink("d", "sub"), reg("d/pwned", b"x"))),
    ("hardlink-escape", "hardlink-escape.tar", "unpack.hardlink_escape", "h", "h => ../canary/x",
     lambda: simple_tar(hardlink("h", "../canary/x"))),
    ("hardlink-unseen", "hardlink-unseen.tar", "unpack.hardlink_escape", "h", "h => later.txt, before it",
     lambda: simple_tar(hardlink("h", "later.txt"), reg("later.txt", b"later\n"))),
    ("special-chr", "chardev.tar", "unpack.special_file", "null", "character device 1,3",
     lambda: simple_tar(device("null", tarfile.CHRTYPE, 1, 3))),
    ("special-fifo", "fifo.tar", "unpack.special_file", "pipe", "fifo",
     lambda: simple_tar(device("pipe", tarfile.FIFOTYPE))),
    ("type-conflict", "conflict.tar", "unpack.type_conflict", "a/b", "a/b under the file a",
     lambda: simple_tar(reg("a", b"x"), reg("a/b", b"y"))),
    ("name-utf8", "badutf8.tar", "unpack.name_invalid_utf8", "bad\\xff.txt", "raw 0xff byte (GNU tar)",
     make_badutf8),
    ("name-control", "control.tar", "unpack.name_control_char", "evil\\x0aname.txt", "newline in name",
     lambda: simple_tar(reg("evil\nname.txt", b"x"))),
    ("name-case", "case.tar", "unpack.name_collision", "readme", "README and readme",
     lambda: simple_tar(reg("README", b"upper\n"), reg("readme", b"lower\n"))),
    ("name-nfc", "nfc.tar", "unpack.name_collision", NFD_NAME, "NFC then NFD spelling of cafe.txt",
     # GNU format stores the name bytes as they are; libarchive turns pax (UTF-8) names into
     # NFC, so in a pax archive the two spellings arrive as one path (unpack.duplicate_entry).
     lambda: tar_bytes([reg("caf\u00e9.txt", b"nfc\n"), reg(NFD_NAME, b"nfd\n")],
                       tarfile.GNU_FORMAT, encoding="utf-8")),
    ("duplicate", "duplicate.tar", "unpack.duplicate_entry", "a.txt", "a.txt twice, different content",
     lambda: simple_tar(reg("a.txt", b"one\n"), reg("a.txt", b"two\n"))),
    ("git-dir", "git.tar", "unpack.git_path", ".git/config", ".git component",
     lambda: simple_tar(reg(".git/config", b"[core]\n"))),
    ("gitmodules", "gitmodules.tar", "unpack.git_path", "lib/.gitmodules", ".gitmodules component",
     lambda: simple_tar(reg("lib/.gitmodules", b'[submodule "x"]\n\tpath = x\n\turl = ../x\n'))),
    ("setuid", "setuid.tar", "unpack.setuid", "su", "mode 04755",
     lambda: simple_tar(reg("su", b"#!/bin/sh\n", 0o4755))),
    ("world-writable", "world.tar", "unpack.world_writable", "open.txt", "mode 0666",
     lambda: simple_tar(reg("open.txt", b"x", 0o666))),
    ("truncated-tar", "truncated.tar", "unpack.truncated", "big.bin", "tar cut at 5000 bytes, inside big.bin",
     lambda: big_tar()[:5000]),
    ("truncated-gz", "truncated.tar.gz", "unpack.truncated", None, "gzip stream cut in half", make_truncated_gz),
    ("crc-zip", "badcrc.zip", "unpack.checksum", "data.bin", "CRC-32 wrong in both headers", make_crc_zip),
    ("crc-gzip", "badcrc.tar.gz", "unpack.checksum", None, "gzip trailer CRC inverted", make_crc_gzip),
    ("corrupt-header", "corrupt.tar", "unpack.corrupt", None, "second tar header checksum off by one",
     make_corrupt_header),
    ("encrypted-zip", "encrypted.zip", "unpack.encrypted", "secret.txt", "encryption flag set",
     make_encrypted_zip),
    ("ok-cpio-hardlinks", "links.cpio", OK, None, "newc hardlinks, data on the last link",
     make_cpio_hardlinks),
    ("trailing-padding", "padded.tar.zst", "unpack.trailing_data", None,
     "2 MiB of zeros after the tar end, inside zstd", make_padded_zst),
    ("trailing-tar", "trailing.tar", "unpack.trailing_data", None, "garbage after the tar",
     lambda: ok_tar() + b"GARBAGE!" * 100),
    ("trailing-gz", "trailing.tar.gz", "unpack.trailing_data", None, "garbage after the gzip member",
     lambda: ok_tar_gz() + b"GARBAGE!" * 100),
    ("trailing-zip", "trailing.zip", "unpack.trailing_data", None, "garbage after the end of central directory",
     lambda: ok_zip_stored() + b"GARBAGE!" * 10),
    ("empty-tar", "empty.tar", "unpack.empty_archive", None, "only end-of-archive blocks",
     lambda: bytes(10240)),
    ("empty-zip", "empty.zip", "unpack.empty_archive", None, "end of central directory alone",
     lambda: zip_bytes([])),
    ("mismatch-zip-is-tar", "mislabelled.zip", "unpack.format_mismatch", None, "a tar named .zip", ok_tar),
    ("mismatch-targz-is-text", "mislabelled.tar.gz", "unpack.format_mismatch", None, "text named .tar.gz",
     lambda: b"plain text, not gzip\n"),
    ("zip-overlap", "overlap.zip", "unpack.zip_overlap", "f1.bin",
     "10 central entries share the local file at offset 0", make_overlap_zip),
    ("zip-name-mismatch", "namemismatch.zip", "unpack.zip_name_mismatch", "evil.txt",
     "local header says safe.txt", make_name_mismatch_zip),
    ("nesting", "nesting.zip", "unpack.nesting_too_deep", None, "6 nested zips, core.txt innermost",
     make_nesting_zip),
    ("zip-bomb-recursive", "bomb42.zip", "unpack.total_too_large", None,
     "8x8x8 x 32 MiB of zeros in 4 zip layers (16 GiB)", make_bomb_zip),
    ("limits-many", "many.tar", "unpack.too_many_entries", None, "3000 one-byte files", make_many),
    ("limits-entry", "bigentry.tar", "unpack.entry_too_large", "big.bin", "one 2 MiB file",
     lambda: simple_tar(reg("big.bin", rand(14, 2 * MIB)))),
    ("limits-total", "total.tar", "unpack.total_too_large", None, "4 x 1 MiB",
     lambda: tar_bytes([reg(f"p{i}.bin", rand(20 + i, MIB)) for i in range(4)])),
    ("limits-name", "longname.tar", "unpack.name_too_long", LONG_NAME, "a 300-byte component",
     lambda: simple_tar(reg(LONG_NAME, b"x"))),
    ("limits-path", "longpath.tar", "unpack.path_too_long", LONG_PATH, "a 4845-byte path",
     lambda: simple_tar(reg(LONG_PATH, b"x"))),
    ("ratio-entry", "ratio-entry.tar.gz", "unpack.entry_ratio", "zeros.bin",
     "2 MiB noise then 16 MiB of zeros", make_ratio_entry),
    ("ratio-archive", "ratio-archive.tar.gz", "unpack.archive_ratio", None, "200 x 256 KiB of zeros",
     make_ratio_archive),
]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTDIR", file=sys.stderr)
        return 2
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        print(f"make_archives.py: required tool(s) not found on PATH: {', '.join(missing)}", file=sys.stderr)
        return 1
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for name, file, expect, item, note, build in CASES:
        (out / file).write_bytes(build())
        index.append({"name": name, "file": file, "expect": expect, "item": item, "note": note})
    (out / "cases.json").write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
