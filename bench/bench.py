#!/usr/bin/env python3
"""cachekit save/restore benchmark against the `tar --posix | zstd -T0 -3` baseline.

Called by bench/run.sh (see there for the options). Python 3 stdlib only.

For each dataset (a tree DATA/<ds>) and variant it measures, in the same run:
  save     cachekit save --backend local --local-dir S --path <rel> --key K --workspace WS
           vs  tar --posix -cf - -P -C WS <rel> | zstd -T0 -3 -o A.tzst
  restore  cachekit restore ... --workspace FRESH   vs  zstd -d -c A.tzst | tar -xf - -P -C FRESH
           (FRESH is a new, empty workspace: the archive members are relative
           (<rel>/...), so both create FRESH/<rel>)
Variants:
  tmpfs    tree, archives and restores in a tmpfs: pipeline/CPU efficiency
  disk     tree, archives and restores on the disk holding --work (ext4 here):
           restore cost is dominated by file creation
  cold     save from disk after `sync; echo 3 > /proc/sys/vm/drop_caches` (root)
Fairness (research/bench-baseline.md): each restore goes to a new directory,
nothing is deleted during a timed group (old trees are deleted after the
dataset, then we wait --settle seconds before the next disk-restore group,
because ext4 without a journal creates files ~10x slower right after a mass
delete), `sync` runs before every timed command (outside the timing), and the
contender that goes first alternates run by run.

Wall time: perf_counter around the launch and wait; CPU (user+sys) and peak RSS
from GNU time (or a small python launcher): rusage of the command and the
descendants it waited for, so for a pipeline the RSS is that of its largest process.

Exit status: 1 if cachekit failed (non-zero exit, restore miss) or a restored
tree differs from the source (names, types, modes, sizes, contents, link targets,
file mtimes to the second); 0 otherwise. Target misses only fail with
--strict-targets.
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

TARGETS = {"save": 1.0, "cold-save": 0.6, "restore": 0.8}
RSS_TARGET_MIB = 256


def log(msg):
    print(msg, flush=True)


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, executable="/bin/bash")


def sync():
    os.sync()


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def rmtree(p):
    if not os.path.lexists(p):
        return
    if os.path.isdir(p) and not os.path.islink(p):
        sh("chmod -R u+w -- '%s' 2>/dev/null || true" % p, check=False)
        shutil.rmtree(p)
    else:
        os.unlink(p)


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("GITHUB_") or k.startswith("RUNNER_") or k.startswith("ACTIONS_")
                   or (k.startswith("CACHEKIT_") and k not in ("CACHEKIT_BIN",)))}
    env.pop("CACHEKIT_BIN", None)
    env["LC_ALL"] = "C"
    return env


ENV = clean_env()


# Peak RSS must be measured from a SMALL launcher: a child forked (or vforked) from
# this Python process starts with this process's RSS as its high-water mark, which
# the kernel carries over exec into ru_maxrss. GNU time (package `time`) is ~1 MiB;
# the fallback is a fresh `python3 -I -S` launcher (~10 MiB floor).
GNU_TIME = next((p for p in ("/usr/bin/time",) if os.access(p, os.X_OK)), None)
PY_LAUNCHER = r"""
import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, st, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%f %f %d\n" % (ru.ru_utime, ru.ru_stime, ru.ru_maxrss))
rc = os.waitstatus_to_exitcode(st)
os._exit(rc if rc >= 0 else 128 - rc)
"""


HZ = os.sysconf("SC_CLK_TCK")


def busy_cpu_s():
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / HZ


NICE = 0


def _child_prio():
    """In the child, before exec: own session => own scheduler autogroup (with autogroups,
    nice only weighs within a group), then give that group (and the process) NICE."""
    os.setsid()
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write("%d" % NICE)
    except OSError:
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, 0, NICE)
    except OSError:
        pass


def measure(argv, out_prefix):
    """Run argv; return wall s, cpu s, peak RSS MiB, exit code; stdout/stderr kept in files.
    'other' is the CPU time other processes on the machine used meanwhile (noise)."""
    res = out_prefix + ".rusage"
    if GNU_TIME:
        full = [GNU_TIME, "-f", "%U %S %M", "-o", res, "--"] + argv
    else:
        full = [sys.executable, "-I", "-S", "-c", PY_LAUNCHER, res] + argv
    with open(out_prefix + ".out", "wb") as o, open(out_prefix + ".err", "wb") as e:
        b0 = busy_cpu_s()
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=o, stderr=e, env=ENV, stdin=subprocess.DEVNULL,
                             preexec_fn=_child_prio if NICE else None)
        rc = p.wait()
        t1 = time.perf_counter()
        b1 = busy_cpu_s()
    user = sys_ = rss_kib = 0.0
    try:
        with open(res) as f:
            last = [l for l in f.read().splitlines() if l.strip()][-1].split()
        user, sys_, rss_kib = float(last[0]), float(last[1]), float(last[2])
    except (OSError, IndexError, ValueError):
        pass
    if rc < 0:
        rc = 128 - rc
    return {"wall": t1 - t0, "cpu": user + sys_, "user": user, "sys": sys_, "rss_mib": rss_kib / 1024.0, "rc": rc,
            "other": max(0.0, (b1 - b0) - (user + sys_))}


def outputs(path):
    res = {}
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    res[k.strip()] = v
    except OSError:
        pass
    return res


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


# ---------------------------------------------------------------- tree listings
def _hash(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def listing(root):
    """path -> dict(type, mode, size, sha, link, mtime_ns, ino) for everything under root."""
    ents, files = {}, []
    for dp, dns, fns in os.walk(root):
        for n in dns + fns:
            p = os.path.join(dp, n)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            m = st.st_mode
            if os.path.stat.S_ISLNK(m):
                ents[rel] = {"type": "l", "link": os.readlink(p), "mtime_ns": st.st_mtime_ns}
            elif os.path.stat.S_ISDIR(m):
                ents[rel] = {"type": "d", "mode": "%o" % os.path.stat.S_IMODE(m)}
            elif os.path.stat.S_ISREG(m):
                ents[rel] = {"type": "f", "mode": "%o" % os.path.stat.S_IMODE(m), "size": st.st_size,
                             "mtime_ns": st.st_mtime_ns, "ino": (st.st_dev, st.st_ino), "nlink": st.st_nlink}
                files.append(rel)
            else:
                ents[rel] = {"type": "other", "mode": "%o" % m}
    with ThreadPoolExecutor(max_workers=4) as ex:
        for rel, h in zip(files, ex.map(lambda r: _hash(os.path.join(root, r)), files)):
            ents[rel]["sha"] = h
    return ents


def hardlink_groups(ents):
    g = {}
    for rel, e in ents.items():
        if e["type"] == "f" and e.get("nlink", 1) > 1:
            g.setdefault(e["ino"], []).append(rel)
    return sorted(tuple(sorted(v)) for v in g.values() if len(v) > 1)


def compare(src, dst):
    """-> (strict problems, soft notes)"""
    strict, soft = [], []
    for rel in sorted(set(src) - set(dst)):
        strict.append("missing: %s" % rel)
    for rel in sorted(set(dst) - set(src)):
        strict.append("extra: %s" % rel)
    ns_diff = 0
    for rel in sorted(set(src) & set(dst)):
        a, b = src[rel], dst[rel]
        for k in ("type", "mode", "size", "sha", "link"):
            if a.get(k) != b.get(k):
                strict.append("%s: %s %r != %r" % (rel, k, a.get(k), b.get(k)))
                break
        else:
            if a["type"] == "f" and a["mtime_ns"] // 10**9 != b["mtime_ns"] // 10**9:
                strict.append("%s: mtime %d != %d" % (rel, a["mtime_ns"], b["mtime_ns"]))
            elif a["type"] in "fl" and a["mtime_ns"] != b["mtime_ns"]:
                ns_diff += 1
    if ns_diff:
        soft.append("%d files/links differ in sub-second mtime (or symlink mtime)" % ns_diff)
    ga, gb = hardlink_groups(src), hardlink_groups(dst)
    if ga != gb:
        soft.append("hard links not preserved: source groups %d, restored %d" % (len(ga), len(gb)))
    return strict, soft


def skipped_symlinks(err_path, root):
    """Paths (relative to root) of symlinks cachekit's stderr says it did not restore."""
    out = set()
    try:
        with open(err_path, errors="replace") as f:
            for line in f:
                i = line.find("not restoring symlink ")
                if i < 0:
                    continue
                p = line[i + len("not restoring symlink "):].split(" -> ")[0].strip()
                if p.startswith(root.rstrip("/") + "/"):
                    out.add(os.path.relpath(p, root))
    except OSError:
        pass
    return out


def tree_stats(root):
    files = dirs = nbytes = 0
    seen = set()
    for dp, dns, fns in os.walk(root):
        dirs += len(dns)
        for n in fns:
            st = os.lstat(os.path.join(dp, n))
            if os.path.stat.S_ISREG(st.st_mode):
                files += 1
                if st.st_nlink > 1:
                    if st.st_ino in seen:
                        continue
                    seen.add(st.st_ino)
                nbytes += st.st_size
    return files, dirs, nbytes


def warm(paths):
    """Read files (or all files under directories) so they sit in the page cache."""
    for p in paths:
        todo = [p] if os.path.isfile(p) else [os.path.join(dp, n) for dp, _, fns in os.walk(p) for n in fns]
        for f in todo:
            with open(f, "rb") as fh:
                while fh.read(1 << 22):
                    pass


def du_bytes(p):
    tot = 0
    for dp, dns, fns in os.walk(p):
        for n in fns:
            tot += os.lstat(os.path.join(dp, n)).st_size
    return tot


def fstype(p):
    best, typ = "", "?"
    with open("/proc/mounts") as f:
        for line in f:
            dev, mnt, t = line.split()[:3]
            mnt = mnt.replace("\\040", " ")
            if (p == mnt or p.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                best, typ = mnt, t
    return typ


# ---------------------------------------------------------------- benchmark
class Bench:
    def __init__(self, a):
        self.a = a
        self.bin = a.bin
        self.work = a.work
        self.results = []          # summary rows
        self.raw = []              # every measurement
        self.failures = []
        self.notes = []
        self.last_delete = time.time()  # unknown history before us: assume just now
        self.pid = os.getpid()
        self.logdir = os.path.join(self.work, "logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.tmpfs = None
        self.mounted = False

    # -- tmpfs -------------------------------------------------------------
    def setup_tmpfs(self):
        t = os.path.join(self.work, "tmpfs")
        os.makedirs(t, exist_ok=True)
        if fstype(os.path.realpath(t)) == "tmpfs":
            self.tmpfs = t
            return
        if os.geteuid() == 0 and sh("mount -t tmpfs -o size=%s,mode=0755 tmpfs '%s'" % (self.a.tmpfs_size, t),
                                    check=False).returncode == 0:
            self.tmpfs, self.mounted = t, True
            return
        if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
            self.tmpfs = "/dev/shm/cachekit-bench-%d" % self.pid
            os.makedirs(self.tmpfs, exist_ok=True)
            return
        raise RuntimeError("no tmpfs available (not root and no writable /dev/shm)")

    def teardown_tmpfs(self):
        if not self.tmpfs:
            return
        if self.mounted:
            sh("umount '%s'" % self.tmpfs, check=False)
        else:
            rmtree(self.tmpfs)
        self.tmpfs = None

    # -- one measured command ------------------------------------------------
    def run_cmd(self, ds, variant, op, contender, i, argv, pre=None):
        if pre:
            pre()
        sync()
        tag = "%s.%s.%s.%s.%d" % (ds, variant, op, contender, i)
        r = measure(argv, os.path.join(self.logdir, tag))
        r.update(ds=ds, variant=variant, op=op, contender=contender, run=i,
                 out=os.path.join(self.logdir, tag + ".out"), err=os.path.join(self.logdir, tag + ".err"))
        self.raw.append(r)
        return r

    def check(self, r, what):
        ok = r["rc"] == 0
        msg = ""
        if ok and r["contender"] == "cachekit" and r["op"] == "restore":
            o = outputs(r["out"])
            if o.get("cache-hit") != "true":
                ok, msg = False, "no exact hit (cache-hit=%r)" % o.get("cache-hit")
        if not ok:
            self.failures.append("%s: %s exited %d %s\n%s" % (what, r["contender"], r["rc"], msg, tail(r["err"])))
            log("  !! %s: %s failed (exit %d) %s\n%s" % (what, r["contender"], r["rc"], msg, tail(r["err"])))
        return ok

    def save_cmds(self, ws, rel, arch, store, key, state):
        base = ["bash", "-o", "pipefail", "-c",
                "tar --posix -cf - -P -C '%s' '%s' | zstd -T0 -3 -q -f -o '%s'" % (ws, rel, arch)]
        ck = [self.bin, "save", "--backend", "local", "--local-dir", store, "--path", rel,
              "--key", key, "--workspace", ws, "--state-dir", state]
        return base, ck

    def restore_cmds(self, dest_b, dest_c, rel, arch, store, key, state):
        base = ["bash", "-o", "pipefail", "-c",
                "zstd -d -q -c '%s' | tar -xf - -P -C '%s'" % (arch, dest_b)]
        ck = [self.bin, "restore", "--backend", "local", "--local-dir", store, "--path", rel,
              "--key", key, "--workspace", dest_c, "--state-dir", state]
        return base, ck

    def line(self, ds, variant, op, i, n, rb, rc):
        def fmt(r):
            return "%6.2f s (cpu %5.2f s, rss %4.0f MiB, other procs %4.2f cpu-s)%s" % (
                r["wall"], r["cpu"], r["rss_mib"], r["other"], "" if r["rc"] == 0 else " EXIT %d" % r["rc"])
        lbl = "warm-up" if i < 0 else "run %d/%d" % (i + 1, n)
        log("  %-7s %-7s %-9s baseline %s | cachekit %s" % (variant, op, lbl, fmt(rb), fmt(rc)))

    # -- save ----------------------------------------------------------------
    def bench_save(self, ds, variant, ws, rel, root):
        """root: where archives and stores go. Returns (baseline archive, cachekit store, key)."""
        n, warm = self.a.runs, (0 if variant == "cold" or self.a.smoke else self.a.warmup)
        arch = os.path.join(root, "%s.base.tzst" % ds)
        state = os.path.join(root, "state-save")
        times = {"baseline": [], "cachekit": []}
        rss, cpu = [], {"baseline": [], "cachekit": []}
        store = key = None
        pre = drop_caches if variant == "cold" else None
        for i in range(-warm, n):
            store = os.path.join(root, "store-%s-%s" % (ds, i))
            key = "bench-%s-%s-%d-%d" % (ds, variant, i, self.pid)
            for p in (arch, store, state):
                rmtree(p)
            os.makedirs(store)
            os.makedirs(state)
            base, ck = self.save_cmds(ws, rel, arch, store, key, state)
            order = [("baseline", base), ("cachekit", ck)]
            if i % 2:
                order.reverse()
            res = {}
            for c, argv in order:
                res[c] = self.run_cmd(ds, variant, "save", c, i, argv, pre)
            self.line(ds, variant, "save", i, n, res["baseline"], res["cachekit"])
            okb = self.check(res["baseline"], "%s %s save" % (ds, variant))
            okc = self.check(res["cachekit"], "%s %s save" % (ds, variant))
            if okc and du_bytes(store) == 0:
                self.failures.append("%s %s save: cachekit exited 0 but wrote nothing to %s" % (ds, variant, store))
                log("  !! cachekit save wrote nothing to the store:\n" + tail(res["cachekit"]["err"]))
                okc = False
            if not (okb and okc):
                return None
            if i >= 0:
                for c in times:
                    times[c].append(res[c]["wall"])
                    cpu[c].append(res[c]["cpu"])
                rss.append(res["cachekit"]["rss_mib"])
            if i < n - 1:
                rmtree(store)
        sizes = {"baseline": os.path.getsize(arch), "cachekit": du_bytes(store)}
        self.add_row(ds, variant, "save", times, cpu, rss, sizes)
        return arch, store, key

    # -- restore -------------------------------------------------------------
    def bench_restore(self, ds, variant, rel, root, arch, store, key, src_list, on_disk):
        n = self.a.runs
        pre = None
        if on_disk and not self.a.smoke:
            if self.a.disk_restore_prep == "drop":
                # ext4 without a journal skips inodes deleted less than 60 s ago (360 s if their
                # inode-table block is dirty) when allocating, but only while that block is in the
                # buffer cache (fs/ext4/ialloc.c recently_deleted()). Dropping the caches before
                # every restore gives both contenders the same state, whatever was deleted
                # before (by us or by anything else on this disk); the inputs are re-read after.
                def pre():
                    drop_caches()
                    warm([arch, store])
            else:
                wait = self.a.settle - (time.time() - self.last_delete)
                if wait > 0:
                    log("  (waiting %.0f s after the last mass delete: ext4 recently-deleted inode effect)" % wait)
                    time.sleep(wait)
        rdir = os.path.join(root, "restore-%s-%s" % (ds, variant))
        rmtree(rdir)
        os.makedirs(rdir)
        state = os.path.join(root, "state-restore")
        times = {"baseline": [], "cachekit": []}
        rss, cpu = [], {"baseline": [], "cachekit": []}
        ok_all = True
        for i in range(n):
            dest = {c: os.path.join(rdir, "%s-%d" % (c, i)) for c in times}
            for d in dest.values():
                os.makedirs(d)
            rmtree(state)
            os.makedirs(state)
            base, ck = self.restore_cmds(dest["baseline"], dest["cachekit"], rel, arch, store, key, state)
            order = [("baseline", base), ("cachekit", ck)]
            if i % 2:
                order.reverse()
            res = {}
            for c, argv in order:
                res[c] = self.run_cmd(ds, variant, "restore", c, i, argv, pre)
            self.line(ds, variant, "restore", i, n, res["baseline"], res["cachekit"])
            okb = self.check(res["baseline"], "%s %s restore" % (ds, variant))
            okc = self.check(res["cachekit"], "%s %s restore" % (ds, variant))
            if not (okb and okc):
                ok_all = False
                break
            for c in times:
                times[c].append(res[c]["wall"])
                cpu[c].append(res[c]["cpu"])
            rss.append(res["cachekit"]["rss_mib"])
            if i == 0 and self.a.verify:
                self.verify(ds, variant, src_list, dest, rel, res["cachekit"]["err"])
            if not on_disk:  # tmpfs: no delete penalty, free the memory now
                for d in dest.values():
                    rmtree(d)
        if ok_all:
            self.add_row(ds, variant, "restore", times, cpu, rss, None)
        return rdir

    def verify(self, ds, variant, src_list, dest, rel, ck_err):
        t0 = time.time()
        for c in ("cachekit", "baseline"):
            got = os.path.join(dest[c], rel)
            if not os.path.isdir(got):
                if c == "cachekit":
                    self.failures.append("%s %s restore: %s does not exist after cachekit restore" % (ds, variant, got))
                    log("  !! cachekit restore did not create %s" % got)
                continue
            strict, soft = compare(src_list, listing(got))
            if c == "cachekit":
                # A symlink that points outside the cache paths and that cachekit says it did
                # not restore (its documented confinement rule) is reported, not failed.
                warned = skipped_symlinks(ck_err, got)
                kept = [p for p in strict if not (p.startswith("missing: ") and p[9:] in warned
                                                  and src_list.get(p[9:], {}).get("type") == "l")]
                if len(kept) < len(strict):
                    soft.append("cachekit skipped %d symlink(s) pointing outside the cache paths, with a warning "
                                "(e.g. %s)" % (len(strict) - len(kept), sorted(warned)[0]))
                    strict = kept
            if strict:
                msg = "%s %s restore: %s tree differs from the source (%d differences):\n    %s" % (
                    ds, variant, c, len(strict), "\n    ".join(strict[:12]))
                log("  !! " + msg)
                if c == "cachekit":
                    self.failures.append(msg)
                else:
                    self.notes.append(msg)
            for s in soft:
                note = "%s %s restore (%s): %s" % (ds, variant, c, s)
                if note not in self.notes:
                    self.notes.append(note)
                    log("  note: " + note)
            if not strict:
                log("  verify %s: restored tree identical to the source (names, modes, contents, mtimes)" % c)
        log("  (verification took %.1f s, not timed)" % (time.time() - t0))

    def add_row(self, ds, variant, op, times, cpu, rss, sizes):
        mb, mc = statistics.median(times["baseline"]), statistics.median(times["cachekit"])
        row = {"dataset": ds, "variant": variant, "op": op, "baseline_s": mb, "cachekit_s": mc,
               "ratio": mc / mb if mb > 0 else float("inf"),
               "baseline_cpu_s": statistics.median(cpu["baseline"]), "cachekit_cpu_s": statistics.median(cpu["cachekit"]),
               "rss_mib": max(rss), "runs": len(times["cachekit"]),
               "baseline_min": min(times["baseline"]), "baseline_max": max(times["baseline"]),
               "cachekit_min": min(times["cachekit"]), "cachekit_max": max(times["cachekit"])}
        if sizes:
            row["baseline_bytes"], row["cachekit_bytes"] = sizes["baseline"], sizes["cachekit"]
        other = [r["other"] for r in self.raw
                 if r["ds"] == ds and r["variant"] == variant and r["op"] == op and r["run"] >= 0]
        row["other_cpu_s"] = statistics.median(other) if other else 0.0
        row["cpu_ratio"] = row["cachekit_cpu_s"] / row["baseline_cpu_s"] if row["baseline_cpu_s"] > 0 else float("inf")
        kind = "cold-save" if variant == "cold" else op
        row["target"] = TARGETS[kind]
        miss = []
        if row["ratio"] > row["target"]:
            miss.append("time")
        if row["rss_mib"] > RSS_TARGET_MIB:
            miss.append("rss")
        row["status"] = "PASS" if not miss else "MISS(" + ",".join(miss) + ")"
        if self.a.smoke:
            row["status"] = "ok (smoke)"  # tiny trees: timings say nothing about the targets
        self.results.append(row)
        extra = ""
        if sizes:
            extra = ", archive %.1f MB vs %.1f MB" % (sizes["cachekit"] / 1e6, sizes["baseline"] / 1e6)
        log("  => %s %s %s: median baseline %.2f s, cachekit %.2f s, ratio %.2f (target <= %.1f), "
            "cachekit peak RSS %.0f MiB%s  %s" % (ds, variant, op, mb, mc, row["ratio"], row["target"],
                                                  row["rss_mib"], extra, row["status"]))

    # -- one dataset ---------------------------------------------------------
    def dataset(self, ds):
        src = os.path.join(self.a.data, ds)
        if not os.path.isdir(src):
            self.failures.append("dataset %s: %s does not exist (run bench/make-datasets.sh)" % (ds, src))
            log("!! dataset %s missing at %s" % (ds, src))
            return
        f, d, b = tree_stats(src)
        log("\n== %s: %d files, %d dirs, %.1f MB  (%s)" % (ds, f, d, b / 1e6, src))
        src_list = listing(src) if self.a.verify else None
        ws_disk = os.path.dirname(os.path.abspath(self.a.data))
        rel = os.path.join(os.path.basename(os.path.abspath(self.a.data)), ds)
        disk_root = os.path.join(self.work, "disk")
        os.makedirs(disk_root, exist_ok=True)
        disk_rdirs = []
        try:
            if "tmpfs" in self.a.variants:
                tws = os.path.join(self.tmpfs, "src")
                rmtree(tws)
                os.makedirs(os.path.dirname(os.path.join(tws, rel)), exist_ok=True)
                sh("cp -a '%s' '%s'" % (src, os.path.join(tws, rel)))
                troot = os.path.join(self.tmpfs, "x")
                rmtree(troot)
                os.makedirs(troot)
                r = self.bench_save(ds, "tmpfs", tws, rel, troot)
                if r:
                    self.bench_restore(ds, "tmpfs", rel, troot, *r, src_list, on_disk=False)
                rmtree(troot)
                rmtree(tws)
            if "disk" in self.a.variants:
                r = self.bench_save(ds, "disk", ws_disk, rel, disk_root)
                if r:
                    disk_rdirs.append(self.bench_restore(ds, "disk", rel, disk_root, *r, src_list, on_disk=True))
            if "cold" in self.a.variants:
                if os.geteuid() != 0:
                    self.notes.append("cold variant skipped: needs root for drop_caches")
                else:
                    self.bench_save(ds, "cold", ws_disk, rel, disk_root)
        finally:
            # mass delete outside any timing; remember when, for the next disk restore group
            t0 = time.time()
            trash = os.path.join(self.work, "trash")
            rmtree(trash)
            os.makedirs(trash)
            for p in disk_rdirs + [disk_root]:
                if os.path.lexists(p):
                    os.rename(p, os.path.join(trash, os.path.basename(p)))
            rmtree(trash)
            sync()
            self.last_delete = time.time()
            if time.time() - t0 > 1:
                log("  (cleanup took %.1f s, not timed)" % (time.time() - t0))

    # -- summary -------------------------------------------------------------
    def summary(self):
        log("\n" + "=" * 100)
        log("SUMMARY  cachekit: %s" % self.bin)
        log("  medians of %d run(s); ratio = cachekit / baseline; baseline = tar --posix | zstd -T0 -3 "
            "(save) and zstd -d | tar -x (restore)" % self.a.runs)
        log("  targets: save <= %.1fx warm, <= %.1fx cold; restore <= %.1fx; cachekit peak RSS <= %d MiB"
            % (TARGETS["save"], TARGETS["cold-save"], TARGETS["restore"], RSS_TARGET_MIB))
        log("  base/ck cpu: median CPU seconds (user+sys) per run; cpu ratio: cachekit/baseline;")
        log("  other: median CPU seconds other processes used during one timed command (noise if > ~0.2)")
        hdr = "%-8s %-14s %10s %10s %7s %7s %8s  %-10s %8s %8s %6s %6s" % (
            "dataset", "variant", "baseline s", "cachekit s", "ratio", "target", "RSS MiB", "status",
            "base cpu", "ck cpu", "cpu x", "other")
        log(hdr)
        log("-" * len(hdr))
        for r in self.results:
            log("%-8s %-14s %10.2f %10.2f %6.2fx %6.1fx %8.0f  %-10s %8.2f %8.2f %5.2fx %6.2f" % (
                r["dataset"], "%s-%s" % (r["variant"], r["op"]), r["baseline_s"], r["cachekit_s"], r["ratio"],
                r["target"], r["rss_mib"], r["status"], r["baseline_cpu_s"], r["cachekit_cpu_s"],
                r["cpu_ratio"], r["other_cpu_s"]))
        for f in self.failures:
            ds_v = f.split(":")[0]
            log("%-8s %-14s %10s %10s %7s %7s %8s  %-10s" % (ds_v.split()[0], "-".join(ds_v.split()[1:3]),
                                                             "-", "-", "-", "", "", "FAIL"))
        sizes = [r for r in self.results if "cachekit_bytes" in r]
        if sizes:
            log("\narchive sizes (last save of each variant): dataset variant baseline-MB cachekit-MB")
            for r in sizes:
                log("  %-8s %-6s %9.1f %9.1f" % (r["dataset"], r["variant"], r["baseline_bytes"] / 1e6,
                                                  r["cachekit_bytes"] / 1e6))
        npass = sum(r["status"] == "PASS" for r in self.results)
        if self.a.smoke:
            log("\nsmoke mode: tiny synthetic trees, targets not judged; checked: cachekit exit codes, "
                "hits, restored trees")
        else:
            log("\ntargets: %d PASS, %d MISS" % (npass, len(self.results) - npass))
        for n in self.notes:
            log("note: " + n)
        for f in self.failures:
            log("FAIL: " + f.splitlines()[0])
        path = os.path.join(self.work, "results.json")
        with open(path, "w") as f:
            json.dump({"bin": self.bin, "args": vars(self.a), "rows": self.results, "raw": self.raw,
                       "notes": self.notes, "failures": self.failures}, f, indent=1, default=str)
        log("results: %s   logs: %s" % (path, self.logdir))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="gomod gobuild cargo pnpm")
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--variants", default="tmpfs disk cold")
    ap.add_argument("--settle", type=float, default=60.0)
    ap.add_argument("--disk-restore-prep", choices=("drop", "settle"), default=None,
                    help="before each disk restore: drop the page cache and re-read the archive "
                         "(root; default) or only wait --settle s after our last mass delete")
    ap.add_argument("--tmpfs-size", default="12g")
    ap.add_argument("--bin", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-verify", dest="verify", action="store_false")
    ap.add_argument("--strict-targets", action="store_true")
    a = ap.parse_args()
    a.datasets, a.variants = a.datasets.split(), a.variants.split()
    global NICE
    NICE = int(os.environ.get("CACHEKIT_BENCH_NICE", "-10")) if os.geteuid() == 0 and not a.smoke else 0
    if a.disk_restore_prep is None:
        a.disk_restore_prep = "drop" if os.geteuid() == 0 else "settle"
    if a.disk_restore_prep == "drop" and os.geteuid() != 0:
        sys.exit("--disk-restore-prep drop needs root (drop_caches)")
    a.data, a.work, a.bin = os.path.abspath(a.data), os.path.abspath(a.work), os.path.abspath(a.bin)
    for v in a.variants:
        if v not in ("tmpfs", "disk", "cold"):
            sys.exit("unknown variant %r (want tmpfs disk cold)" % v)
    if not os.access(a.bin, os.X_OK):
        sys.exit("cachekit binary not found or not executable: %s (build it, or set CACHEKIT_BIN)" % a.bin)
    for tool in ("tar", "zstd"):
        if not shutil.which(tool):
            sys.exit("%s is required for the baseline" % tool)
    os.makedirs(a.work, exist_ok=True)
    b = Bench(a)
    ver = subprocess.run([a.bin, "version"], capture_output=True, text=True, env=ENV)
    log("cachekit: %s (%s)" % (a.bin, (ver.stdout.strip() or ver.stderr.strip()).splitlines()[0] if (ver.stdout or ver.stderr) else "?"))
    log("tar: %s; zstd: %s" % (subprocess.run(["tar", "--version"], capture_output=True, text=True).stdout.splitlines()[0],
                               subprocess.run(["zstd", "--version"], capture_output=True, text=True).stdout.strip()))
    log("peak RSS via %s" % ("GNU time" if GNU_TIME else "a python3 -I -S launcher (includes ~10 MiB launcher floor)"))
    log("disk restores: %s" % ("page cache dropped and archives re-read before each command"
                                 if a.disk_restore_prep == "drop" else "wait %.0f s after mass deletes" % a.settle))
    log("priority of timed commands: %s" % ("own session/autogroup at nice %d" % NICE if NICE else "unchanged"))
    log("cores: %d; work dir %s (%s); data %s (%s); runs %d; variants %s" % (
        os.cpu_count(), a.work, fstype(a.work), a.data, fstype(a.data), a.runs, " ".join(a.variants)))
    try:
        if "tmpfs" in a.variants:
            b.setup_tmpfs()
            log("tmpfs: %s" % b.tmpfs)
        for ds in a.datasets:
            b.dataset(ds)
    finally:
        b.teardown_tmpfs()
    b.summary()
    if b.failures:
        log("\nFAILED: %d problem(s) with cachekit" % len(b.failures))
        return 1
    if a.strict_targets and any(r["status"] != "PASS" for r in b.results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
