"""The S3 backend end to end against a real Ceph RGW (and, for fault injection, the
fault_proxy.py in front of it). Run through run.sh, which starts both and sets:
  S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY S3_BUCKET  the RGW
  PROXY_ENDPOINT                                                the fault proxy
  CACHEKIT_BIN (optional)                                       the binary under test
Every test works under its own object prefix, so tests never see each other's entries."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from cachekit_test import BIN, Result, make_writable, tree_listing, write  # noqa: E402
from s3_util import S3, cache_version, is_archive, is_manifest, manifest  # noqa: E402

import shutil  # noqa: E402
import tempfile  # noqa: E402

ENDPOINT = os.environ.get("S3_ENDPOINT", "")
PROXY = os.environ.get("PROXY_ENDPOINT", "")
AK = os.environ.get("AWS_ACCESS_KEY_ID", "")
SK = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
BUCKET = os.environ.get("S3_BUCKET", "")
REPO = "acme/widgets"
MiB = 1 << 20


def proxy_control(path, body=None):
    req = urllib.request.Request(PROXY + "/__proxy/" + path, method="PUT" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


class S3TestCase(unittest.TestCase):
    def setUp(self):
        if not (ENDPOINT and AK and SK and BUCKET):
            self.skipTest("S3_ENDPOINT/AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/S3_BUCKET not set (use run.sh)")
        self.tmp = Path(tempfile.mkdtemp(prefix="cachekit-s3it-"))
        self.ws = self.tmp / "ws"
        self.ws.mkdir()
        self.prefix = f"it/{self._testMethodName[:40]}-{uuid.uuid4().hex[:8]}"
        self.s3 = S3(ENDPOINT, AK, SK, BUCKET)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.tmp / "home"),
            "CACHEKIT_BACKEND": "s3",
            "CACHEKIT_ENDPOINT": ENDPOINT,
            "CACHEKIT_BUCKET": BUCKET,
            "CACHEKIT_ACCESS_KEY": AK,
            "CACHEKIT_SECRET_KEY": SK,
            "CACHEKIT_S3_PREFIX": self.prefix,
            "CACHEKIT_PART_SIZE": "5M",
            "CACHEKIT_STATE_DIR": str(self.tmp / "state"),
            "CACHEKIT_WORKSPACE": str(self.ws),
            "CACHEKIT_REPOSITORY": REPO,
            "CACHEKIT_REF": "refs/heads/main",
        }

    def tearDown(self):
        make_writable(self.tmp)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers -------------------------------------------------------------------------------
    def run_ck(self, *args, env=None, ws=None, timeout=120):
        e = dict(self.env)
        if ws is not None:
            e["CACHEKIT_WORKSPACE"] = str(ws)
        e.update(env or {})
        e = {k: v for k, v in e.items() if v is not None}
        proc = subprocess.run([str(BIN), *args], env=e, capture_output=True, text=True, timeout=timeout)
        return Result(proc)

    def save(self, key, path="data", env=None, ws=None, expect=0):
        r = self.run_ck("save", "--path", path, "--key", key, env=env, ws=ws)
        if expect is not None:
            self.assertEqual(r.rc, expect, r)
        return r

    def restore(self, key, restore_keys=None, path="data", env=None, ws=None, expect=0, extra=()):
        args = ["restore", "--path", path, "--key", key, *extra]
        if restore_keys:
            args += ["--restore-keys", "\n".join(restore_keys)]
        r = self.run_ck(*args, env=env, ws=ws)
        if expect is not None:
            self.assertEqual(r.rc, expect, r)
        return r

    def fill(self, ws=None, content="hello", random_bytes=0):
        data = Path(ws or self.ws) / "data"
        if data.exists():
            make_writable(data)
            shutil.rmtree(data)
        write(data / "content.txt", content)
        if random_bytes:
            write(data / "random.bin", os.urandom(random_bytes))
        return data

    def read_content(self, ws=None):
        p = Path(ws or self.ws) / "data" / "content.txt"
        return p.read_text() if p.exists() else None

    def wipe(self, ws=None):
        data = Path(ws or self.ws) / "data"
        if data.exists():
            make_writable(data)
            shutil.rmtree(data)

    def scope(self, ref="refs/heads/main", repo=REPO, paths=("data",)):
        return f"{self.prefix}/{repo}/{ref}/{cache_version(list(paths))}/"

    def entry_objects(self, key, ref="refs/heads/main"):
        return self.s3.names(self.scope(ref) + key + "/")

    def fresh_ws(self, name):
        ws = self.tmp / name
        ws.mkdir(parents=True, exist_ok=True)
        return ws


class RoundTrip(S3TestCase):
    def test_round_trip_multipart_and_ranged(self):
        data = self.fill(content="round trip", random_bytes=12 * MiB + 12345)  # 3 parts of 5 MiB
        write(data / "sub/ro.txt", "read only", 0o444)
        os.symlink("content.txt", data / "link")
        before = tree_listing(data)
        r = self.save("rt-key")
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        self.assertEqual(r.outputs["cache-backend"], "s3")
        objects = self.entry_objects("rt-key")
        self.assertEqual(sum(is_manifest(n) for n in objects), 1, objects)
        self.assertEqual(sum(is_archive(n) for n in objects), 1, objects)
        self.assertEqual(self.s3.uploads(self.prefix), [])  # the multipart upload completed
        m = json.loads(self.s3.get(self.scope() + "rt-key/manifest.json"))
        for field in ("size", "sha256", "created_ms", "run_id", "commit", "tool_version", "archive"):
            self.assertIn(field, m)
        self.assertEqual(m["size"], int(r.outputs["cache-size"]))

        self.wipe()
        r = self.restore("rt-key", extra=("--concurrency", "3"))
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(r.outputs["cache-matched-key"], "rt-key")
        self.assertEqual(tree_listing(data), before)
        self.assertIn("credentials from the access-key/secret-key inputs", r.stderr)

        # A second save of the same key is skipped: first writer wins.
        r = self.save("rt-key")
        self.assertEqual(r.outputs["cache-saved"], "false", r)

    def test_small_entry_single_put_and_state_carries_settings(self):
        self.fill(content="small")
        r = self.restore("small-key")  # a miss writes the state the save step reads
        self.assertEqual(r.outputs["cache-hit"], "false")
        # The save step gets only credentials: endpoint, bucket, prefix come from the state file.
        only_creds = {k: None for k in ("CACHEKIT_BACKEND", "CACHEKIT_ENDPOINT", "CACHEKIT_BUCKET",
                                         "CACHEKIT_S3_PREFIX", "CACHEKIT_PART_SIZE")}
        r = self.run_ck("save", env=only_creds)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.outputs.get("cache-saved"), "true", r)
        for f in (self.tmp / "state").rglob("*"):
            if f.is_file():
                self.assertNotIn(SK, f.read_text(errors="replace"), f"secret in {f}")
        states = [f.read_text() for f in (self.tmp / "state").rglob("*") if f.is_file()]
        self.assertTrue(any(self.prefix in text and ENDPOINT in text for text in states), states)
        self.wipe()
        r = self.restore("small-key")
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(self.read_content(), "small")


    def test_virtual_host_addressing(self):
        if os.environ.get("S3_VHOST_DNS") != "localhost":
            self.skipTest("needs an RGW with rgw_dns_name=localhost (run.sh starts one)")
        port = ENDPOINT.rsplit(":", 1)[1]
        vhost = {"CACHEKIT_ENDPOINT": f"http://localhost:{port}", "CACHEKIT_PATH_STYLE": "false"}
        self.fill(content="virtual host", random_bytes=6 * MiB)
        r = self.save("vh", env=vhost)
        self.assertIn("virtual-host addressing", r.stderr)
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        self.assertEqual(sum(is_manifest(n) for n in self.entry_objects("vh")), 1)  # same objects, other URLs
        self.wipe()
        r = self.restore("vh", env=vhost)
        self.assertEqual((r.outputs["cache-hit"], self.read_content()), ("true", "virtual host"), r)


class KeyMatching(S3TestCase):
    def test_exact_key_never_matches_a_decoy(self):
        self.fill(content="decoy")
        self.save("K-x")
        self.wipe()
        r = self.restore("K")
        self.assertEqual(r.outputs["cache-hit"], "false", r)
        self.assertEqual(r.outputs["cache-matched-key"], "")
        self.assertIsNone(self.read_content())
        r = self.restore("K", restore_keys=["K"])  # as a restore key, a prefix match is fine
        self.assertEqual(r.outputs["cache-matched-key"], "K-x", r)
        self.assertEqual(r.outputs["cache-hit"], "false")

        self.fill(content="real")
        self.save("K")
        self.wipe()
        r = self.restore("K", restore_keys=["K-"])
        self.assertEqual((r.outputs["cache-hit"], r.outputs["cache-matched-key"]), ("true", "K"), r)
        self.assertEqual(self.read_content(), "real")

    def test_restore_keys_newest_first_across_listing_pages(self):
        version = cache_version(["data"])
        scope = self.scope()
        planted = [(f"{scope}R-{i:04d}/manifest.json",
                    manifest(f"R-{i:04d}", version, REPO, "refs/heads/main", "archive-00.tzst"))
                   for i in range(1100)]
        self.s3.put_many(planted)
        self.assertGreater(len(self.s3.list(scope)), 1000)
        time.sleep(1.1)  # LastModified must order the real saves after the planted ones

        # The newest sorts last: it is on the second listing page.
        self.fill(content="newest, last page")
        self.save("R-zzzz")
        self.wipe()
        r = self.restore("no-such-key", restore_keys=["R-"])
        self.assertEqual(r.outputs["cache-matched-key"], "R-zzzz", r)
        self.assertEqual(self.read_content(), "newest, last page")

        # Now the newest sorts on the first page, before 1100 older ones.
        time.sleep(1.1)
        self.fill(content="newest, first page")
        self.save("R-0000-new")
        self.wipe()
        r = self.restore("no-such-key", restore_keys=["nothing-", "R-"])
        self.assertEqual(r.outputs["cache-matched-key"], "R-0000-new", r)
        self.assertEqual(self.read_content(), "newest, first page")

        # An exact restore key beats newer prefix matches ("R-05" matches R-0500..R-0599).
        r = self.restore("no-such-key", restore_keys=["R-0500"])
        self.assertIn("'R-0500'", r.stderr)  # chosen; a planted entry has no archive…
        self.assertIn("damaged", r.stderr)  # …so it is reported damaged and not used
        self.assertEqual(r.outputs["cache-hit"], "false", r)

    def test_scope_order_and_pr_isolation(self):
        self.fill(content="main")
        self.save("K")
        self.fill(content="feature")
        self.save("K", env={"CACHEKIT_REF": "refs/heads/feature"})
        main_manifest = self.s3.get(self.scope() + "K/manifest.json")

        self.wipe()
        r = self.restore("K", env={"CACHEKIT_REF": "refs/heads/feature"})
        self.assertEqual((r.outputs["cache-hit"], self.read_content()), ("true", "feature"), r)
        self.wipe()
        r = self.restore("K", env={"CACHEKIT_REF": "refs/heads/other"})
        self.assertEqual((r.outputs["cache-hit"], self.read_content()), ("true", "main"), r)
        self.wipe()
        pr = {"CACHEKIT_REF": "refs/pull/7/merge", "CACHEKIT_BASE_REF": "feature"}
        r = self.restore("K", env=pr)
        self.assertEqual(self.read_content(), "feature", r)
        self.wipe()
        r = self.restore("K", env={"CACHEKIT_REF": "refs/pull/8/merge"})
        self.assertEqual(self.read_content(), "main", r)

        # A PR writes only below its own ref, never into main's scope.
        before = set(self.s3.names(f"{self.prefix}/{REPO}/refs/heads/"))
        pr["CACHEKIT_STATE_DIR"] = str(self.tmp / "pr-state")  # not the state of the exact hit above
        self.fill(content="pr")
        r = self.save("K", env=pr)
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        self.fill(content="pr2")
        self.save("PR-only", env=pr)
        self.assertEqual(set(self.s3.names(f"{self.prefix}/{REPO}/refs/heads/")), before)
        self.assertEqual(self.s3.get(self.scope() + "K/manifest.json"), main_manifest)
        pr_objects = self.s3.names(f"{self.prefix}/{REPO}/refs/pull/7/merge/")
        self.assertEqual(sum(is_manifest(n) for n in pr_objects), 2, pr_objects)
        self.wipe()
        r = self.restore("PR-only")
        self.assertEqual(r.outputs["cache-hit"], "false", r)
        r = self.restore("K")
        self.assertEqual(self.read_content(), "main")

        # Another repository never sees these entries.
        self.wipe()
        r = self.restore("K", env={"CACHEKIT_REPOSITORY": "acme/other"})
        self.assertEqual(r.outputs["cache-hit"], "false", r)


class Failures(S3TestCase):
    def test_wrong_secret_is_an_error_not_a_miss(self):
        self.fill()
        for cmd in (["restore", "--path", "data", "--key", "k"], ["save", "--path", "data", "--key", "k"], ["ls"]):
            r = self.run_ck(*cmd, env={"CACHEKIT_SECRET_KEY": "wrong-secret-value"})
            self.assertEqual(r.rc, 1, r)
            self.assertIn("SignatureDoesNotMatch", r.stderr)
            self.assertIn("secret key does not match", r.stderr)
            self.assertNotIn("wrong-secret-value", r.stdout + r.stderr)
        r = self.run_ck("restore", "--path", "data", "--key", "k", env={"CACHEKIT_SECRET_KEY": "wrong-secret-value",
                                                                        "GITHUB_ACTIONS": "true"})
        self.assertEqual(r.rc, 1)
        self.assertIn("::error::", r.stderr)
        self.assertIn("::add-mask::wrong-secret-value", r.stdout)  # masked for the runner too
        r = self.run_ck("restore", "--path", "data", "--key", "k", env={"CACHEKIT_ACCESS_KEY": "nobody"})
        self.assertEqual(r.rc, 1, r)
        self.assertIn("InvalidAccessKeyId", r.stderr)
        self.assertEqual(self.s3.names(self.prefix), [])

    def test_missing_bucket_is_a_clear_error(self):
        self.fill()
        for cmd in ("restore", "save"):
            r = self.run_ck(cmd, "--path", "data", "--key", "k", env={"CACHEKIT_BUCKET": "no-such-bucket-here"})
            self.assertEqual(r.rc, 1, r)
            self.assertIn("bucket 'no-such-bucket-here' does not exist", r.stderr)

    def test_credentials_from_the_environment_only_when_inputs_are_empty(self):
        self.fill(content="ambient")
        ambient = {"CACHEKIT_ACCESS_KEY": "", "CACHEKIT_SECRET_KEY": "", "AWS_ACCESS_KEY_ID": AK,
                   "AWS_SECRET_ACCESS_KEY": SK}
        r = self.save("amb", env=ambient)
        self.assertIn("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the access-key/secret-key inputs were empty)", r.stderr)
        # Inputs win over (wrong) ambient credentials.
        r = self.restore("amb", env={"AWS_ACCESS_KEY_ID": "ECR-KEY", "AWS_SECRET_ACCESS_KEY": "ecr-secret"})
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertIn("credentials from the access-key/secret-key inputs", r.stderr)
        r = self.run_ck("ls", env={"CACHEKIT_ACCESS_KEY": None, "CACHEKIT_SECRET_KEY": None})
        self.assertEqual(r.rc, 2, r)  # no credentials anywhere: bad input

    def test_parallel_saves_of_one_key_make_exactly_one_entry(self):
        procs = []
        for i in range(8):
            ws = self.fresh_ws(f"ws{i}")
            self.fill(ws=ws, content=f"writer {i}", random_bytes=6 * MiB)
            e = dict(self.env, CACHEKIT_WORKSPACE=str(ws), CACHEKIT_STATE_DIR=str(self.tmp / f"state{i}"))
            procs.append(subprocess.Popen([str(BIN), "save", "--path", "data", "--key", "race"], env=e,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        results = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            results.append((p.returncode, out, err))
        for rc, out, err in results:
            self.assertEqual(rc, 0, err)
        winners = [i for i, (_, out, _) in enumerate(results) if "cache-saved=true" in out]
        self.assertEqual(len(winners), 1, [r[1] for r in results])
        objects = self.entry_objects("race")
        self.assertEqual(sum(is_manifest(n) for n in objects), 1, objects)
        self.assertEqual(sum(is_archive(n) for n in objects), 1, objects)  # losers deleted theirs
        self.assertEqual(self.s3.uploads(self.prefix), [])
        r = self.restore("race", ws=self.fresh_ws("reader"))
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(self.read_content(self.tmp / "reader"), f"writer {winners[0]}")

    def test_corrupted_truncated_or_missing_archive_is_a_miss_with_a_warning(self):
        self.fill(content="will rot", random_bytes=2 * MiB)
        self.save("rot")
        archive = next(n for n in self.entry_objects("rot") if is_archive(n))
        original = self.s3.get(archive)
        cases = {
            "corrupted": bytes(b ^ 0x5A for b in original[:4096]) + original[4096:],
            "flipped at the end": original[:-10] + bytes(10),
            "truncated": original[: len(original) // 2],
        }
        for what, damaged in cases.items():
            with self.subTest(what):
                self.s3.put(archive, damaged)
                self.wipe()
                r = self.restore("rot", env={"GITHUB_ACTIONS": "true"})
                self.assertEqual(r.outputs["cache-hit"], "false", r)
                self.assertEqual(r.outputs["cache-matched-key"], "", r)
                self.assertIn("::warning::", r.stderr)
                self.assertIn("damaged", r.stderr)
        self.s3.delete(archive)
        r = self.restore("rot")
        self.assertEqual(r.outputs["cache-hit"], "false", r)
        self.assertIn("missing", r.stderr)

    def test_unreadable_manifest_is_skipped_with_a_warning(self):
        self.fill(content="older")
        self.save("M-1")
        time.sleep(1.1)
        self.fill(content="newer")
        self.save("M-2")
        self.s3.put(self.scope() + "M-2/manifest.json", b"{not json")
        self.wipe()
        r = self.restore("nope", restore_keys=["M-"])
        self.assertEqual(r.outputs["cache-matched-key"], "M-1", r)
        self.assertIn("unreadable manifest", r.stderr)
        self.assertEqual(self.read_content(), "older")

class BucketPolicy(S3TestCase):
    def test_documented_pull_request_policy_enforces_the_scope(self):
        user = os.environ.get("S3_PR_USER")
        if not user:
            self.skipTest("needs a second RGW user (run.sh creates one)")
        bucket = f"policy-{uuid.uuid4().hex[:8]}"
        self.s3.create_bucket(bucket)
        owner, repo = REPO.split("/")
        policy = (ROOT / "docs/s3-policy-pull-requests.json").read_text()
        for placeholder, value in (("PRINCIPAL_ARN", f"arn:aws:iam:::user/{user}"), ("BUCKET", bucket),
                                   ("PREFIX", self.prefix), ("OWNER", owner), ("REPO", repo)):
            policy = policy.replace(placeholder, value)
        status, _, body = self.s3.request("PUT", query={"policy": ""}, body=policy.encode(), bucket=bucket)
        self.assertIn(status, (200, 204), body)
        self.env["CACHEKIT_BUCKET"] = bucket
        pr_bot = {"CACHEKIT_ACCESS_KEY": os.environ["S3_PR_ACCESS_KEY"],
                  "CACHEKIT_SECRET_KEY": os.environ["S3_PR_SECRET_KEY"], "CACHEKIT_REF": "refs/pull/3/merge",
                  "CACHEKIT_STATE_DIR": str(self.tmp / "pr-state")}

        self.fill(content="main")
        self.save("K")  # trusted credentials
        self.wipe()
        r = self.restore("K", env=pr_bot)  # the PR reads main's entry and records its use
        self.assertEqual((r.outputs["cache-hit"], self.read_content()), ("true", "main"), r)
        self.assertNotIn("warning", r.stderr)
        in_bucket = S3(ENDPOINT, AK, SK, bucket)
        self.assertTrue(in_bucket.names(f"{self.prefix}/_last-used/"))

        self.fill(content="pr")
        r = self.save("K2", env=pr_bot)  # into its own ref: allowed
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        r = self.save("K3", env=dict(pr_bot, CACHEKIT_REF="refs/heads/main"), expect=1)
        self.assertIn("AccessDenied", r.stderr)
        self.assertIn("bucket policy", r.stderr)
        main_scope = f"{self.prefix}/{REPO}/refs/heads/main/"
        self.assertFalse([n for n in in_bucket.names(main_scope) if "/K3/" in n])
        self.assertEqual(in_bucket.uploads(self.prefix), [])


class LegacyAndOperators(S3TestCase):
    def test_legacy_tespkg_layout_is_read_only_when_asked(self):
        key = f"tespkg-{uuid.uuid4().hex[:8]}"
        src = self.fresh_ws("legacy-src")
        write(src / "data/content.txt", "from tespkg")
        tar = subprocess.run(["tar", "--posix", "-cf", "-", "-C", str(src), "data"], check=True,
                             capture_output=True).stdout
        tzst = subprocess.run(["zstd", "-q", "-c"], input=tar, check=True, capture_output=True).stdout
        self.s3.put(f"{key}/cache.tzst", tzst)
        try:
            r = self.restore(key)
            self.assertEqual(r.outputs["cache-hit"], "false", r)
            r = self.restore(key, env={"CACHEKIT_LEGACY_TESPKG_LAYOUT": "true"})
            self.assertEqual(r.outputs["cache-hit"], "true", r)
            self.assertEqual(self.read_content(), "from tespkg")
            self.wipe()
            r = self.restore("nope", restore_keys=[key[:10]], env={"CACHEKIT_LEGACY_TESPKG_LAYOUT": "true"})
            self.assertEqual(r.outputs["cache-matched-key"], key, r)
        finally:
            self.s3.delete(f"{key}/cache.tzst")

    def test_ls_rm_prune_and_last_use(self):
        for k in ("op-a", "op-b", "op-c"):
            self.fill(content=k)
            self.save(k)
        time.sleep(1.1)
        self.wipe()
        self.restore("op-a")  # records the use
        markers = self.s3.names(f"{self.prefix}/_last-used/")
        self.assertEqual(markers, [f"{self.prefix}/_last-used/{REPO}/refs/heads/main/{cache_version(['data'])}"
                                   f"/op-a/last-used"])
        r = self.run_ck("ls")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("3 entries", r.stdout)
        lines = [line for line in r.stdout.splitlines() if "op-" in line]
        self.assertTrue(lines[0].endswith("op-a"), r.stdout)  # most recently used first

        r = self.run_ck("rm", "--key", "op-b")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.entry_objects("op-b"), [])
        r = self.run_ck("prune", "--max-age", "1s", "--keep-last-used", "1")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.entry_objects("op-c"), [])
        self.assertTrue(self.entry_objects("op-a"))
        r = self.run_ck("rm", "--key", "op-a")
        self.assertEqual(self.s3.names(self.prefix), [])


class FaultInjection(S3TestCase):
    """Everything goes through the fault proxy; each fault must be retried to success within
    retry-count, and with retry-count 0 fail cleanly with nothing visible."""

    def setUp(self):
        super().setUp()
        if not PROXY:
            self.skipTest("PROXY_ENDPOINT not set (use run.sh)")
        proxy_control("reset", {})
        self.env["CACHEKIT_STALL_TIMEOUT"] = "2s"

    def tearDown(self):
        if PROXY:
            proxy_control("reset", {})
        super().tearDown()

    def via_proxy(self, **extra):
        return dict({"CACHEKIT_ENDPOINT": PROXY}, **extra)

    def rules(self, *rules):
        proxy_control("rules", {"rules": list(rules)})

    def hits(self):
        return [r.get("hits", 0) for r in proxy_control("stats")["rules"]]

    def requests(self):
        return proxy_control("stats")["requests"]

    def saved_entry(self, key, mib=12):
        data = self.fill(content=key, random_bytes=mib * MiB)
        before = tree_listing(data)
        self.save(key)  # directly, no faults
        self.wipe()
        return before

    def test_dropped_connection_mid_body_is_resumed(self):
        before = self.saved_entry("drop-dl")
        self.rules({"method": "GET", "header": r"^Range: bytes=5242880-", "action": "drop_response",
                    "after_bytes": 2_000_000})
        r = self.restore("drop-dl", env=self.via_proxy())
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(tree_listing(self.ws / "data"), before)
        self.assertEqual(self.hits(), [1])
        self.assertIn("the connection dropped", r.stderr)
        starts = [int(rng.split("=")[1].split("-")[0]) for _, _, _, rng in self.requests() if rng]
        resumed = [s for s in starts if 5242880 < s <= 5242880 + 2_000_000]
        self.assertTrue(resumed, f"no resumed range request in {starts}")  # not restarted from its start

        # Upload side: a part whose request body is cut off is sent again.
        self.rules({"method": "PUT", "path": "partNumber=2&", "action": "drop_request", "after_bytes": 1_000_000})
        self.fill(content="drop-ul", random_bytes=12 * MiB)
        r = self.save("drop-ul", env=self.via_proxy())
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        self.assertEqual(self.hits(), [1])
        self.wipe()
        r = self.restore("drop-ul")
        self.assertEqual(self.read_content(), "drop-ul")

    def test_500_and_503_with_retry_after_are_retried(self):
        self.fill(content="busy", random_bytes=12 * MiB)
        self.rules({"method": "GET", "path": "list-type=2", "action": "status", "status": 500, "code": "InternalError"},
                   {"method": "PUT", "path": "partNumber=1&", "action": "status", "status": 503, "retry_after": 1},
                   {"method": "PUT", "path": "manifest.json", "action": "status", "status": 503, "code": "SlowDown"})
        started = time.time()
        r = self.save("busy", env=self.via_proxy())
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        self.assertEqual(self.hits(), [1, 1, 1])  # the "already saved?" listing, a part, the manifest
        self.assertGreaterEqual(time.time() - started, 1.0)  # Retry-After: 1 was honoured
        self.assertIn("HTTP 503", r.stderr)
        self.assertIn("HTTP 503 SlowDown", r.stderr)

        self.wipe()
        self.rules({"method": "GET", "path": "list-type=2", "action": "status", "status": 500, "code": "InternalError"},
                   {"method": "GET", "header": r"^Range: bytes=0-", "action": "status", "status": 503,
                    "retry_after": 1})
        r = self.restore("busy", env=self.via_proxy())
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual(self.hits(), [1, 1])
        self.assertIn("HTTP 500 InternalError", r.stderr)
        self.assertEqual(self.read_content(), "busy")

    def test_stalled_body_is_cancelled_and_resumed(self):
        before = self.saved_entry("stall")
        self.rules({"method": "GET", "header": r"^Range: bytes=5242880-", "action": "stall_response",
                    "after_bytes": 1_000_000, "seconds": 30})
        started = time.time()
        r = self.restore("stall", env=self.via_proxy())
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertLess(time.time() - started, 20)
        self.assertEqual(tree_listing(self.ws / "data"), before)
        self.assertIn("stalled", r.stderr)
        self.assertEqual(self.hits(), [1])

        self.rules({"method": "PUT", "path": "partNumber=1&", "action": "stall_request", "seconds": 30})
        self.fill(content="stall-ul", random_bytes=7 * MiB)
        started = time.time()
        r = self.save("stall-ul", env=self.via_proxy())
        self.assertEqual(r.outputs["cache-saved"], "true", r)
        self.assertLess(time.time() - started, 20)
        self.assertEqual(self.hits(), [1])

    def test_retry_count_is_honoured_exactly(self):
        self.fill(content="flaky", random_bytes=12 * MiB)
        self.rules({"method": "PUT", "path": "partNumber=2&", "action": "drop_request", "after_bytes": 100_000,
                    "times": -1})
        r = self.save("flaky", env=self.via_proxy(CACHEKIT_RETRY_COUNT="2"), expect=None)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(self.hits(), [3])  # one try + 2 retries
        self.assertIn("gave up after 3 attempts", r.stderr)

    def test_kill_9_mid_upload_leaves_no_visible_entry(self):
        self.rules({"method": "PUT", "path": "partNumber=2&", "action": "stall_request", "seconds": 20})
        self.fill(content="doomed", random_bytes=15 * MiB)
        e = dict(self.env, CACHEKIT_ENDPOINT=PROXY)
        p = subprocess.Popen([str(BIN), "save", "--path", "data", "--key", "doomed"], env=e,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                if any(self.hits()):
                    break
                time.sleep(0.05)
            else:
                self.fail("the upload never reached part 2")
            time.sleep(0.3)
            p.send_signal(signal.SIGKILL)
        finally:
            p.wait(timeout=30)
            p.stdout.close()
            p.stderr.close()
        self.assertEqual(p.returncode, -signal.SIGKILL)
        names = self.s3.names(self.prefix)
        self.assertFalse(any(is_manifest(n) for n in names), names)
        self.assertTrue(self.s3.uploads(self.prefix), "the killed save left no multipart upload: not mid-upload")
        self.wipe()
        r = self.restore("doomed")
        self.assertEqual(r.outputs["cache-hit"], "false", r)
        r = self.run_ck("ls")
        self.assertIn("0 entries", r.stdout, r)

    def test_retry_count_zero_fails_cleanly_with_nothing_visible(self):
        self.fill(content="once", random_bytes=12 * MiB)
        self.rules({"method": "PUT", "path": "partNumber=2&", "action": "drop_request", "after_bytes": 100_000})
        r = self.save("once", env=self.via_proxy(CACHEKIT_RETRY_COUNT="0"), expect=None)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("error:", r.stderr)
        self.assertIn("the connection dropped", r.stderr)
        self.assertEqual(self.s3.names(self.prefix), [])  # no manifest, no archive
        self.assertEqual(self.s3.uploads(self.prefix), [])  # the multipart upload was aborted
        r = self.run_ck("ls")
        self.assertIn("0 entries", r.stdout)

        self.save("once")  # directly
        self.wipe()
        self.rules({"method": "GET", "header": r"^Range: bytes=5242880-", "action": "drop_response",
                    "after_bytes": 1000})
        r = self.restore("once", env=self.via_proxy(CACHEKIT_RETRY_COUNT="0"), expect=None)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("the connection dropped", r.stderr)
        self.assertNotIn("cache-hit=true", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
