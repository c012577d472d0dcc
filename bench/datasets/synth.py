#!/usr/bin/env python3
"""Tiny SYNTHETIC versions of the benchmark datasets, for smoke tests.

Usage: synth.py OUTDIR DATASET        (DATASET: gomod gobuild cargo pnpm)

Same shapes as the real trees that make-datasets.sh builds, at ~1/20 of the size
(a few hundred to ~1500 files and 3-15 MB each), deterministic (seeded), no
package installs, well under 10 s for all four:
  gomod    cache/download/<mod>/@v/{list,.info,.mod,.zip,.ziphash,.lock}, sumdb,
           <mod>@<ver>/ source trees with files 0444 and dirs 0555, `!`-escaped names
  gobuild  00..ff/<hash>-a (175-byte action entries) and <hash>-d outputs (half
           tiny, some 16 KB..2 MB object-like archives), README, trim.txt
  cargo    cargo-home/registry/{index,cache,src} (gzip'd .crate files, sources,
           an empty .cargo-ok, a non-ASCII file name) + target/debug with a
           hard-linked binary, a relative symlink, 0755 executables, an empty dir
  pnpm     v11/files/xx/<hash> (names > 100 chars, some `-exec` 0755) + index.db
           + v11/projects/<hash>: an absolute symlink to the (absent) project dir
All mtimes are pinned to 2024-01-01 00:00:00.123456789 UTC.
"""
import gzip
import hashlib
import io
import os
import random
import sys
import tarfile

MTIME_NS = 1704067200 * 10**9 + 123456789

WORDS = """package import func return if else for range var const type struct
interface map chan go defer select case switch break continue default nil err
error string int int64 uint8 byte bool true false fmt Println Errorf context
Context ctx http Request Response json Marshal Unmarshal io Reader Writer os
File Open Close sync Mutex Lock Unlock len cap append make new self impl fn pub
let mut match Some None Ok Err Result Option Vec String usize u32 i64 where trait
use crate mod struct enum async await Box Arc clone unwrap expect const static
export default function require module exports Promise then catch async props
useState useEffect React component return null undefined object Array Map Set
""".split()


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        # a 256 KiB "source-like" corpus: files take slices of it, perturbed
        toks = self.r.choices(WORDS, k=48000)
        lines, cur = [], []
        for i, t in enumerate(toks):
            cur.append(t)
            if len(cur) >= self.r.randint(3, 12):
                lines.append("\t" * self.r.randint(0, 3) + " ".join(cur))
                cur = []
        self.corpus = ("\n".join(lines) + "\n").encode()

    def text(self, n):
        if n <= 0:
            return b""
        out = bytearray()
        while len(out) < n:
            off = self.r.randrange(0, len(self.corpus) - 4096)
            out += self.corpus[off:off + self.r.randint(512, 4096)]
            out += ("// %08x\n" % self.r.getrandbits(32)).encode()
        return bytes(out[:n])

    def binary(self, n):
        """object-file-like: ~half incompressible, half structured."""
        out = bytearray()
        while len(out) < n:
            k = self.r.randint(256, 8192)
            if self.r.random() < 0.5:
                out += self.r.randbytes(k)
            else:
                out += (b"\x00" * 16 + self.r.randbytes(16)) * (k // 32)
        return bytes(out[:n])

    def hexname(self, n=64):
        return "%0*x" % (n, self.r.getrandbits(4 * n))


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)


def pin_mtimes(root):
    for dp, dns, fns in os.walk(root, topdown=False):
        for n in fns + dns:
            os.utime(os.path.join(dp, n), ns=(MTIME_NS, MTIME_NS), follow_symlinks=False)
    os.utime(root, ns=(MTIME_NS, MTIME_NS))


def make_zip_bytes(g, files):
    import zipfile
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            zi = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return bio.getvalue()


def gomod(out):
    g = Gen(1)
    mods = []
    for i in range(24):
        host = ["github.com", "golang.org/x", "google.golang.org", "go.uber.org", "gopkg.in"][i % 5]
        name = "%s/%s%d" % (host, ["Azure", "BurntSushi", "spf13", "grpc", "yaml"][i % 5], i)
        esc = "".join("!" + c.lower() if c.isupper() else c for c in name)
        mods.append((esc, "v1.%d.%d" % (i, i * 3 % 7)))
    dl = os.path.join(out, "cache/download")
    write(os.path.join(out, "cache/lock"), b"")
    ro_dirs = []
    for esc, ver in mods:
        root = os.path.join(out, "%s@%s" % (esc, ver))
        files = []
        nf = g.r.randint(25, 70)
        for j in range(nf):
            sub = ["", "internal/", "cmd/tool/", "pkg/util/", "testdata/"][j % 5]
            fname = "%sfile%d%s" % (sub, j, [".go", "_test.go", ".go", ".md", ".txt"][j % 5])
            size = int(g.r.lognormvariate(8.0, 1.0))  # median ~3 KB
            data = g.text(min(size, 400000))
            files.append((fname, data))
            write(os.path.join(root, fname), data, 0o444)
        write(os.path.join(root, "go.mod"), ("module %s\n\ngo 1.19\n" % esc).encode(), 0o444)
        files.append(("go.mod", ("module %s\n\ngo 1.19\n" % esc).encode()))
        for dp, dns, _ in os.walk(root):
            ro_dirs.append(dp)
        v = os.path.join(dl, esc, "@v")
        write(os.path.join(v, "list"), ("v1.0.0\n%s\n" % ver).encode())
        for vv in ("v1.0.0", ver):
            write(os.path.join(v, vv + ".info"), ('{"Version":"%s","Time":"2023-03-01T12:00:00Z"}' % vv).encode())
            write(os.path.join(v, vv + ".mod"), ("module %s\n\ngo 1.19\n" % esc).encode())
        z = make_zip_bytes(g, [("%s@%s/%s" % (esc, ver, n), d) for n, d in files])
        write(os.path.join(v, ver + ".zip"), z)
        h = hashlib.sha256(z).digest()
        import base64
        write(os.path.join(v, ver + ".ziphash"), ("h1:" + base64.b64encode(h).decode()).encode())
        write(os.path.join(v, ver + ".lock"), b"")
        write(os.path.join(dl, "sumdb/sum.golang.org/lookup", "%s@%s" % (esc, ver)),
              ("%d\n%s %s h1:%s=\n" % (g.r.randint(1, 10**7), esc, ver, g.hexname(43))).encode())
    for lvl in range(3):
        write(os.path.join(dl, "sumdb/sum.golang.org/tile/8/%d/000" % lvl), g.r.randbytes(8192))
    pin_mtimes(out)
    for d in sorted(ro_dirs, key=len, reverse=True):
        os.chmod(d, 0o555)
        os.utime(d, ns=(MTIME_NS, MTIME_NS))


def gobuild(out):
    g = Gen(2)
    write(os.path.join(out, "README"), b"This directory holds cached build artifacts from the Go build system.\n")
    write(os.path.join(out, "trim.txt"), b"1704067200\n")
    for i in range(300):
        a, d = g.hexname(), g.hexname()
        sub = os.path.join(out, a[:2])
        kind = g.r.random()
        if kind < 0.5:
            data = g.text(g.r.randint(50, 2000))
        elif kind < 0.96:
            data = g.binary(g.r.randint(16 * 1024, 64 * 1024))
        else:
            data = g.binary(g.r.randint(200 * 1024, 1024 * 1024))
        write(os.path.join(sub, a + "-a"),
              ("v1 %s %s %20d 1704067200123456789\n" % (a, d, len(data))).encode()[:175].ljust(175, b" "))
        write(os.path.join(out, d[:2], d + "-d"), data)
        if i % 3 == 0:  # extra action-only entries, as in real caches
            b = g.hexname()
            write(os.path.join(out, b[:2], b + "-a"), ("v1 %s %s %20d 1704067200123456789\n" % (b, d, len(data))).encode())
    pin_mtimes(out)


def cargo(out):
    g = Gen(3)
    reg = "index.crates.io-1949cf8c6b5b557f"
    home = os.path.join(out, "cargo-home/registry")
    for i in range(30):
        name, ver = "crate%s%d" % ("_abcdefghij"[i % 11], i), "1.%d.%d" % (i % 7, i)
        pre = name[:2] + "/" + name[2:4]
        lines = "".join('{"name":"%s","vers":"1.%d.0","deps":[],"cksum":"%s","features":{},"yanked":false}\n'
                        % (name, k, g.hexname()) for k in range(g.r.randint(5, 60)))
        write(os.path.join(home, "index", reg, ".cache", pre, name), b"\x03\x00" + lines.encode())
        src = os.path.join(home, "src", reg, "%s-%s" % (name, ver))
        members = []
        for j in range(g.r.randint(8, 40)):
            rel = ["src/lib.rs", "src/mod%d.rs" % j, "tests/t%d.rs" % j, "benches/b%d.rs" % j][j % 4] if j else "Cargo.toml"
            data = g.text(int(g.r.lognormvariate(7.7, 1.1)))
            write(os.path.join(src, rel), data)
            members.append((rel, data))
        if i == 0:
            write(os.path.join(src, "tests/data/ünïcode name.txt"), "héllo wörld\n".encode())
        write(os.path.join(src, ".cargo-ok"), b"")
        bio = io.BytesIO()
        with gzip.GzipFile(fileobj=bio, mode="wb", mtime=0) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as t:
                for rel, data in members:
                    ti = tarfile.TarInfo("%s-%s/%s" % (name, ver, rel))
                    ti.size, ti.mtime = len(data), 1704067200
                    t.addfile(ti, io.BytesIO(data))
        write(os.path.join(home, "cache", reg, "%s-%s.crate" % (name, ver)), bio.getvalue())
    tgt = os.path.join(out, "target")
    write(os.path.join(tgt, "CACHEDIR.TAG"), b"Signature: 8a477f597d28d172789f06886806bc55\n")
    write(os.path.join(tgt, "debug/.cargo-lock"), b"")
    os.makedirs(os.path.join(tgt, "debug/examples"), exist_ok=True)  # empty dir, as cargo leaves it
    for i in range(60):
        h = g.hexname(16)
        base = "crate%d-%s" % (i, h)
        fp = os.path.join(tgt, "debug/.fingerprint", base)
        write(os.path.join(fp, "lib-crate%d" % i), g.hexname(16).encode())
        write(os.path.join(fp, "lib-crate%d.json" % i), g.text(600))
        write(os.path.join(fp, "dep-lib-crate%d" % i), g.binary(200))
        write(os.path.join(tgt, "debug/deps", "libcrate%d-%s.rlib" % (i, h)), g.binary(g.r.randint(20000, 400000)))
        write(os.path.join(tgt, "debug/deps", "libcrate%d-%s.rmeta" % (i, h)), g.binary(g.r.randint(5000, 100000)))
        write(os.path.join(tgt, "debug/deps", "crate%d-%s.d" % (i, h)), g.text(800))
        if i % 10 == 0:
            bd = os.path.join(tgt, "debug/build", "crate%d-%s" % (i, h))
            write(os.path.join(bd, "build-script-build"), g.binary(300000), 0o755)
            write(os.path.join(bd, "output"), b"cargo:rerun-if-changed=build.rs\n")
    app = os.path.join(tgt, "debug/deps/cachekit-bench-app-0123456789abcdef")
    write(app, g.binary(3 * 1024 * 1024), 0o755)
    os.link(app, os.path.join(tgt, "debug/cachekit-bench-app"))  # cargo hard-links the final binary
    write(os.path.join(tgt, "debug/cachekit-bench-app.d"), g.text(500))
    os.symlink("deps/cachekit-bench-app-0123456789abcdef", os.path.join(tgt, "debug/app-link"))
    pin_mtimes(out)


def pnpm(out):
    g = Gen(4)
    for i in range(1400):
        h = g.hexname(128)
        ex = g.r.random() < 0.03
        name = h[2:] + ("-exec" if ex else "")
        size = int(g.r.lognormvariate(6.5, 1.4))
        write(os.path.join(out, "v11/files", h[:2], name), g.text(min(size, 300000)), 0o755 if ex else 0o644)
    write(os.path.join(out, "v11/index.db"), g.binary(1024 * 1024))
    # pnpm registers each project that uses the store as an absolute symlink (dangling
    # on another machine), exactly like the real store make-datasets.sh builds
    os.makedirs(os.path.join(out, "v11/projects"))
    os.symlink("/home/runner/work/app/app", os.path.join(out, "v11/projects", g.hexname(32)))
    pin_mtimes(out)


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in ("gomod", "gobuild", "cargo", "pnpm"):
        sys.exit("usage: synth.py OUTDIR gomod|gobuild|cargo|pnpm")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    globals()[sys.argv[2]](out)


if __name__ == "__main__":
    main()
