#!/usr/bin/env python3
# Generates, deterministically, the file tree of a synthetic vendor software release (v1) and
# its patch release (v2: the same tree with 2% of the files, spread over all sizes, rewritten).
# usage: scripts/bench/gen_tree.py V1_DIR V2_DIR [--mib N] [--seed S]
#   About N MiB (default 1024) in a few thousand files: 25% of the bytes in small files
#   (4-64 KiB, text and binary), 35% in medium binaries (1-8 MiB), 40% in a few large images
#   (32-128 MiB); compressible about 2-3x. V2_DIR's unchanged files are hard links into V1_DIR.
#   Prints one line: files=F dirs=D bytes=B changed=C changed_bytes=CB.
import argparse
import hashlib
import os
import random
import sys

KIB = 1 << 10
MIB = 1 << 20
V1_TIME = 1704067200  # 2024-01-01: every file's mtime, so that packing is reproducible
V2_TIME = 1706745600  # 2024-02-01

SYLLABLES = ("ab ac ad al am an ar as at ba be bi bo ca ce co cu da de di do du el em en er "
             "es ex fa fe fi fo ga ge go ha he hi ho ic id il im in io ir is it ka ke ki ko "
             "la le li lo lu ma me mi mo mu na ne ni no nu ob od ol om on op or os ot pa pe "
             "pi po pu qu ra re ri ro ru sa se si so su ta te ti to tu ul um un ur us va ve "
             "vi vo xa xe yo za ze zo").split()

# Binary headers: what a real file of that kind starts with (never an archive's magic).
HEADERS = {
    "elf": b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x03\x00\x3e\x00\x01\x00\x00\x00",
    "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "mo": b"\xde\x12\x04\x95\x00\x00\x00\x00",
    "pyc": b"\xa7\x0d\x0d\x0a\x00\x00\x00\x00",
    "img": b"VNDRIMG1",
    "dat": b"VNDRDAT1",
}
TEXT_COMMENT = {".h": "//", ".py": "#", ".txt": "#", ".md": "<!--", ".html": "<!--",
                ".json": "//", ".xml": "<!--", ".conf": "#", ".yaml": "#", ".1": '.\\"'}


def word(rng, lo=1, hi=3):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(lo, hi)))


def make_corpus(rng, size):
    """Source-code-like text lines over a small vocabulary (gzip: about 3-4x)."""
    words = sorted({word(rng, 1, 4) for _ in range(1200)})
    templates = (
        "{i}{a} = {b}({c}, {n});",
        "{i}if ({a} != {b}) return {c}_{d};",
        "{i}/* {a} {b} {c} {d} {e} */",
        "{i}static int {a}_{b}(struct {c} *{d}, size_t {e});",
        "{i}for (i = 0; i < {n}; ++i) {a}[i] = {b}[i] + {c};",
        "{i}# {a} {b} {c} {d}: {e} {a} {n}",
        "{i}<{a} {b}=\"{n}\">{c} {d}</{a}>",
        "{i}\"{a}_{b}\": {{\"{c}\": {n}, \"{d}\": \"{e}\"}},",
        "{i}{a}.{b} = {n}",
    )
    lines, total = [], 0
    while total < size:
        t = rng.choice(templates)
        line = t.format(i="    " * rng.randint(0, 3), a=rng.choice(words), b=rng.choice(words),
                        c=rng.choice(words), d=rng.choice(words), e=rng.choice(words),
                        n=rng.randint(0, 4096))
        lines.append(line)
        total += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


class Content:
    """File contents from per-file seeds: the same (path, release) gives the same bytes."""

    def __init__(self, seed, corpus):
        self.seed = seed
        self.corpus = corpus
        self.wrapped = memoryview(corpus + corpus)

    def rng(self, path, release):
        h = hashlib.sha256(f"{self.seed}:{release}:{path}".encode()).digest()
        return random.Random(int.from_bytes(h[:8], "little"))

    def text(self, rng, n):
        off = rng.randrange(len(self.corpus))
        return self.wrapped[off:off + n]

    def chunks(self, path, size, kind, release):
        """Yields the file's bytes in pieces of at most 64 KiB."""
        rng = self.rng(path, release)
        if kind == "text":
            ext = os.path.splitext(path)[1]
            head = f"{TEXT_COMMENT.get(ext, '#')} {path} (release {release})\n".encode()
        else:
            build_id = hashlib.sha256(f"{path}:{release}".encode()).digest()
            head = HEADERS[kind] + build_id + f"{path} {release}\0".encode()
        head = head[:size]
        yield head
        left = size - len(head)
        while left > 0:
            n = min(left, rng.randint(4 * KIB, 64 * KIB))
            if kind == "text":
                yield self.text(rng, n)
            else:  # code and data (random), string tables (text), padding and tables (repeats)
                r = rng.random()
                if r < 0.25:
                    yield rng.randbytes(n)
                elif r < 0.78:
                    yield self.text(rng, n)
                else:
                    unit = rng.randbytes(rng.randint(1, 512))
                    yield (unit * (n // len(unit) + 1))[:n]
            left -= n


def sizes(rng, budget, lo, hi):
    out = []
    while budget >= lo or (not out and budget > 0):
        s = min(rng.randint(lo, hi), budget)
        out.append(s)
        budget -= s
    return out


def unique(path, taken):
    base, ext = os.path.splitext(path)
    n = 1
    while path in taken:
        n += 1
        path = f"{base}-{n}{ext}"
    taken.add(path)
    return path


def layout(rng, total):
    """(path, size, kind, mode) of every file of the release."""
    pkgs = sorted({word(rng, 2, 3) for _ in range(40)})
    mods = {p: sorted({"/".join(word(rng, 1, 2) for _ in range(rng.randint(1, 3)))
                       for _ in range(6)}) for p in pkgs}
    langs = ["de", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt_br", "ru", "sv", "zh_cn"]
    taken, files = set(), []

    def add(path, size, kind, mode=0o644):
        files.append((unique(path, taken), size, kind, mode))

    for i, s in enumerate(sizes(rng, total * 40 // 100, 32 * MIB, 128 * MIB)):
        add(rng.choice([f"images/{word(rng)}-{i}.img", f"firmware/{word(rng)}/fw-{i}.bin",
                        f"data/models/{word(rng)}-{i}.pak"]), s, "img")
    for s in sizes(rng, total * 35 // 100, 1 * MIB, 8 * MIB):
        p = rng.choice(pkgs)
        r = rng.random()
        if r < 0.3:
            add(f"bin/{p}-{word(rng)}", s, "elf", 0o755)
        elif r < 0.7:
            add(f"lib/lib{p}{word(rng)}.so.{rng.randint(1, 9)}", s, "elf")
        elif r < 0.85:
            add(f"lib/{p}/plugins/lib{word(rng)}.so", s, "elf")
        else:
            add(f"share/{p}/data/{word(rng)}.dat", s, "dat")
    for s in sizes(rng, total * 25 // 100, 4 * KIB, 64 * KIB):
        p, w = rng.choice(pkgs), word(rng)
        r = rng.random()
        if r < 0.18:
            add(f"include/{p}/{rng.choice(mods[p])}/{w}.h", s, "text")
        elif r < 0.33:
            add(f"python/{p}/{rng.choice(mods[p])}/{w}.py", s, "text")
        elif r < 0.41:
            add(f"share/doc/{p}/{w}{rng.choice(['.txt', '.md', '.html'])}", s, "text")
        elif r < 0.47:
            add(f"etc/{p}/{w}{rng.choice(['.conf', '.json', '.xml', '.yaml'])}", s, "text")
        elif r < 0.50:
            add(f"share/man/man1/{w}.1", s, "text")
        elif r < 0.62:
            add(f"share/locale/{rng.choice(langs)}/LC_MESSAGES/{p}-{w}.mo", s, "mo")
        elif r < 0.77:
            add(f"python/{p}/{rng.choice(mods[p])}/__pycache__/{w}.cpython-311.pyc", s, "pyc")
        elif r < 0.89:
            add(f"share/icons/{p}/{rng.choice([16, 32, 48, 64, 128])}/{w}.png", s, "png")
        else:
            add(f"share/{p}/data/{w}.dat", s, "dat")
    return files


def write(content, root, path, size, kind, mode, release, mtime):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), mode=0o755, exist_ok=True)
    with open(full, "wb") as f:
        for c in content.chunks(path, size, kind, release):
            f.write(c)
    os.chmod(full, mode)
    os.utime(full, (mtime, mtime))


def finish_dirs(root, mtime):
    for d, _, _ in os.walk(root):
        os.chmod(d, 0o755)
        os.utime(d, (mtime, mtime))


def main():
    ap = argparse.ArgumentParser(description="synthetic vendor release v1 and v2 file trees")
    ap.add_argument("v1")
    ap.add_argument("v2")
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    for d in (a.v1, a.v2):
        if os.path.exists(d):
            sys.exit(f"gen_tree: {d} exists")

    rng = random.Random(a.seed)
    content = Content(a.seed, make_corpus(rng, 4 * MIB))
    files = layout(rng, a.mib * MIB)

    for path, size, kind, mode in files:
        write(content, a.v1, path, size, kind, mode, "1.0.0", V1_TIME)

    # 2% of the files by count, evenly spaced over the files sorted by size.
    by_size = sorted(files, key=lambda f: (f[1], f[0]))
    n = max(1, round(len(files) * 0.02))
    changed = {by_size[int((k + 0.5) * len(files) / n)][0] for k in range(n)}
    changed_bytes = 0
    for path, size, kind, mode in files:
        if path in changed:
            write(content, a.v2, path, size, kind, mode, "1.0.1", V2_TIME)
            changed_bytes += size
        else:
            os.makedirs(os.path.dirname(os.path.join(a.v2, path)), mode=0o755, exist_ok=True)
            os.link(os.path.join(a.v1, path), os.path.join(a.v2, path))
    finish_dirs(a.v1, V1_TIME)
    finish_dirs(a.v2, V2_TIME)

    dirs = sum(1 for _ in os.walk(a.v1)) - 1
    print(f"files={len(files)} dirs={dirs} bytes={sum(f[1] for f in files)} "
          f"changed={len(changed)} changed_bytes={changed_bytes}")


if __name__ == "__main__":
    main()
