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
  s3       cachekit save/restore --backend s3 against a private throwaway Ceph RGW
           (test/servers/start-rgw.sh, memstore, free loopback ports, own RGW_DIR; stopped
           in a finally) vs the sequential peer way: tar|zstd -o TMP && aws s3 cp TMP s3://..
           (or curl --aws-sigv4 -T), and aws s3 cp s3://.. TMP && zstd -d -c TMP | tar -x;
           TMP and restores on the disk holding --work, restores prepared like disk's
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
import datetime
import glob
import hashlib
import hmac
import http.client
import json
import mmap
import os
import random
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

TARGETS = {"save": 1.0, "cold-save": 0.6, "restore": 0.8, "s3-save": 0.7, "s3-restore": 0.6}
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


def prefault(mib):
    """Touch `mib` MiB of fresh memory and free it again. This VM hands freed memory back to
    the host shortly after it is freed (virtio-balloon free page reporting), and touching such
    memory again costs every contender ~3 us per page, at random; memory freed just now is
    reused first and is fast. So every timed command gets a just-freed pool to start from."""
    if mib <= 0:
        return
    try:
        with open("/proc/meminfo") as f:
            avail = next(int(l.split()[1]) for l in f if l.startswith("MemAvailable:")) // 1024
    except (OSError, StopIteration, ValueError):
        avail = mib * 3
    n = min(mib, avail // 3) << 20
    if n <= 0:
        return
    flags = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)
    m = mmap.mmap(-1, n, flags=flags)
    if not getattr(mmap, "MAP_POPULATE", 0):
        for off in range(0, n, mmap.PAGESIZE):
            m[off] = 1
    m.close()


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
                   or k.startswith("AWS_")  # the s3 variant passes its credentials explicitly
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


def measure(argv, out_prefix, env=None, server=None):
    """Run argv; return wall s, cpu s, peak RSS MiB, exit code; stdout/stderr kept in files.
    'other' is the CPU time other processes on the machine used meanwhile (noise); with a
    server (the s3 variant's RGW) its daemons' CPU time is reported as 'server' instead."""
    res = out_prefix + ".rusage"
    if GNU_TIME:
        full = [GNU_TIME, "-f", "%U %S %M", "-o", res, "--"] + argv
    else:
        full = [sys.executable, "-I", "-S", "-c", PY_LAUNCHER, res] + argv
    with open(out_prefix + ".out", "wb") as o, open(out_prefix + ".err", "wb") as e:
        s0 = server.cpu_s() if server else 0.0
        b0 = busy_cpu_s()
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=o, stderr=e, env=env or ENV, stdin=subprocess.DEVNULL,
                             preexec_fn=_child_prio if NICE else None)
        rc = p.wait()
        t1 = time.perf_counter()
        b1 = busy_cpu_s()
        s1 = server.cpu_s() if server else 0.0
    user = sys_ = rss_kib = 0.0
    try:
        with open(res) as f:
            last = [l for l in f.read().splitlines() if l.strip()][-1].split()
        user, sys_, rss_kib = float(last[0]), float(last[1]), float(last[2])
    except (OSError, IndexError, ValueError):
        pass
    if rc < 0:
        rc = 128 - rc
    srv = max(0.0, s1 - s0)
    r = {"wall": t1 - t0, "cpu": user + sys_, "user": user, "sys": sys_, "rss_mib": rss_kib / 1024.0, "rc": rc,
         "other": max(0.0, (b1 - b0) - (user + sys_) - srv)}
    if server:
        r["server"] = srv
    return r


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


def program_files(programs):
    """The executables and every shared library they load (per ldd), as real paths."""
    files = set()
    for prog in programs:
        path = shutil.which(prog) or (prog if os.path.exists(prog) else None)
        if not path:
            continue
        files.add(os.path.realpath(path))
        out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split("=>")
            cand = (parts[1] if len(parts) > 1 else parts[0]).split()
            if cand and cand[0].startswith("/") and os.path.exists(cand[0]):
                files.add(os.path.realpath(cand[0]))
    return sorted(files)


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


# ---------------------------------------------------------------- s3 variant: server + client
CEPH_BINS = ("radosgw", "radosgw-admin", "ceph-mon", "ceph-osd", "monmaptool", "ceph")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
S3NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class S3Mini:
    """Bookkeeping outside the timings (list, delete, a small warm-up object): SigV4 path-style
    requests with the standard library, so cleanup depends neither on cachekit nor on the
    baseline's client."""

    def __init__(self, endpoint, access_key, secret_key, bucket, region="us-east-1"):
        self.host = urllib.parse.urlsplit(endpoint).netloc
        self.ak, self.sk, self.bucket, self.region = access_key, secret_key, bucket, region

    def request(self, method, name="", query=None, body=b""):
        q = lambda x, keep="": urllib.parse.quote(x, safe="-_.~" + keep)
        path = "/" + q(self.bucket) + ("/" + q(name, "/") if name else "")
        qs = "&".join("%s=%s" % (q(k), q(v)) for k, v in sorted((query or {}).items()))
        amz = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        payload = hashlib.sha256(body).hexdigest()
        h = {"host": self.host, "x-amz-date": amz, "x-amz-content-sha256": payload}
        signed = sorted(h)
        canon = "\n".join([method, path, qs, "".join("%s:%s\n" % (k, h[k]) for k in signed), ";".join(signed),
                           payload])
        scope = "%s/%s/s3/aws4_request" % (amz[:8], self.region)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canon.encode()).hexdigest()])
        k = ("AWS4" + self.sk).encode()
        for part in (amz[:8], self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        h["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            self.ak, scope, ";".join(signed), hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest())
        conn = http.client.HTTPConnection(self.host, timeout=120)
        try:
            conn.request(method, path + ("?" + qs if qs else ""), body=body or None, headers=h)
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        if r.status >= 300 and not (method == "DELETE" and r.status == 404):
            raise RuntimeError("S3 %s %s: HTTP %d %s" % (method, name or "/", r.status, data[:200]))
        return data

    def put(self, name, body):
        self.request("PUT", name, body=body)

    def list(self, prefix):
        """[(name, size)] of every object under prefix, all pages."""
        out, token = [], None
        while True:
            q = {"list-type": "2", "prefix": prefix}
            if token:
                q["continuation-token"] = token
            root = ET.fromstring(self.request("GET", query=q))
            out += [(c.findtext(S3NS + "Key"), int(c.findtext(S3NS + "Size"))) for c in root.findall(S3NS + "Contents")]
            if root.findtext(S3NS + "IsTruncated") != "true":
                return out
            token = root.findtext(S3NS + "NextContinuationToken")

    def delete_where(self, prefix, pred=lambda name: True):
        names = [n for n, _ in self.list(prefix) if pred(n)]
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda n: self.request("DELETE", n), names))
        return len(names)


def free_port_block(n=102):
    """A base port b with b..b+n-1 free on 127.0.0.1 (S3, mon, then the OSD's range)."""
    def free(p):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return True
            except OSError:
                return False
    for _ in range(200):
        b = random.randrange(20000, 60000, 200)
        if all(free(p) for p in range(b, b + n)):
            return b
    raise RuntimeError("no free block of %d loopback ports" % n)


class RGW:
    """A private throwaway Ceph RGW (test/servers/start-rgw.sh: one mon, one memstore OSD,
    radosgw) on free loopback ports and its own RGW_DIR, so it never meets the RGW of a test
    suite running on the same machine. Stopped by stop() (main() calls it in a finally)."""

    def __init__(self, logdir):
        self.logdir = logdir
        shm = "/dev/shm"
        # state in RAM: the mon's store and the daemons' logs stay off the disk being measured
        parent = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else (os.environ.get("TMPDIR") or "/tmp")
        self.dir = os.path.join(parent, "cachekit-bench-rgw-%d" % os.getpid())
        self.pids, self.env, self.started = [], {}, False

    def start(self):
        script = os.path.join(REPO, "test", "servers", "start-rgw.sh")
        err = os.path.join(self.logdir, "rgw-start.log")
        for attempt in range(3):
            base = free_port_block()
            env = dict(os.environ, RGW_DIR=self.dir, RGW_PORT=str(base), RGW_MON_PORT=str(base + 1),
                       RGW_MS_PORT_MIN=str(base + 2), RGW_MS_PORT_MAX=str(base + 101),
                       RGW_OBJECTSTORE="memstore", RGW_BUCKET="cachekit-bench")
            self.started = True
            with open(err, "ab") as e:
                p = subprocess.run([script], env=env, stdout=subprocess.PIPE, stderr=e, stdin=subprocess.DEVNULL)
            if p.returncode == 0:
                break
            if "already in use" not in tail(err, 3) or attempt == 2:
                raise RuntimeError("start-rgw.sh failed (exit %d):\n%s" % (p.returncode, tail(err)))
        self.env = dict(l.split("=", 1) for l in p.stdout.decode().splitlines() if "=" in l)
        self.endpoint, self.bucket = self.env["S3_ENDPOINT"], self.env["S3_BUCKET"]
        self.ak, self.sk = self.env["AWS_ACCESS_KEY_ID"], self.env["AWS_SECRET_ACCESS_KEY"]
        self.region = self.env.get("AWS_REGION", "us-east-1")
        with open(self.env["RGW_PID_FILE"]) as f:
            self.pids = [int(x) for x in f.read().split()]
        self.client = S3Mini(self.endpoint, self.ak, self.sk, self.bucket, self.region)
        # The daemons detach into their own sessions (= scheduler autogroups): give those the
        # timed commands' priority, so the server side of a measurement is as protected as its client.
        if NICE:
            for pid in self.pids:
                try:
                    with open("/proc/%d/autogroup" % pid, "w") as f:
                        f.write("%d" % NICE)
                except OSError:
                    pass
        return self

    def cpu_s(self):
        tot = 0
        for pid in self.pids:
            try:
                with open("/proc/%d/stat" % pid) as f:
                    v = f.read().rsplit(")", 1)[1].split()
                tot += int(v[11]) + int(v[12])  # utime stime (all threads)
            except (OSError, IndexError, ValueError):
                pass
        return tot / HZ

    def mapped_files(self):
        """Executables and libraries the daemons map (re-read after a page-cache drop)."""
        out = set()
        for pid in self.pids:
            try:
                with open("/proc/%d/maps" % pid) as f:
                    for line in f:
                        parts = line.split(None, 5)
                        if len(parts) == 6 and parts[5].startswith("/") and not parts[5].startswith(("/dev/", "/proc/")):
                            p = parts[5].strip()
                            if os.path.isfile(p):
                                out.add(p)
            except OSError:
                pass
        return sorted(out)

    def gc(self):
        """RGW deletes the tails of large objects lazily (gc, hours later by default); memstore
        keeps them in RAM meanwhile. Process the queue now, outside any timing."""
        subprocess.run(["radosgw-admin", "-c", os.path.join(self.dir, "ceph.conf"), "gc", "process", "--include-all"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)

    def stop(self, keep_logs=False):
        if not self.started:
            return
        self.started = False
        if keep_logs:
            dst = os.path.join(self.logdir, "rgw-logs")
            os.makedirs(dst, exist_ok=True)
            for f in glob.glob(os.path.join(self.dir, "log", "*")):
                try:
                    shutil.copy(f, dst)
                except OSError:
                    pass
        p = subprocess.run([os.path.join(REPO, "test", "servers", "stop-rgw.sh")], env=dict(os.environ, RGW_DIR=self.dir),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log("rgw: %s" % p.stdout.strip().splitlines()[-1] if p.stdout.strip() else "rgw: stop-rgw.sh exited %d" % p.returncode)


def find_aws():
    """The aws CLI, or None. A pyenv shim is a bash wrapper that adds ~0.1 s per call (an
    artefact of this machine, not of the baseline): call the real script behind it."""
    p = shutil.which("aws")
    if not p:
        return None
    if "/shims/" in os.path.realpath(p) and shutil.which("pyenv"):
        r = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True)
        if r.returncode == 0 and os.access(r.stdout.strip(), os.X_OK):
            p = r.stdout.strip()
    r = subprocess.run([p, "--version"], capture_output=True, text=True, env=ENV)
    return p if r.returncode == 0 else None


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
        self.rgw = None            # s3 variant: RGW (started by main)
        self.s3_prefix = "ckbench-%d" % self.pid   # cachekit's --s3-prefix
        self.s3_base_prefix = "peers-%d/" % self.pid  # the baseline's objects
        self.s3_client = None      # "aws" or "curl" (the baseline's transfer tool)
        self.aws = None
        self.s3_warm_files = []
        # Both contenders' programs and libraries, re-read after a disk restore's cache drop.
        self.programs = program_files([self.bin, "bash", "zstd", "tar"] + ([GNU_TIME] if GNU_TIME else []))
        self.startup = None        # cold start-up of each contender (disk variant, informational)

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
    def run_cmd(self, ds, variant, op, contender, i, argv, pre=None, env=None):
        if pre:
            pre()
        prefault(self.a.prefault_mib)
        sync()
        tag = "%s.%s.%s.%s.%d" % (ds, variant, op, contender, i)
        r = measure(argv, os.path.join(self.logdir, tag), env=env, server=self.rgw if variant == "s3" else None)
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
        if ok and r["contender"] == "cachekit" and r["op"] == "save" and r["variant"] == "s3":
            o = outputs(r["out"])
            if o.get("cache-saved") != "true":
                ok, msg = False, "nothing saved (cache-saved=%r)" % o.get("cache-saved")
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
            return "%6.2f s (cpu %5.2f s, rss %4.0f MiB, %sother procs %4.2f cpu-s)%s" % (
                r["wall"], r["cpu"], r["rss_mib"], "rgw %4.2f cpu-s, " % r["server"] if "server" in r else "",
                r["other"], "" if r["rc"] == 0 else " EXIT %d" % r["rc"])
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
                # before (by us or by anything else on this disk); the inputs are re-read after,
                # and so are both contenders' programs and shared libraries: this variant compares
                # file creation, as the tmpfs one compares the pipelines, both with programs in
                # the page cache. What loading them from disk costs is measured on its own
                # (startup(): cachekit loads 19 files, the tar|zstd pipeline 12).
                def pre():
                    drop_caches()
                    warm([arch, store] + self.programs)
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
                if not on_disk:
                    # tmpfs: delete each restore before the next command, so every command starts
                    # right after a delete of the same size. This VM hands freed memory back to
                    # the host ~2 s after it is freed (virtio-balloon free page reporting); memory
                    # freed just before is fast to reuse, handed-back memory is slow to touch
                    # again. Deleting both after the pair made the second command of every pair
                    # the slow one (up to 2-3x), whichever contender it was.
                    if i == 0 and self.a.verify and res[c]["rc"] == 0:
                        self.verify(ds, variant, src_list, dest, rel, res["cachekit"]["err"] if c == "cachekit"
                                    else None, only=c)
                    rmtree(dest[c])
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
            if i == 0 and self.a.verify and on_disk:
                self.verify(ds, variant, src_list, dest, rel, res["cachekit"]["err"])
        if ok_all:
            self.add_row(ds, variant, "restore", times, cpu, rss, None)
        return rdir

    def verify(self, ds, variant, src_list, dest, rel, ck_err, only=None):
        t0 = time.time()
        for c in ((only,) if only else ("cachekit", "baseline")):
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
        if variant == "s3":
            for c in ("baseline", "cachekit"):
                srv = [r["server"] for r in self.raw if r["ds"] == ds and r["variant"] == variant and r["op"] == op
                       and r["run"] >= 0 and r["contender"] == c and "server" in r]
                row["rgw_cpu_%s_s" % c] = statistics.median(srv) if srv else 0.0
        row["cpu_ratio"] = row["cachekit_cpu_s"] / row["baseline_cpu_s"] if row["baseline_cpu_s"] > 0 else float("inf")
        # Best run against best run: noise on a shared machine only ever adds time, so this
        # shows what each side does undisturbed. Informational; PASS/MISS stays on medians.
        row["best_ratio"] = row["cachekit_min"] / row["baseline_min"] if row["baseline_min"] > 0 else float("inf")
        kind = "cold-save" if variant == "cold" else "s3-" + op if variant == "s3" else op
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
        log("  => %s %s %s: median baseline %.2f s, cachekit %.2f s, ratio %.2f (target <= %.1f; best runs %.2f), "
            "cachekit peak RSS %.0f MiB%s  %s" % (ds, variant, op, mb, mc, row["ratio"], row["target"],
                                                  row["best_ratio"], row["rss_mib"], extra, row["status"]))

    # -- s3 ------------------------------------------------------------------
    def s3_setup(self):
        """After the RGW is up: the baseline's transfer tool, its environment, a warm-up object."""
        r = self.rgw
        if self.a.s3_client in ("auto", "aws"):
            self.aws = find_aws()
            if not self.aws and self.a.s3_client == "aws":
                raise RuntimeError("--s3-client aws: no working aws CLI in PATH")
        self.s3_client = "aws" if self.aws else "curl"
        if self.s3_client == "curl" and not shutil.which("curl"):
            raise RuntimeError("the s3 variant needs the aws CLI or curl for the baseline")
        none = os.path.join(self.work, "aws-no-config")
        # the aws CLI with its defaults only (no ~/.aws): what a runner without a config gets
        self.s3_env = dict(ENV, AWS_ACCESS_KEY_ID=r.ak, AWS_SECRET_ACCESS_KEY=r.sk, AWS_DEFAULT_REGION=r.region,
                           AWS_CONFIG_FILE=os.path.join(none, "config"),
                           AWS_SHARED_CREDENTIALS_FILE=os.path.join(none, "credentials"),
                           AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="")
        if self.s3_client == "aws":
            v = subprocess.run([self.aws, "--version"], capture_output=True, text=True, env=self.s3_env)
            self.s3_client_desc = "aws s3 cp (%s, %s; defaults: multipart above 8 MiB, 8 MiB parts, 10 in flight)" % (
                self.aws, (v.stdout or v.stderr).strip().split(" ")[0])
        else:
            v = subprocess.run(["curl", "--version"], capture_output=True, text=True)
            self.s3_client_desc = ("curl --aws-sigv4, one PUT / one GET (%s)%s" % (
                v.stdout.split(" ")[1] if v.stdout else "?",
                "; aws CLI not found" if self.a.s3_client == "auto" else ""))
        r.client.put(self.s3_base_prefix + "warm", b"w" * 4096)
        self.s3_warm_files = [self.bin] + r.mapped_files()
        log("s3: RGW %s bucket %s (memstore, RGW_DIR %s, daemons %s)" % (
            r.endpoint, r.bucket, r.dir, " ".join(map(str, r.pids))))
        log("s3: baseline transfers with %s" % self.s3_client_desc)
        if self.a.s3_args.strip():
            log("s3: extra cachekit arguments: %s" % self.a.s3_args)

    def s3_ck_args(self):
        r = self.rgw
        return (["--backend", "s3", "--endpoint", r.endpoint, "--region", r.region, "--bucket", r.bucket,
                 "--access-key", r.ak, "--secret-key", r.sk, "--s3-prefix", self.s3_prefix]
                + shlex.split(self.a.s3_args))

    def s3_xfer(self, up, local, name):
        """Shell command of the baseline's upload (up) or download of one object."""
        r, q = self.rgw, shlex.quote
        if self.s3_client == "aws":
            url = "s3://%s/%s" % (r.bucket, name)
            src, dst = (local, url) if up else (url, local)
            return "%s s3 cp --only-show-errors --endpoint-url %s %s %s" % (q(self.aws), q(r.endpoint), q(src), q(dst))
        url = "%s/%s/%s" % (r.endpoint, r.bucket, urllib.parse.quote(name))
        # (no `-H "Expect:"`: curl 7.88 signs that empty header too, and RGW answers 403
        # SignatureDoesNotMatch; RGW answers the 100-continue at once)
        auth = "--aws-sigv4 %s --user %s -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD'" % (
            q("aws:amz:%s:s3" % r.region), q(r.ak + ":" + r.sk))
        if up:
            return "curl -sS --fail %s -T %s %s" % (auth, q(local), q(url))
        return "curl -sS --fail %s -o %s %s" % (auth, q(local), q(url))

    def s3_rewarm(self):
        """After a page-cache drop: bring back what both sides run (binaries, the daemons' code)
        by running each client once, untimed; the archives live in the RGW's RAM anyway."""
        warm(self.s3_warm_files)
        dn = subprocess.DEVNULL
        for argv in (["zstd", "--version"], ["tar", "--version"]):
            subprocess.run(argv, stdout=dn, stderr=dn, env=ENV)
        subprocess.run([self.bin, "ls"] + self.s3_ck_args() + ["--key", "no-such-key"], stdout=dn, stderr=dn, env=ENV)
        w = os.path.join(self.work, "s3-warm.tmp")
        subprocess.run(["bash", "-c", self.s3_xfer(False, w, self.s3_base_prefix + "warm")],
                       stdout=dn, stderr=dn, env=self.s3_env)

    def s3_forget(self, keys=(), names=()):
        """Delete objects we no longer need (memstore keeps them in RAM), then run RGW's gc."""
        c = self.rgw.client
        if keys:
            c.delete_where(self.s3_prefix + "/", lambda n: any(("/%s/" % k) in n for k in keys))
        for n in names:
            c.request("DELETE", n)
        self.rgw.gc()

    def s3_cleanup(self):
        c = self.rgw.client
        c.delete_where(self.s3_prefix + "/")
        c.delete_where(self.s3_base_prefix, lambda n: not n.endswith("/warm"))
        self.rgw.gc()

    def bench_s3_save(self, ds, ws, rel, root):
        """cachekit save --backend s3 vs tar|zstd to a temp file on disk, then upload it.
        Returns (baseline object name, cachekit key)."""
        n, warm_n = self.a.runs, (0 if self.a.smoke else self.a.warmup)
        state = os.path.join(root, "state-s3-save")
        times = {"baseline": [], "cachekit": []}
        rss, cpu = [], {"baseline": [], "cachekit": []}
        q = shlex.quote
        key = name = None
        sizes = {}
        for i in range(-warm_n, n):
            key = "bench-%s-s3-%d-%d" % (ds, i, self.pid)
            name = "%s%s-%d.tzst" % (self.s3_base_prefix, ds, i)
            tmp = os.path.join(root, "%s.s3-peer-up-%d.tzst" % (ds, i))  # deleted with root, after the dataset
            rmtree(state)
            os.makedirs(state)
            base = ["bash", "-o", "pipefail", "-c", "tar --posix -cf - -P -C %s %s | zstd -T0 -3 -q -f -o %s && %s" % (
                q(ws), q(rel), q(tmp), self.s3_xfer(True, tmp, name))]
            ck = [self.bin, "save"] + self.s3_ck_args() + ["--path", rel, "--key", key, "--workspace", ws,
                                                           "--state-dir", state]
            order = [("baseline", base), ("cachekit", ck)]
            if i % 2:
                order.reverse()
            res = {}
            for c, argv in order:
                res[c] = self.run_cmd(ds, "s3", "save", c, i, argv, env=self.s3_env if c == "baseline" else None)
            self.line(ds, "s3", "save", i, n, res["baseline"], res["cachekit"])
            okb = self.check(res["baseline"], "%s s3 save" % ds)
            okc = self.check(res["cachekit"], "%s s3 save" % ds)
            if okb:
                got = dict(self.rgw.client.list(name)).get(name)
                if got != os.path.getsize(tmp):
                    self.failures.append("%s s3 save: baseline object %s has %r bytes, temp file %d" % (
                        ds, name, got, os.path.getsize(tmp)))
                    log("  !! baseline upload incomplete: %s" % self.failures[-1])
                    okb = False
            if not (okb and okc):
                return None
            if i >= 0:
                for c in times:
                    times[c].append(res[c]["wall"])
                    cpu[c].append(res[c]["cpu"])
                rss.append(res["cachekit"]["rss_mib"])
            sizes = {"baseline": os.path.getsize(tmp), "cachekit": int(outputs(res["cachekit"]["out"]).get("cache-size") or 0)}
            if i < n - 1:
                self.s3_forget([key], [name])
        self.add_row(ds, "s3", "save", times, cpu, rss, sizes)
        return name, key

    def bench_s3_restore(self, ds, rel, root, name, key, src_list):
        """cachekit restore --backend s3 into a fresh dir on disk vs download to a temp file on
        disk, then zstd -d | tar -x. Same fairness handling as the disk variant."""
        n = self.a.runs
        pre = None
        if not self.a.smoke:
            if self.a.disk_restore_prep == "drop":
                def pre():  # see bench_restore: ext4's recently-deleted inode rule
                    drop_caches()
                    self.s3_rewarm()
            else:
                wait = self.a.settle - (time.time() - self.last_delete)
                if wait > 0:
                    log("  (waiting %.0f s after the last mass delete: ext4 recently-deleted inode effect)" % wait)
                    time.sleep(wait)
        rdir = os.path.join(root, "restore-%s-s3" % ds)
        rmtree(rdir)
        os.makedirs(rdir)
        state = os.path.join(root, "state-s3-restore")
        times = {"baseline": [], "cachekit": []}
        rss, cpu = [], {"baseline": [], "cachekit": []}
        q = shlex.quote
        ok_all = True
        for i in range(n):
            dest = {c: os.path.join(rdir, "%s-%d" % (c, i)) for c in times}
            for d in dest.values():
                os.makedirs(d)
            rmtree(state)
            os.makedirs(state)
            tmp = os.path.join(root, "%s.s3-peer-down-%d.tzst" % (ds, i))  # deleted with root
            base = ["bash", "-o", "pipefail", "-c", "%s && zstd -d -q -c %s | tar -xf - -P -C %s" % (
                self.s3_xfer(False, tmp, name), q(tmp), q(dest["baseline"]))]
            ck = [self.bin, "restore"] + self.s3_ck_args() + ["--path", rel, "--key", key, "--workspace",
                                                              dest["cachekit"], "--state-dir", state]
            order = [("baseline", base), ("cachekit", ck)]
            if i % 2:
                order.reverse()
            res = {}
            for c, argv in order:
                res[c] = self.run_cmd(ds, "s3", "restore", c, i, argv, pre, env=self.s3_env if c == "baseline" else None)
            self.line(ds, "s3", "restore", i, n, res["baseline"], res["cachekit"])
            okb = self.check(res["baseline"], "%s s3 restore" % ds)
            okc = self.check(res["cachekit"], "%s s3 restore" % ds)
            if not (okb and okc):
                ok_all = False
                break
            for c in times:
                times[c].append(res[c]["wall"])
                cpu[c].append(res[c]["cpu"])
            rss.append(res["cachekit"]["rss_mib"])
            if i == 0 and self.a.verify:
                self.verify(ds, "s3", src_list, dest, rel, res["cachekit"]["err"])
        if ok_all:
            self.add_row(ds, "s3", "restore", times, cpu, rss, None)
        return rdir

    # -- one dataset ---------------------------------------------------------
    def measure_startup(self):
        """Informational: a one-file restore from a cold page cache (programs and libraries
        not cached either), cachekit vs zstd -d | tar -x, medians of --runs. Mostly the dynamic
        loader reading each program's shared libraries; the disk restore rows leave this out."""
        root = os.path.join(self.work, "startup")
        rmtree(root)
        src = os.path.join(root, "ws", "data")
        os.makedirs(src)
        with open(os.path.join(src, "f"), "wb") as f:
            f.write(b"x" * 1000)
        ws, store, arch, state = os.path.join(root, "ws"), os.path.join(root, "store"), os.path.join(root, "a.tzst"), \
            os.path.join(root, "state")
        base_save, ck_save = self.save_cmds(ws, "data", arch, store, "startup", state)
        for argv in (base_save, ck_save):
            if subprocess.run(argv, env=ENV, capture_output=True).returncode != 0:
                self.notes.append("start-up measurement skipped: the one-file save failed")
                return
        times = {"baseline": [], "cachekit": []}
        for i in range(self.a.runs):
            dest = {c: os.path.join(root, "r-%s-%d" % (c, i)) for c in times}
            for d in dest.values():
                os.makedirs(d)
            base, ck = self.restore_cmds(dest["baseline"], dest["cachekit"], "data", arch, store, "startup", state)
            for c, argv in (("baseline", base), ("cachekit", ck)):
                drop_caches()
                warm([arch, store])
                r = measure(argv, os.path.join(self.logdir, "startup.%s.%d" % (c, i)))
                if r["rc"] != 0:
                    self.notes.append("start-up measurement: %s exited %d" % (c, r["rc"]))
                    return
                times[c].append(r["wall"])
        self.startup = {c: statistics.median(v) for c, v in times.items()}
        self.startup["files"] = {"cachekit": len(program_files([self.bin])),
                                 "baseline": len(program_files(["bash", "zstd", "tar"]))}
        log("\n== start-up from a cold page cache (one-file restore): baseline %.0f ms, cachekit %.0f ms"
            % (self.startup["baseline"] * 1000, self.startup["cachekit"] * 1000))
        rmtree(root)

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
            if "s3" in self.a.variants and self.rgw:
                r = self.bench_s3_save(ds, ws_disk, rel, disk_root)
                if r:
                    disk_rdirs.append(self.bench_s3_restore(ds, rel, disk_root, *r, src_list))
        finally:
            if "s3" in self.a.variants and self.rgw:
                try:
                    self.s3_cleanup()
                except Exception as e:  # the server is thrown away at the end anyway
                    log("  (s3 cleanup failed: %s)" % e)
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
        if "s3" in self.a.variants and self.s3_client:
            log("  s3: cachekit --backend s3 (%s) vs the sequential peer way against the same RGW: tar|zstd to a temp"
                % (" ".join(["defaults"] if not self.a.s3_args.strip() else shlex.split(self.a.s3_args))))
            log("      file on disk, then upload it / download to a temp file, then zstd -d|tar -x; transfers with")
            log("      %s" % self.s3_client_desc)
            log("      targets: save <= %.1fx, restore <= %.1fx (restores into fresh dirs on disk)"
                % (TARGETS["s3-save"], TARGETS["s3-restore"]))
        log("  base/ck cpu: median CPU seconds (user+sys) per run; cpu ratio: cachekit/baseline;")
        log("  best: fastest cachekit run / fastest baseline run (noise only adds time; informational,")
        log("        the status is on medians)")
        log("  other: median CPU seconds other processes used during one timed command (noise if > ~0.2);")
        log("         for s3 rows without the RGW's own CPU (listed below the table)")
        hdr = "%-8s %-14s %10s %10s %7s %7s %7s %8s  %-10s %8s %8s %6s %6s" % (
            "dataset", "variant", "baseline s", "cachekit s", "ratio", "best", "target", "RSS MiB", "status",
            "base cpu", "ck cpu", "cpu x", "other")
        log(hdr)
        log("-" * len(hdr))
        for r in self.results:
            log("%-8s %-14s %10.2f %10.2f %6.2fx %6.2fx %6.1fx %8.0f  %-10s %8.2f %8.2f %5.2fx %6.2f" % (
                r["dataset"], "%s-%s" % (r["variant"], r["op"]), r["baseline_s"], r["cachekit_s"], r["ratio"],
                r["best_ratio"], r["target"], r["rss_mib"], r["status"], r["baseline_cpu_s"], r["cachekit_cpu_s"],
                r["cpu_ratio"], r["other_cpu_s"]))
        for f in self.failures:
            ds_v = f.split(":")[0]
            log("%-8s %-14s %10s %10s %7s %7s %7s %8s  %-10s" % (ds_v.split()[0], "-".join(ds_v.split()[1:3]),
                                                                 "-", "-", "-", "-", "", "", "FAIL"))
        srv = [r for r in self.results if "rgw_cpu_cachekit_s" in r]
        if srv:
            log("\nRGW server CPU seconds per command (median): dataset op baseline cachekit")
            for r in srv:
                log("  %-8s %-8s %8.2f %8.2f" % (r["dataset"], r["op"], r["rgw_cpu_baseline_s"], r["rgw_cpu_cachekit_s"]))
        sizes = [r for r in self.results if "cachekit_bytes" in r]
        if sizes:
            log("\narchive sizes (last save of each variant): dataset variant baseline-MB cachekit-MB")
            for r in sizes:
                log("  %-8s %-6s %9.1f %9.1f" % (r["dataset"], r["variant"], r["baseline_bytes"] / 1e6,
                                                  r["cachekit_bytes"] / 1e6))
        if self.startup:
            log("\nstart-up from a cold page cache (one-file restore, programs not cached; informational):")
            log("  baseline %.0f ms (bash, zstd, tar: %d files with their libraries), cachekit %.0f ms (%d files);"
                % (self.startup["baseline"] * 1000, self.startup["files"]["baseline"], self.startup["cachekit"] * 1000,
                   self.startup["files"]["cachekit"]))
            log("  the disk restore rows re-read both contenders' programs after dropping the caches")
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
                       "notes": self.notes, "failures": self.failures, "startup": self.startup,
                       "s3_baseline_client": getattr(self, "s3_client_desc", None)}, f, indent=1, default=str)
        log("results: %s   logs: %s" % (path, self.logdir))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="gomod gobuild cargo pnpm")
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--variants", default=None,
                    help="tmpfs disk cold s3 (default: all; s3 only when radosgw is installed)")
    ap.add_argument("--settle", type=float, default=60.0)
    ap.add_argument("--disk-restore-prep", choices=("drop", "settle"), default=None,
                    help="before each disk restore: drop the page cache and re-read the archive "
                         "(root; default) or only wait --settle s after our last mass delete")
    ap.add_argument("--tmpfs-size", default="12g")
    ap.add_argument("--prefault-mib", type=int, default=None,
                    help="before every timed command, touch and free this much memory (0 = off; "
                         "default 2048, 0 in smoke mode)")
    ap.add_argument("--bin", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-verify", dest="verify", action="store_false")
    ap.add_argument("--strict-targets", action="store_true")
    ap.add_argument("--s3-client", choices=("auto", "aws", "curl"), default="auto",
                    help="s3 variant: the baseline's transfer tool (auto: aws CLI if installed, else curl)")
    ap.add_argument("--s3-args", default="",
                    help="s3 variant: extra cachekit arguments, e.g. '--part-size 32M --concurrency 8'")
    a = ap.parse_args()
    ceph_missing = [b for b in CEPH_BINS if not shutil.which(b)]
    if a.variants is None:
        a.variants = "tmpfs disk cold" + ("" if ceph_missing else " s3")
    a.datasets, a.variants = a.datasets.split(), a.variants.split()
    global NICE
    NICE = int(os.environ.get("CACHEKIT_BENCH_NICE", "-10")) if os.geteuid() == 0 and not a.smoke else 0
    if a.prefault_mib is None:
        a.prefault_mib = 0 if a.smoke else 2048
    if a.prefault_mib < 0:
        ap.error("--prefault-mib: expected a size in MiB >= 0 (0 = off), got %d" % a.prefault_mib)
    if a.disk_restore_prep is None:
        a.disk_restore_prep = "drop" if os.geteuid() == 0 else "settle"
    if a.disk_restore_prep == "drop" and os.geteuid() != 0:
        sys.exit("--disk-restore-prep drop needs root (drop_caches)")
    a.data, a.work, a.bin = os.path.abspath(a.data), os.path.abspath(a.work), os.path.abspath(a.bin)
    for v in a.variants:
        if v not in ("tmpfs", "disk", "cold", "s3"):
            ap.error("--variants: unknown variant %r (want tmpfs disk cold s3)" % v)
    if not os.access(a.bin, os.X_OK):
        sys.exit("cachekit binary not found or not executable: %s (build it, or set CACHEKIT_BIN)" % a.bin)
    for tool in ("tar", "zstd"):
        if not shutil.which(tool):
            sys.exit("%s is required for the baseline" % tool)
    os.makedirs(a.work, exist_ok=True)
    b = Bench(a)
    if "s3" in a.variants and ceph_missing and (a.smoke or os.geteuid() != 0):
        # as root, test/servers/start-rgw.sh installs the Debian packages itself (not in smoke mode)
        b.notes.append("s3 variant skipped: %s not installed (apt-get install radosgw ceph-mon ceph-osd "
                       "ceph-common, or run the full benchmark as root)" % " ".join(ceph_missing))
        log("note: " + b.notes[-1])
        a.variants.remove("s3")
    ver = subprocess.run([a.bin, "version"], capture_output=True, text=True, env=ENV)
    log("cachekit: %s (%s)" % (a.bin, (ver.stdout.strip() or ver.stderr.strip()).splitlines()[0] if (ver.stdout or ver.stderr) else "?"))
    log("tar: %s; zstd: %s" % (subprocess.run(["tar", "--version"], capture_output=True, text=True).stdout.splitlines()[0],
                               subprocess.run(["zstd", "--version"], capture_output=True, text=True).stdout.strip()))
    log("peak RSS via %s" % ("GNU time" if GNU_TIME else "a python3 -I -S launcher (includes ~10 MiB launcher floor)"))
    log("disk restores: %s" % ("page cache dropped, then archives and both contenders' programs and libraries "
                                 "re-read before each command (s3: the archives stay in the RGW's RAM; binaries and "
                                 "the RGW's code are re-read, each client run once)"
                                 if a.disk_restore_prep == "drop" else "wait %.0f s after mass deletes" % a.settle))
    log("priority of timed commands: %s" % ("own session/autogroup at nice %d" % NICE if NICE else "unchanged"))
    log("cores: %d; work dir %s (%s); data %s (%s); runs %d; variants %s" % (
        os.cpu_count(), a.work, fstype(a.work), a.data, fstype(a.data), a.runs, " ".join(a.variants)))
    # SIGTERM/SIGHUP unwind through the finally below like Ctrl-C: the RGW and tmpfs go away
    def _bye(signum, _frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _bye)
    try:
        if "tmpfs" in a.variants:
            b.setup_tmpfs()
            log("tmpfs: %s" % b.tmpfs)
        if "s3" in a.variants:
            t0 = time.time()
            b.rgw = RGW(b.logdir)
            try:
                if ceph_missing:
                    log("s3: installing the Ceph packages (start-rgw.sh)...")
                b.rgw.start()
                b.s3_setup()
                log("s3: RGW up in %.1f s" % (time.time() - t0))
            except Exception as e:
                b.failures.append("s3 setup: %s" % e)
                log("!! s3 variant: %s" % e)
                b.rgw.stop(keep_logs=True)
                b.rgw = None
        if "disk" in a.variants and not a.smoke and os.geteuid() == 0 and a.disk_restore_prep == "drop":
            b.measure_startup()
        for ds in a.datasets:
            b.dataset(ds)
    finally:
        b.teardown_tmpfs()
        if b.rgw:
            b.rgw.stop(keep_logs=bool(b.failures))
    b.summary()
    if b.failures:
        log("\nFAILED: %d problem(s) with cachekit" % len(b.failures))
        return 1
    if a.strict_targets and any(r["status"] != "PASS" for r in b.results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
