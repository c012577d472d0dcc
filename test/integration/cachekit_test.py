"""Shared helpers for cachekit's CLI integration tests: run the real binary, build
trees, plant crafted entries into a local store, compare trees."""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("CACHEKIT_BIN", REPO / "build" / "native" / "cachekit"))


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.outputs = {}
        for line in proc.stdout.splitlines():
            if "=" in line and not line.startswith("::"):
                k, v = line.split("=", 1)
                self.outputs[k] = v

    def __repr__(self):
        return f"rc={self.rc}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


class CachekitTestCase(unittest.TestCase):
    """Each test gets a scratch dir with a workspace, a store and a state dir."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="cachekit-it-"))
        os.chmod(self.tmp, 0o755)
        self.ws = self.tmp / "ws"
        self.ws.mkdir()
        self.store = self.tmp / "store"
        self.state = self.tmp / "state"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.tmp / "home"),
            "CACHEKIT_LOCAL_DIR": str(self.store),
            "CACHEKIT_STATE_DIR": str(self.state),
            "CACHEKIT_WORKSPACE": str(self.ws),
            "CACHEKIT_REPOSITORY": "acme/widgets",
            "CACHEKIT_REF": "refs/heads/main",
        }

    def tearDown(self):
        make_writable(self.tmp)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_ck(self, *args, env=None, user=None, check=None, timeout=300):
        e = dict(self.env)
        if env:
            e.update(env)
        cmd = [str(BIN), *args]
        if user:
            cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--", *cmd]
        proc = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=timeout)
        r = Result(proc)
        if check is not None:
            self.assertEqual(r.rc, check, r)
        return r

    def save(self, key, path="data", **kw):
        return self.run_ck("save", "--path", path, "--key", key, **kw)

    def restore(self, key, path="data", restore_keys=None, **kw):
        args = ["restore", "--path", path, "--key", key]
        if restore_keys:
            args += ["--restore-keys", "\n".join(restore_keys)]
        return self.run_ck(*args, **kw)


def make_writable(root):
    for dirpath, dirnames, _ in os.walk(root):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if not os.path.islink(p):
                os.chmod(p, 0o755)
    if os.path.isdir(root):
        os.chmod(root, 0o755)


def write(path, content, mode=None):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if mode is not None:
        os.chmod(path, mode)


def tree_listing(root):
    """(relative name, type, mode, mtime_ns, size, sha256 | link target) for every entry."""
    root = Path(root)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames) + sorted(filenames):
            p = Path(dirpath) / name
            st = os.lstat(p)
            rel = str(p.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out.append((rel, "l", os.readlink(p)))
            elif stat.S_ISDIR(st.st_mode):
                out.append((rel, "d", oct(st.st_mode & 0o7777), st.st_mtime_ns))
            else:
                out.append((rel, "f", oct(st.st_mode & 0o7777), st.st_mtime_ns, st.st_size,
                            hashlib.sha256(p.read_bytes()).hexdigest(), st.st_nlink))
    return out


def plant_entry(store, archive_bytes, key, version, repository="acme/widgets", ref="refs/heads/main",
                created_ms=None):
    """Publishes raw archive bytes as a local-backend entry (the layout of
    native/storage/local_backend.hpp), to feed crafted archives to restore."""
    sha = hashlib.sha256(archive_bytes).hexdigest()
    blob = Path(store) / "blobs" / sha[:2] / f"{sha}.tzst"
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(archive_bytes)

    def enc(s):
        return "".join(c if (c.isalnum() and c.isascii()) or c in "._-" else "%%%02X" % ord(c) for c in s)

    mdir = Path(store) / "entries" / enc(repository) / enc(ref) / version
    mdir.mkdir(parents=True, exist_ok=True)
    manifest = {"format": 1, "key": key, "version": version, "repository": repository, "ref": ref,
                "size": len(archive_bytes), "sha256": sha,
                "created_ms": created_ms or int(time.time() * 1000), "compression": "zstd-without-long"}
    (mdir / (hashlib.sha256(key.encode()).hexdigest()[:40] + ".json")).write_text(json.dumps(manifest))
    return sha


def cache_version(paths):
    return hashlib.sha256(("|".join(paths) + "|zstd-without-long|1.0").encode()).hexdigest()


def zstd_compress(data):
    return subprocess.run(["zstd", "-q", "-c", "-T0"], input=data, capture_output=True, check=True).stdout
