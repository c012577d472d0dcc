"""The github backend (GitHub Actions cache service v2) and the GitHub-cache fallback, driving
the real binary against the test/gha double + Azurite, a real Ceph RGW, and small broken S3
servers in this process. Interop with GitHub's own client through test/gha/official-client.mjs
(@actions/cache 6.3.0). Run through run.sh, which starts the servers and sets:
  ACTIONS_RESULTS_URL ACTIONS_RUNTIME_TOKEN CACHEKIT_GHA_CONTROL_URL   the double (test/gha/README.md)
  S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY S3_BUCKET       the RGW
  CACHEKIT_BIN                                                        the binary under test
The double keeps one global entry table: tests run one at a time, each after POST /reset."""
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))
from cachekit_test import BIN, Result, make_writable, write  # noqa: E402

RESULTS_URL = os.environ.get("ACTIONS_RESULTS_URL", "")
TOKEN = os.environ.get("ACTIONS_RUNTIME_TOKEN", "")
CONTROL = os.environ.get("CACHEKIT_GHA_CONTROL_URL", "")
S3_ENDPOINT = os.environ.get("S3_ENDPOINT", "")
AK = os.environ.get("AWS_ACCESS_KEY_ID", "")
SK = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
BUCKET = os.environ.get("S3_BUCKET", "")
OFFICIAL = ROOT / "test" / "gha" / "official-client.mjs"
MiB = 1 << 20


def control(path, body=None, method=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(CONTROL + path.lstrip("/"), data=data,
                                 method=method or ("POST" if data is not None else "GET"),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def requests(method=None, kind=None):
    q = "&".join(f"{k}={v}" for k, v in (("method", method), ("kind", kind)) if v)
    return control("requests" + ("?" + q if q else ""))["requests"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listing(root):
    """(relative name, kind, mode, size, sha256 | link target) of everything under root."""
    root = Path(root)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames) + sorted(filenames):
            p = Path(dirpath) / name
            st = os.lstat(p)
            rel = str(p.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out.append((rel, "l", os.readlink(p)))
            elif stat.S_ISDIR(st.st_mode):
                out.append((rel, "d", oct(st.st_mode & 0o777)))
            else:
                out.append((rel, "f", oct(st.st_mode & 0o777), st.st_size, hashlib.sha256(p.read_bytes()).hexdigest()))
    return sorted(out)


class BrokenS3:
    """An 'S3' on 127.0.0.1 that always answers 500, or accepts and never answers (stall)."""

    def __init__(self, mode):
        self.mode = mode
        self.hits = 0
        if mode == "500":
            outer = self

            class H(BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"

                def log_message(self, *a):
                    pass

                def handle_any(self):
                    outer.hits += 1
                    n = int(self.headers.get("Content-Length") or 0)
                    if n:
                        self.rfile.read(n)
                    body = b"<Error><Code>InternalError</Code><Message>boom</Message></Error>"
                    self.send_response(500)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

                do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_any

            self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
            self.port = self.server.server_address[1]
            threading.Thread(target=self.server.serve_forever, daemon=True).start()
        else:
            self.sock = socket.socket()
            self.sock.bind(("127.0.0.1", 0))
            self.sock.listen(64)
            self.port = self.sock.getsockname()[1]
            self.held = []
            self.stop = False

            def accept():
                while not self.stop:
                    try:
                        c, _ = self.sock.accept()
                    except OSError:
                        return
                    self.hits += 1
                    self.held.append(c)  # read nothing, answer nothing

            threading.Thread(target=accept, daemon=True).start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def close(self):
        if self.mode == "500":
            self.server.shutdown()
            self.server.server_close()
        else:
            self.stop = True
            self.sock.close()
            for c in self.held:
                c.close()


class GhaTestCase(unittest.TestCase):
    def setUp(self):
        if not (RESULTS_URL and TOKEN and CONTROL):
            self.skipTest("ACTIONS_RESULTS_URL/ACTIONS_RUNTIME_TOKEN/CACHEKIT_GHA_CONTROL_URL not set (use run.sh)")
        control("reset", {})
        self.tmp = Path(tempfile.mkdtemp(prefix="cachekit-ghait-"))
        os.chmod(self.tmp, 0o755)
        self.ws = self.tmp / "ws"
        self.ws.mkdir()
        self.summary = self.tmp / "summary.md"
        self.key = f"{self._testMethodName[:30]}-{uuid.uuid4().hex[:8]}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.tmp / "home"),
            "CACHEKIT_BACKEND": "github",
            "CACHEKIT_GITHUB_RESULTS_URL": RESULTS_URL,
            "CACHEKIT_GITHUB_TOKEN": TOKEN,
            "CACHEKIT_STATE_DIR": str(self.tmp / "state"),
            "CACHEKIT_WORKSPACE": str(self.ws),
            "CACHEKIT_REPOSITORY": "acme/widgets",
            "CACHEKIT_REF": "refs/heads/main",
            "GITHUB_STEP_SUMMARY": str(self.summary),
        }

    def tearDown(self):
        make_writable(self.tmp)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers -------------------------------------------------------------------------------
    def run_ck(self, *args, env=None, ws=None, expect=0, timeout=120):
        e = dict(self.env)
        if ws is not None:
            e["CACHEKIT_WORKSPACE"] = str(ws)
        e.update(env or {})
        e = {k: v for k, v in e.items() if v is not None}
        start = time.monotonic()
        proc = subprocess.run([str(BIN), *args], env=e, capture_output=True, text=True, timeout=timeout)
        r = Result(proc)
        r.seconds = time.monotonic() - start
        if expect is not None:
            self.assertEqual(r.rc, expect, r)
        printed = "\n".join(l for l in (r.stdout + r.stderr).splitlines() if not l.startswith("::add-mask::"))
        self.assertNotIn(TOKEN, printed, "the runtime token was printed")
        return r

    def save(self, key=None, path="data", **kw):
        return self.run_ck("save", "--path", path, "--key", key or self.key, **kw)

    def restore(self, key=None, restore_keys=None, path="data", **kw):
        args = ["restore", "--path", path, "--key", key or self.key]
        if restore_keys:
            args += ["--restore-keys", "\n".join(restore_keys)]
        return self.run_ck(*args, **kw)

    def fill(self, ws=None, random_bytes=0):
        ws = ws or self.ws
        write(ws / "data" / "a.txt", "hello\n")
        write(ws / "data" / "sub" / "ro.txt", "read-only\n", mode=0o444)
        (ws / "data" / "empty").mkdir(parents=True, exist_ok=True)
        os.symlink("a.txt", ws / "data" / "link")
        if random_bytes:
            write(ws / "data" / "random.bin", os.urandom(random_bytes))

    def fresh_ws(self, name):
        ws = self.tmp / name
        ws.mkdir()
        return ws

    def official(self, *args, ws, expect=0):
        env = {"PATH": os.environ["PATH"], "HOME": self.env["HOME"], "ACTIONS_RESULTS_URL": RESULTS_URL,
               "ACTIONS_RUNTIME_TOKEN": TOKEN}
        proc = subprocess.run(["node", str(OFFICIAL), args[0], "--workspace", str(ws), *args[1:]], env=env,
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(proc.returncode, expect, f"official client:\n{proc.stdout}\n{proc.stderr}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def entries(self, key=None):
        return [e for e in control("entries")["entries"] if key is None or e["key"] == key]


class GithubBackend(GhaTestCase):
    def test_round_trip_wire_format_and_version(self):
        self.fill(random_bytes=200_000)
        r = self.save()
        self.assertEqual(r.outputs["cache-saved"], "true")
        self.assertEqual(r.outputs["cache-backend"], "github")
        version = self.official("version", "data", ws=self.ws)["version"]
        [entry] = self.entries(self.key)
        self.assertEqual(entry["version"], version, "not the version @actions/cache computes")
        self.assertEqual(entry["state"], "finalized")
        [create] = requests("CreateCacheEntry")
        self.assertEqual(create["body_raw"], json.dumps({"key": self.key, "version": version}, separators=(",", ":")))
        self.assertEqual(create["headers"]["authorization"], "Bearer <ok>")
        [final] = requests("FinalizeCacheEntryUpload")
        self.assertEqual(json.loads(final["body_raw"]), {"key": self.key, "size_bytes": str(entry["blob_size"]),
                                                         "version": version})

        ws2 = self.fresh_ws("ws2")
        r = self.restore(ws=ws2)
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(r.outputs["cache-matched-key"], self.key)
        self.assertEqual(r.outputs["cache-backend"], "github")
        self.assertEqual(int(r.outputs["cache-size"]), int(entry["blob_size"]))
        self.assertEqual(listing(ws2), listing(self.ws))
        # the state never holds the token or the URL
        state = "".join(p.read_text() for p in (self.tmp / "state").rglob("*.json"))
        self.assertNotIn(TOKEN, state)
        self.assertNotIn(RESULTS_URL.rstrip("/"), state)
        self.assertIn('"served_by": "github"', state)
        # a second save of the same key (another job, no state) finds it and stores nothing
        r = self.save(env={"CACHEKIT_STATE_DIR": str(self.tmp / "state2")})
        self.assertEqual(r.outputs["cache-saved"], "false")
        self.assertIn("already exists", r.stderr)
        self.assertEqual(len(requests("CreateCacheEntry")), 1)

    def test_large_entry_put_block_list_and_parallel_ranges(self):
        control("config", {"blob_mode": "proxy"})
        self.fill(random_bytes=13 * MiB)
        r = self.save(env={"CACHEKIT_PART_SIZE": "5M", "CACHEKIT_CONCURRENCY": "3"})
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        blob = requests(kind="blob")
        puts = [b for b in blob if b["method"] == "blob.PutBlock"]
        self.assertEqual(len(puts), 3, blob)
        self.assertEqual(sorted(int(p["content_length"]) for p in puts)[-2:], [5 * MiB, 5 * MiB])
        self.assertEqual([b["method"] for b in blob if b["method"] == "blob.PutBlockList"], ["blob.PutBlockList"])
        self.assertFalse([b for b in blob if b["method"] == "blob.PutBlob"])

        control("requests", method="DELETE")
        ws2 = self.fresh_ws("ws2")
        r = self.restore(ws=ws2, env={"CACHEKIT_PART_SIZE": "5M", "CACHEKIT_CONCURRENCY": "3"})
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(listing(ws2), listing(self.ws))
        gets = [b for b in requests(kind="blob") if b["method"] == "blob.GetBlob"]
        self.assertEqual(len(gets), 3, gets)
        self.assertTrue(all(g["range"] for g in gets), gets)
        self.assertGreaterEqual(control("stats")["blob"]["by_op"]["GetBlob"]["max_in_flight"], 2)
        # ... and GitHub's own client reads the block blob cachekit wrote
        ws3 = self.fresh_ws("ws3")
        out = self.official("restore", self.key, "data", ws=ws3)
        self.assertTrue(out["exact"])
        self.assertEqual(listing(ws3), listing(self.ws))

    def test_interop_official_client_saves_cachekit_restores(self):
        self.fill(random_bytes=50_000)
        write(self.ws / "more" / "x.txt", "more\n")
        out = self.official("save", self.key, "data", "more", ws=self.ws)
        self.assertTrue(out["saved"], out)
        ws2 = self.fresh_ws("ws2")
        r = self.restore(path="data\nmore", ws=ws2)
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(listing(ws2), listing(self.ws))

    def test_interop_cachekit_saves_official_client_restores(self):
        self.fill(random_bytes=50_000)
        write(self.ws / "more" / "x.txt", "more\n")
        self.assertEqual(self.save(path="data\nmore").outputs["cache-saved"], "true")
        ws2 = self.fresh_ws("ws2")
        out = self.official("restore", self.key, "data", "more", ws=ws2)
        self.assertEqual(out["matched_key"], self.key)
        self.assertTrue(out["exact"])
        self.assertEqual(listing(ws2), listing(self.ws))

    def test_primary_key_never_matches_a_decoy(self):
        self.fill()
        decoy = self.key + "-x"
        self.save(key=decoy)
        control("requests", method="DELETE")
        ws2 = self.fresh_ws("ws2")
        r = self.restore(ws=ws2)
        self.assertEqual(r.outputs["cache-hit"], "false")
        self.assertEqual(r.outputs["cache-matched-key"], "")
        self.assertFalse((ws2 / "data").exists())
        self.assertEqual(len(requests("GetCacheEntryDownloadURL")), 1)
        # the service matched the decoy as a prefix of the primary key; a restore key may
        r = self.restore(ws=ws2, restore_keys=[self.key])
        self.assertEqual(r.outputs["cache-hit"], "false")
        self.assertEqual(r.outputs["cache-matched-key"], decoy)
        asked = [json.loads(q["body_raw"]) for q in requests("GetCacheEntryDownloadURL")]
        self.assertEqual(asked[-1], {"key": self.key, "version": asked[-1]["version"]}, asked)
        self.assertEqual(listing(ws2), listing(self.ws))

    def test_409_someone_else_is_saving(self):
        self.fill()
        control("faults", {"method": "CreateCacheEntry", "status": 409})
        r = self.save()
        self.assertEqual(r.outputs["cache-saved"], "false")
        self.assertIn("another job is creating this entry", r.stderr)
        self.assertNotIn("warning", r.stderr.lower())
        self.assertEqual(self.entries(), [])
        # nothing broken: the next save stores it
        self.assertEqual(self.save().outputs["cache-saved"], "true")

    def test_429_rate_limited_is_a_warning_not_a_wait(self):
        self.fill()
        control("faults", {"method": "CreateCacheEntry", "status": 429, "retry_after": 60})
        r = self.save()
        self.assertEqual(r.outputs["cache-saved"], "false")
        self.assertLess(r.seconds, 5)
        self.assertIn("warning: Not saving: the GitHub cache is rate limiting uploads", r.stderr)
        self.assertEqual(len(requests("CreateCacheEntry")), 1)
        self.assertEqual(self.entries(), [])
        self.assertEqual(self.save().outputs["cache-saved"], "true")

    def test_unreachable_service_is_a_fast_miss_with_a_warning(self):
        self.fill()
        self.save()
        for mode in ("drop", "refuse"):
            control("mode", {"service": mode})
            ws2 = self.fresh_ws(f"ws-{mode}")
            r = self.restore(ws=ws2)
            self.assertEqual(r.outputs["cache-hit"], "false")
            self.assertLess(r.seconds, 5, f"{mode}: {r.seconds:.1f}s")
            self.assertIn("warning: The GitHub cache could not be used", r.stderr)
            r = self.save(key=self.key + "-new")
            self.assertEqual(r.outputs["cache-saved"], "false")
            self.assertLess(r.seconds, 5)
            self.assertIn("warning: Not saving: the GitHub cache could not be used", r.stderr)
        control("mode", {"service": "up"})

    def test_unreachable_blob_host_is_fast_too(self):
        self.fill()
        self.save()
        control("config", {"blob_mode": "proxy"})
        control("mode", {"blob": "drop"})
        r = self.restore(ws=self.fresh_ws("ws2"))
        self.assertEqual(r.outputs["cache-hit"], "false")
        self.assertLess(r.seconds, 5)
        self.assertIn("warning", r.stderr)
        control("mode", {"blob": "up"})

    def test_5xx_and_blob_faults_are_retried(self):
        control("config", {"blob_mode": "proxy"})
        self.fill(random_bytes=3 * MiB)
        control("faults", [{"method": "CreateCacheEntry", "status": 503, "count": 1},
                           {"method": "blob.PutBlock", "status": 500, "count": 1}])
        r = self.save(env={"CACHEKIT_PART_SIZE": "1M"})
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        self.assertEqual(len(requests("CreateCacheEntry")), 2)
        control("requests", method="DELETE")
        control("faults", [{"method": "GetCacheEntryDownloadURL", "status": 503, "count": 2},
                           {"method": "blob.GetBlob", "action": "truncate", "after_bytes": 100_000, "count": 1}])
        ws2 = self.fresh_ws("ws2")
        r = self.restore(ws=ws2, env={"CACHEKIT_PART_SIZE": "1M"})
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(listing(ws2), listing(self.ws))
        self.assertEqual(len(requests("GetCacheEntryDownloadURL")), 3)

    def test_runner_variables_are_read_when_the_inputs_are_empty(self):
        self.fill()
        env = {"CACHEKIT_GITHUB_RESULTS_URL": "", "CACHEKIT_GITHUB_TOKEN": None, "ACTIONS_RESULTS_URL": RESULTS_URL,
               "ACTIONS_RUNTIME_TOKEN": TOKEN}
        self.assertEqual(self.save(env=env).outputs["cache-saved"], "true")
        r = self.save(env={"CACHEKIT_GITHUB_TOKEN": None}, expect=2)
        self.assertIn("github-token", r.stderr)

    def test_operator_commands_are_refused(self):
        for args in (["ls"], ["rm", "--key", "k"], ["prune", "--max-age", "7d"]):
            r = self.run_ck(*args, expect=2)
            self.assertIn("ls/rm/prune are not available for the github backend", r.stderr)

    def test_signed_urls_and_token_stay_out_of_debug_logs(self):
        self.fill()
        r = self.save(env={"CACHEKIT_DEBUG": "true", "GITHUB_ACTIONS": "true"})
        [entry] = self.entries(self.key)
        sig = urllib.parse.parse_qs(urllib.parse.urlsplit(entry["download_url"]).query)["sig"][0]
        r = self.restore(ws=self.fresh_ws("ws2"), env={"CACHEKIT_DEBUG": "true", "GITHUB_ACTIONS": "true"})
        self.assertIn(f"::add-mask::{TOKEN}", r.stdout)  # told to the runner, never printed otherwise
        printed = "\n".join(l for l in (r.stdout + r.stderr).splitlines() if not l.startswith("::add-mask::"))
        self.assertNotIn(TOKEN, printed)
        self.assertNotIn(sig, printed)


class Fallback(GhaTestCase):
    """use-fallback: S3 is the primary, the GitHub cache the fallback."""

    def setUp(self):
        super().setUp()
        self.env.update({
            "CACHEKIT_BACKEND": "s3",
            "CACHEKIT_BUCKET": BUCKET or "cachekit-gha-it",
            "CACHEKIT_ACCESS_KEY": AK or "AKIAFAKE",
            "CACHEKIT_SECRET_KEY": SK or "fake-secret-0123456789",
            "CACHEKIT_S3_PREFIX": f"it/{uuid.uuid4().hex[:10]}",
            "CACHEKIT_USE_FALLBACK": "true",
            "CACHEKIT_RETRY_COUNT": "1",
        })
        self.fill()

    def need_rgw(self):
        if not (S3_ENDPOINT and AK and SK and BUCKET):
            self.skipTest("no RGW (S3_ENDPOINT ...); run.sh starts one")
        self.env["CACHEKIT_ENDPOINT"] = S3_ENDPOINT

    def seed_github(self, key=None):
        r = self.save(key=key, env={"CACHEKIT_BACKEND": "github"})
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        control("requests", method="DELETE")

    def state(self):
        [p] = list((self.tmp / "state").rglob("*.json"))
        return json.loads(p.read_text())

    def check_fallback_restore(self, endpoint, max_seconds):
        self.seed_github()
        ws2 = self.fresh_ws("ws2")
        r = self.restore(ws=ws2, env={"CACHEKIT_ENDPOINT": endpoint})
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(r.outputs["cache-backend"], "github (fallback: S3 failed)")
        self.assertLess(r.seconds, max_seconds)
        self.assertIn("warning: S3 failed:", r.stderr)
        self.assertIn("Served by the GitHub cache (fallback: S3 failed)", r.stderr)
        self.assertIn("fallback: S3 failed", self.summary.read_text())
        st = self.state()
        self.assertEqual((st["backend"], st["served_by"], st["fallback_reason"]), ("s3", "github", "S3 failed"))
        self.assertTrue(st["use_fallback"])
        self.assertEqual(listing(ws2), listing(self.ws))
        return r

    def test_s3_down_restores_and_saves_through_github(self):
        down = f"http://127.0.0.1:{free_port()}"
        self.check_fallback_restore(down, 5)
        r = self.save(key=self.key + "-2", env={"CACHEKIT_ENDPOINT": down})
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        self.assertEqual(r.outputs["cache-backend"], "github (fallback: S3 failed)")
        self.assertEqual(len(self.entries(self.key + "-2")), 1)
        # without use-fallback the same outage is an error
        r = self.restore(env={"CACHEKIT_ENDPOINT": down, "CACHEKIT_USE_FALLBACK": "false"}, expect=1)
        self.assertIn("could not connect", r.stderr)

    def test_s3_answering_500_falls_back(self):
        s3 = BrokenS3("500")
        try:
            self.check_fallback_restore(s3.endpoint, 10)
            self.assertGreaterEqual(s3.hits, 2)  # retried first
        finally:
            s3.close()

    def test_s3_stalling_falls_back(self):
        s3 = BrokenS3("stall")
        try:
            self.env.update({"CACHEKIT_STALL_TIMEOUT": "1s", "CACHEKIT_RETRY_COUNT": "0"})
            self.check_fallback_restore(s3.endpoint, 8)
        finally:
            s3.close()

    def test_no_fallback_on_an_s3_auth_error(self):
        self.need_rgw()
        self.seed_github()
        r = self.restore(ws=self.fresh_ws("ws2"), env={"CACHEKIT_SECRET_KEY": "wrong-secret-0123456789"}, expect=1)
        self.assertIn("SignatureDoesNotMatch", r.stderr)
        self.assertEqual(requests("GetCacheEntryDownloadURL"), [], "the fallback hid an auth error")
        r = self.save(key=self.key + "-2", env={"CACHEKIT_SECRET_KEY": "wrong-secret-0123456789"}, expect=1)
        self.assertEqual(requests(kind="twirp"), [])

    def test_fallback_on_miss_only_when_asked(self):
        self.need_rgw()
        self.seed_github()
        ws2 = self.fresh_ws("ws2")
        r = self.restore(ws=ws2)
        self.assertEqual(r.outputs["cache-hit"], "false", r)
        self.assertEqual(requests(kind="twirp"), [], "a plain S3 miss went to GitHub")
        r = self.restore(ws=ws2, env={"CACHEKIT_FALLBACK_ON_MISS": "true"})
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(r.outputs["cache-backend"], "github (fallback: not in S3)")
        self.assertEqual(listing(ws2), listing(self.ws))
        # the hit came from GitHub: the save still stores the entry in S3
        r = self.run_ck("save")
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        self.assertEqual(r.outputs["cache-backend"], "s3")
        r = self.restore(ws=self.fresh_ws("ws3"))
        self.assertEqual((r.outputs["cache-hit"], r.outputs["cache-backend"]), ("true", "s3"))

    def test_healthy_s3_never_touches_github(self):
        self.need_rgw()
        self.assertEqual(self.save().outputs["cache-backend"], "s3")
        r = self.restore(ws=self.fresh_ws("ws2"))
        self.assertEqual((r.outputs["cache-hit"], r.outputs["cache-backend"]), ("true", "s3"))
        self.assertEqual(requests(kind="twirp"), [])

    def test_exact_hit_from_github_is_saved_to_s3_once_it_is_back(self):
        self.need_rgw()
        down = f"http://127.0.0.1:{free_port()}"
        self.check_fallback_restore(down, 5)
        r = self.run_ck("save", env={"CACHEKIT_ENDPOINT": S3_ENDPOINT})
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        self.assertEqual(r.outputs["cache-backend"], "s3")

    def test_missing_s3_credentials_use_github_with_a_warning(self):
        self.seed_github()
        env = {"CACHEKIT_ACCESS_KEY": None, "CACHEKIT_SECRET_KEY": None, "CACHEKIT_ENDPOINT": "127.0.0.1:9"}
        ws2 = self.fresh_ws("ws2")
        r = self.restore(ws=ws2, env=env)
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(r.outputs["cache-backend"], "github (fallback: no S3 credentials)")
        self.assertIn("warning: No S3 credentials", r.stderr)
        r = self.save(key=self.key + "-2", env=env)
        self.assertEqual(r.outputs["cache-backend"], "github (fallback: no S3 credentials)")
        r = self.restore(ws=ws2, env={**env, "CACHEKIT_USE_FALLBACK": "false"}, expect=2)
        self.assertIn("access-key, secret-key: missing", r.stderr)

    def test_fallback_unavailable_without_a_token(self):
        down = f"http://127.0.0.1:{free_port()}"
        r = self.restore(env={"CACHEKIT_ENDPOINT": down, "CACHEKIT_GITHUB_TOKEN": None}, expect=1)
        warnings = [l for l in r.stderr.splitlines() if l.startswith("warning:")]
        self.assertEqual(len(warnings), 1, r.stderr)
        self.assertIn("the GitHub cache is not available to this step", warnings[0])

    def test_github_failing_too_is_a_miss_with_warnings(self):
        down = f"http://127.0.0.1:{free_port()}"
        self.seed_github()
        control("mode", {"service": "refuse"})
        r = self.restore(ws=self.fresh_ws("ws2"), env={"CACHEKIT_ENDPOINT": down})
        self.assertEqual(r.outputs["cache-hit"], "false")
        self.assertIn("warning: S3 failed", r.stderr)
        self.assertIn("warning: The GitHub cache could not be used", r.stderr)
        control("mode", {"service": "up"})


if __name__ == "__main__":
    unittest.main()
