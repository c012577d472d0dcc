"""CLI end-to-end tests of restore/save/ls/rm/prune through the local backend."""
import io
import json
import os
import random
import re
import resource
import signal
import subprocess
import sys
import tarfile
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cachekit_test import (BIN, CachekitTestCase, cache_version, make_writable, plant_entry, tree_listing,  # noqa: E402
                           write, zstd_compress)

NOBODY = "65534"


def realistic_tree(root):
    root = Path(root)
    write(root / "a.txt", "hello\n")
    write(root / "ro.txt", "read only\n", 0o444)
    write(root / "exec.sh", "#!/bin/sh\necho hi\n", 0o755)
    write(root / "sub/deeper/big.bin", os.urandom(3 * 1024 * 1024))
    write(root / "sub/zeros.bin", b"\0" * 2_000_000)
    (root / "empty-dir").mkdir()
    long_name = "d" * 120 + "/" + "f" * 200
    write(root / long_name, "long name\n")
    write(root / "ünïcödé/日本語.txt", "non-ascii\n")
    os.symlink("a.txt", root / "link-to-a")
    os.symlink("sub/deeper", root / "link-to-dir")
    os.link(root / "a.txt", root / "hardlink-to-a")
    write(root / "ro-dir/inside.txt", "x", 0o444)
    write(root / "ro-dir/big-read-only.bin", os.urandom(600_000), 0o444)  # large: finished on another thread
    os.chmod(root / "ro-dir", 0o555)
    for i in range(200):
        write(root / f"many/{i:03d}.txt", f"file {i}\n" * (i + 1))
    os.utime(root / "a.txt", ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))


def go_module_tree(root, version_suffix=""):
    """A Go-module-cache-like tree: 0444 files in 0555 directories."""
    root = Path(root)
    for m in range(3):
        mod = root / f"example.com/mod{m}@v1.0.{m}"
        for f in range(5):
            write(mod / f"pkg{f}/file.go", f"package pkg{f} // {m}{version_suffix}\n", 0o444)
        write(mod / "go.mod", f"module example.com/mod{m}\n", 0o444)
    write(root / "cache/download/example.com/mod0/@v/list", "v1.0.0\n", 0o444)
    zip_bytes = (f"zip of mod0{version_suffix}\n" * 40_000).encode()  # ~600 kB, as Go keeps them: 0444
    write(root / "cache/download/example.com/mod0/@v/v1.0.0.zip", zip_bytes, 0o444)
    for dirpath, dirnames, _ in os.walk(root, topdown=False):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o555)


class RoundTrip(CachekitTestCase):
    def test_realistic_tree_round_trip(self):
        realistic_tree(self.ws / "data")
        before = tree_listing(self.ws / "data")
        r = self.save("k1", check=0)
        self.assertEqual(r.outputs["cache-saved"], "true")
        make_writable(self.ws / "data")
        os.rename(self.ws / "data", self.tmp / "moved")
        r = self.restore("k1", check=0)
        self.assertEqual(r.outputs["cache-hit"], "true")
        self.assertEqual(r.outputs["cache-matched-key"], "k1")
        self.assertEqual(r.outputs["cache-backend"], "local")
        self.assertGreater(int(r.outputs["cache-size"]), 0)
        self.assertEqual(tree_listing(self.ws / "data"), before)

    def test_restore_over_the_same_tree_replaces_every_entry_in_place(self):
        # Every name exists already (files, hard links, symlinks, directories): each is
        # replaced, hard links stay linked, nothing is written through what was there.
        realistic_tree(self.ws / "data")
        before = tree_listing(self.ws / "data")
        self.save("k1", check=0)
        # A second name outside for every file: if restore wrote into an existing file
        # instead of replacing it, the outside name would see the write or keep a link.
        (self.tmp / "outside").mkdir()
        outside = []
        files = [Path(d) / f for d, _, fs in os.walk(self.ws / "data") for f in fs]  # no symlinked dirs
        for i, p in enumerate(q for q in files if not q.is_symlink()):
            o = self.tmp / "outside" / str(i)
            os.link(p, o)
            outside.append((o, o.read_bytes()))
        self.assertGreater(len(outside), 10)
        r = self.restore("k1", check=0)
        self.assertEqual(r.outputs["cache-hit"], "true")
        self.assertEqual(tree_listing(self.ws / "data"), before)
        # The outside names keep the old inodes alive, so their numbers cannot be reused:
        # no name in the tree may still point at one of them.
        old = {os.stat(o).st_ino for o, _ in outside}
        now = {os.lstat(Path(d) / f).st_ino for d, _, fs in os.walk(self.ws / "data") for f in fs}
        self.assertEqual(old & now, set())
        for o, content in outside:
            self.assertEqual(o.read_bytes(), content)

    def test_paths_outside_workspace_use_dotdot_members_and_tilde(self):
        home = Path(self.env["HOME"])
        write(home / "go/pkg/mod/x.txt", "outside\n")
        self.run_ck("save", "--path", "~/go/pkg/mod", "--key", "k", check=0)
        blob = next((self.store / "blobs").rglob("*.tzst"))
        names = subprocess.run(f"zstd -dc {blob} | tar -tf -", shell=True, capture_output=True, text=True).stdout
        self.assertIn("../home/go/pkg/mod/x.txt", names)
        (home / "go/pkg/mod/x.txt").unlink()
        r = self.run_ck("restore", "--path", "~/go/pkg/mod", "--key", "k", check=0)
        self.assertEqual(r.outputs["cache-hit"], "true")
        self.assertEqual((home / "go/pkg/mod/x.txt").read_text(), "outside\n")

    def test_version_depends_on_paths(self):
        write(self.ws / "data/a", "1")
        write(self.ws / "other/a", "2")
        self.save("k", check=0)
        r = self.restore("k", path="data\nother", check=0)
        self.assertEqual(r.outputs["cache-hit"], "false")
        entries = list((self.store / "entries").rglob("*.json"))
        self.assertEqual(len(entries), 1)
        self.assertEqual(entries[0].parent.name, cache_version(["data"]))


class TarInterop(CachekitTestCase):
    def test_gnu_tar_and_zstd_extract_our_archive(self):
        realistic_tree(self.ws / "data")
        before = tree_listing(self.ws / "data")
        self.save("k", check=0)
        blob = next((self.store / "blobs").rglob("*.tzst"))
        out = self.tmp / "out"
        out.mkdir()
        subprocess.run(f"zstd -dc {blob} | tar -xf - -P -C {out}", shell=True, check=True)
        self.assertEqual(tree_listing(out / "data"), before)

    def test_large_archive_is_pzstd_framed_and_both_zstd_and_pzstd_read_it(self):
        # > 8 MiB of tar: several independent frames, each announced by pzstd's header.
        realistic_tree(self.ws / "data")
        rng = random.Random(7)
        write(self.ws / "data/big.bin", bytes(rng.getrandbits(8) for _ in range(3 << 20)) * 7)
        before = tree_listing(self.ws / "data")
        self.save("k", check=0)
        blob = next((self.store / "blobs").rglob("*.tzst"))
        listing = subprocess.run(["zstd", "-lv", str(blob)], check=True, capture_output=True, text=True).stdout
        frames = int(re.search(r"# Zstandard Frames: (\d+)", listing).group(1))
        skippable = int(re.search(r"# Skippable Frames: (\d+)", listing).group(1))
        self.assertGreaterEqual(frames, 3)
        self.assertEqual(skippable, frames)
        for tool in ("zstd -dc", "pzstd -p 2 -dc"):
            out = self.tmp / ("out-" + tool.split()[0])
            out.mkdir()
            subprocess.run(f"{tool} {blob} | tar -xf - -P -C {out}", shell=True, check=True,
                           stderr=subprocess.DEVNULL)
            self.assertEqual(tree_listing(out / "data"), before, tool)

    def test_sparse_file_from_gnu_tar_keeps_its_holes_and_size(self):
        sparse = self.ws / "data/sparse.img"
        sparse.parent.mkdir(parents=True)
        with open(sparse, "wb") as f:
            f.seek(3 << 20)
            f.write(b"middle")
            f.truncate(8 << 20)  # ends in a hole: the size must still come back
        before = tree_listing(self.ws / "data")
        archive = subprocess.run(f"tar --posix --sparse -cf - -P -C {self.ws} data | zstd -q -c",
                                 shell=True, check=True, capture_output=True).stdout
        plant_entry(self.store, archive, "sparse-key", cache_version(["data"]))
        os.rename(self.ws / "data", self.tmp / "moved")
        r = self.restore("sparse-key", check=0)
        self.assertEqual(r.outputs["cache-hit"], "true")
        self.assertEqual(tree_listing(self.ws / "data"), before)
        self.assertLess(os.stat(sparse).st_blocks * 512, 1 << 20)  # still sparse

    def test_we_restore_an_actions_cache_style_archive(self):
        realistic_tree(self.ws / "data")
        before = tree_listing(self.ws / "data")
        manifest = self.tmp / "manifest.txt"
        manifest.write_text("data")  # no trailing newline, as actions/cache writes it
        archive = subprocess.run(
            f"tar --posix -cf - -P -C {self.ws} --files-from {manifest} | zstd -T0 -q -c",
            shell=True, check=True, capture_output=True).stdout
        plant_entry(self.store, archive, "gnu-key", cache_version(["data"]))
        make_writable(self.ws / "data")
        os.rename(self.ws / "data", self.tmp / "moved")
        r = self.restore("gnu-key", check=0)
        self.assertEqual(r.outputs["cache-hit"], "true")
        self.assertEqual(tree_listing(self.ws / "data"), before)


class KeyMatching(CachekitTestCase):
    def test_decoy_key_does_not_hit(self):
        write(self.ws / "data/f", "decoy")
        self.save("K-x", check=0)
        r = self.restore("K", check=0)
        self.assertEqual(r.outputs["cache-hit"], "false")
        self.assertEqual(r.outputs["cache-matched-key"], "")

    def test_restore_keys_in_order_and_newest_wins(self):
        for key, content in [("deps-a-1", "a1"), ("deps-b-1", "b1"), ("deps-a-2", "a2")]:
            write(self.ws / "data/f", content)
            self.save(key, check=0)
            time.sleep(0.01)
        r = self.restore("deps-c", restore_keys=["deps-a-", "deps-b-"], check=0)
        self.assertEqual(r.outputs["cache-hit"], "false")
        self.assertEqual(r.outputs["cache-matched-key"], "deps-a-2")
        self.assertEqual((self.ws / "data/f").read_text(), "a2")
        r = self.restore("deps-c", restore_keys=["deps-b-", "deps-a-"], check=0)
        self.assertEqual(r.outputs["cache-matched-key"], "deps-b-1")
        r = self.restore("deps-c", restore_keys=["deps-"], check=0)
        self.assertEqual(r.outputs["cache-matched-key"], "deps-a-2")

    def test_scope_own_ref_then_base_then_default(self):
        write(self.ws / "data/f", "main")
        self.save("k-main", check=0)
        write(self.ws / "data/f", "feature")
        self.save("k-feature", env={"CACHEKIT_REF": "refs/heads/feature"}, check=0)
        pr = {"CACHEKIT_REF": "refs/pull/7/merge", "CACHEKIT_BASE_REF": "feature"}
        r = self.restore("k-none", restore_keys=["k-"], env=pr, check=0)
        self.assertEqual(r.outputs["cache-matched-key"], "k-feature")
        # A PR run writes only its own ref, never main's.
        write(self.ws / "data/f", "pr")
        self.save("k-pr", env=pr, check=0)
        r = self.restore("k-pr", check=0)
        self.assertEqual(r.outputs["cache-hit"], "false")
        r = self.restore("k-pr", env=pr, check=0)
        self.assertEqual(r.outputs["cache-hit"], "true")
        # Another branch sees main (default branch) but not the feature branch.
        r = self.restore("k-none", restore_keys=["k-"], env={"CACHEKIT_REF": "refs/heads/other"}, check=0)
        self.assertEqual(r.outputs["cache-matched-key"], "k-main")


class ReadOnlyGoModuleCache(CachekitTestCase):
    def test_restore_over_read_only_tree_as_nobody(self):
        os.chmod(self.tmp, 0o777)
        data = self.ws / "data"
        go_module_tree(data, "-new")
        write_ro_extra = data / "example.com/mod0@v1.0.0/pkg0"
        os.chmod(write_ro_extra, 0o755)
        write(write_ro_extra / "added.go", "package pkg0 // added\n", 0o444)
        os.chmod(write_ro_extra, 0o555)
        want = tree_listing(data)
        self.save("go", check=0)
        # An older state on disk, owned by nobody, read-only like Go leaves it.
        make_writable(data)
        subprocess.run(["rm", "-rf", str(data)], check=True)
        go_module_tree(data, "-old")
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(self.tmp)], check=True)
        # GNU tar fails here; that is the bug we fix.
        r = self.restore("go", user=NOBODY, check=0)
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        got = tree_listing(data)
        self.assertEqual([x for x in got if x[1] != "d"], [x for x in want if x[1] != "d"])
        self.assertEqual([(x[0], x[2]) for x in got if x[1] == "d"], [(x[0], x[2]) for x in want if x[1] == "d"])
        self.assertEqual((data / "example.com/mod0@v1.0.0/pkg0/added.go").read_text(), "package pkg0 // added\n")


class Ownership(CachekitTestCase):
    """Owners and set-id bits as the restore writer sets them (it skips chown when it can)."""

    MEMBERS = [({"name": "data", "type": tarfile.DIRTYPE, "mode": 0o755, "uid": 4242, "gid": 4343}, None),
               ({"name": "data/suid", "mode": 0o4755, "uid": 4242, "gid": 4343}, b"#!/bin/sh\n"),
               ({"name": "data/mine", "mode": 0o640, "uid": 0, "gid": 0}, b"root's"),
               # large files are finished on another thread: the same rules apply there
               ({"name": "data/big-sgid", "mode": 0o2750, "uid": 4242, "gid": 4343}, b"\x7fELF" * 100_000)]

    def test_root_restores_archived_owners_and_set_id_bits(self):
        plant_entry(self.store, tar_zst([(dict(i), d) for i, d in self.MEMBERS]), "own", cache_version(["data"]))
        r = self.restore("own", check=0)
        self.assertEqual(r.outputs["cache-hit"], "true")
        st = os.lstat(self.ws / "data/suid")
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777), (4242, 4343, 0o4755))
        st = os.lstat(self.ws / "data/mine")
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777), (0, 0, 0o640))
        st = os.lstat(self.ws / "data/big-sgid")
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o7777, st.st_size), (4242, 4343, 0o2750, 400_000))
        self.assertEqual(os.lstat(self.ws / "data").st_uid, 4242)

    def test_non_root_owns_what_it_restores_without_foreign_set_id_bits(self):
        plant_entry(self.store, tar_zst([(dict(i), d) for i, d in self.MEMBERS]), "own", cache_version(["data"]))
        os.chmod(self.tmp, 0o777)
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(self.tmp)], check=True)
        r = self.restore("own", user=NOBODY, check=0)
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        st = os.lstat(self.ws / "data/suid")
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (int(NOBODY), 0o755))  # not our set-uid to keep
        st = os.lstat(self.ws / "data/big-sgid")
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (int(NOBODY), 0o750))


def tar_zst(members):
    """members: list of (TarInfo kwargs, bytes or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for info, data in members:
            ti = tarfile.TarInfo(info.pop("name"))
            for k, v in info.items():
                setattr(ti, k, v)
            if data is not None:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                t.addfile(ti)
    return zstd_compress(buf.getvalue())


class UnsafeArchives(CachekitTestCase):
    def plant_and_restore(self, members):
        plant_entry(self.store, tar_zst(members), "evil", cache_version(["data"]))
        return self.restore("evil")


    def assert_refused(self, r, outside):
        self.assertEqual(r.rc, 1, r)
        self.assertIn("outside the cache paths", r.stderr)
        self.assertNotEqual(r.outputs.get("cache-hit"), "true")
        self.assertFalse(outside.exists(), f"{outside} was written")

    def test_dotdot_escape_refused(self):
        r = self.plant_and_restore([({"name": "data/ok.txt"}, b"ok"), ({"name": "data/../escaped.txt"}, b"evil")])
        self.assert_refused(r, self.ws / "escaped.txt")

    def test_absolute_path_refused(self):
        target = self.tmp / "abs-escape.txt"
        r = self.plant_and_restore([({"name": str(target)}, b"evil")])
        self.assert_refused(r, target)

    def test_symlink_pointing_outside_is_not_created_and_never_written_through(self):
        r = self.plant_and_restore([({"name": "data/link", "type": tarfile.SYMTYPE, "linkname": str(self.tmp)}, None),
                                    ({"name": "data/ok", "type": tarfile.SYMTYPE, "linkname": "link/../f"}, None),
                                    ({"name": "data/link/planted.txt"}, b"evil")])
        self.assertEqual(r.rc, 0, r)
        self.assertIn("points outside the cache paths", r.stderr)
        self.assertFalse((self.tmp / "planted.txt").exists())
        self.assertFalse((self.ws / "data/link").is_symlink())
        self.assertTrue((self.ws / "data/ok").is_symlink())
        # The member meant to go through the link lands inside, as a plain file.
        self.assertEqual((self.ws / "data/link/planted.txt").read_bytes(), b"evil")

    def test_hardlink_to_outside_refused(self):
        secret = self.tmp / "secret.txt"
        write(secret, "secret")
        r = self.plant_and_restore([({"name": "data/h", "type": tarfile.LNKTYPE, "linkname": str(secret)}, None)])
        self.assert_refused(r, self.ws / "data/h")

    def test_existing_symlink_dir_on_disk_not_followed(self):
        outside = self.tmp / "outside"
        outside.mkdir()
        (self.ws / "data").mkdir()
        os.symlink(outside, self.ws / "data/sub")
        r = self.plant_and_restore([({"name": "data/sub/planted.txt"}, b"evil")])
        self.assertEqual(r.rc, 1, r)
        self.assertFalse((outside / "planted.txt").exists())


    def test_existing_symlink_where_the_archive_has_a_directory_is_not_followed(self):
        # The archive lists the directory itself too: keeping the link must not make the
        # files below it trusted.
        outside = self.tmp / "outside"
        outside.mkdir()
        (self.ws / "data").mkdir()
        os.symlink(outside, self.ws / "data/sub")
        r = self.plant_and_restore([({"name": "data/sub", "type": tarfile.DIRTYPE, "mode": 0o755}, None),
                                    ({"name": "data/sub/planted.txt"}, b"evil")])
        self.assert_refused(r, outside / "planted.txt")

    def test_hardlink_through_an_existing_symlink_to_outside_refused(self):
        outside = self.tmp / "outside"
        write(outside / "secret.txt", "secret")
        (self.ws / "data").mkdir()
        os.symlink(outside, self.ws / "data/sub")
        r = self.plant_and_restore([({"name": "data/h", "type": tarfile.LNKTYPE, "linkname": "data/sub/secret.txt"},
                                     None)])
        self.assertEqual(r.rc, 1, r)
        self.assertIn("outside the cache paths", r.stderr)
        self.assertFalse((self.ws / "data/h").exists())
        self.assertEqual(os.stat(outside / "secret.txt").st_nlink, 1)

    def test_existing_symlink_at_a_file_path_is_replaced_not_followed(self):
        victim = self.tmp / "victim.txt"
        write(victim, "untouched")
        (self.ws / "data").mkdir()
        os.symlink(victim, self.ws / "data/f")
        r = self.plant_and_restore([({"name": "data/f"}, b"from the cache")])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.outputs["cache-hit"], "true")
        self.assertEqual(victim.read_text(), "untouched")
        self.assertFalse((self.ws / "data/f").is_symlink())
        self.assertEqual((self.ws / "data/f").read_bytes(), b"from the cache")


    def test_existing_file_hardlinked_outside_is_replaced_not_rewritten(self):
        outside = self.tmp / "outside.txt"
        write(outside, "outside content")
        (self.ws / "data").mkdir()
        os.link(outside, self.ws / "data/f")
        r = self.plant_and_restore([({"name": "data/f"}, b"from the cache")])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(outside.read_text(), "outside content")
        self.assertEqual((self.ws / "data/f").read_bytes(), b"from the cache")


class LargeFiles(CachekitTestCase):
    """Large files are written and closed on a thread of their own while the next entries
    are created; the archive's order must still decide, and its failures must still count."""

    def test_a_later_member_of_the_same_name_wins(self):
        first, second = b"first " * 100_000, b"second" * 90_000
        members = [({"name": "data/big", "mtime": 1_600_000_000}, first),
                   ({"name": "data/small"}, b"between"),
                   ({"name": "data/big", "mode": 0o600, "mtime": 1_700_000_000}, second)]
        plant_entry(self.store, tar_zst(members), "twice", cache_version(["data"]))
        r = self.restore("twice", check=0)
        self.assertEqual(r.outputs["cache-hit"], "true", r)
        self.assertEqual((self.ws / "data/big").read_bytes(), second)
        st = os.stat(self.ws / "data/big")
        self.assertEqual((st.st_mode & 0o777, st.st_mtime), (0o600, 1_700_000_000))

    def test_a_write_failing_on_the_writer_thread_fails_the_restore(self):
        write(self.ws / "data/small.txt", "small\n")
        write(self.ws / "data/big.bin", os.urandom(3 << 20))
        self.save("k", check=0)
        target = self.tmp / "small-fs"
        target.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(target)]).returncode != 0:
            self.skipTest("cannot mount a small tmpfs (needs root)")
        self.addCleanup(subprocess.run, ["umount", str(target)])
        r = self.run_ck("restore", "--path", "data", "--key", "k", "--workspace", str(target))
        self.assertNotEqual(r.outputs.get("cache-hit"), "true", r)
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("No space left on device", r.stderr)


class Integrity(CachekitTestCase):
    def test_corrupted_archive_is_a_miss_with_warning(self):
        write(self.ws / "data/f", os.urandom(100000))
        self.save("k", check=0)
        blob = next((self.store / "blobs").rglob("*.tzst"))
        raw = bytearray(blob.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        blob.write_bytes(bytes(raw))
        r = self.restore("k", env={"GITHUB_ACTIONS": "true"}, check=0)
        self.assertEqual(r.outputs["cache-hit"], "false")
        self.assertEqual(r.outputs["cache-matched-key"], "")
        self.assertIn("::warning::", r.stderr)
        self.assertIn("damaged", r.stderr)

    def test_truncated_archive_is_a_miss(self):
        write(self.ws / "data/f", os.urandom(100000))
        self.save("k", check=0)
        blob = next((self.store / "blobs").rglob("*.tzst"))
        blob.write_bytes(blob.read_bytes()[:-100])
        r = self.restore("k", check=0)
        self.assertEqual(r.outputs["cache-hit"], "false")

    def test_kill_9_during_save_leaves_no_entry(self):
        write(self.ws / "data/big", os.urandom(64 * 1024 * 1024))
        for i in range(50):
            write(self.ws / f"data/more/{i}", os.urandom(1024 * 1024))
        env = dict(self.env, CACHEKIT_COMPRESSION_LEVEL="19", CACHEKIT_THREADS="1")
        p = subprocess.Popen([str(BIN), "save", "--path", "data",
                              "--key", "k"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 20
        while time.time() < deadline and not list((self.store / "tmp").glob("*.partial")):
            time.sleep(0.02)
        time.sleep(0.3)
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.assertEqual(p.returncode, -9, "save finished before it could be killed")
        self.assertEqual(list((self.store / "entries").rglob("*.json")) if (self.store / "entries").exists() else [], [])
        r = self.restore("k", check=0)
        self.assertEqual(r.outputs["cache-hit"], "false")
        r = self.run_ck("ls", check=0)
        self.assertIn("0 entries", r.stdout)

    def test_a_full_store_fails_the_save_and_leaves_no_entry(self):
        # RLIMIT_FSIZE stands in for a full disk: the archive write fails after 4 MiB (EFBIG),
        # through the O_DIRECT writer, and nothing may be left visible or half-written.
        write(self.ws / "data/big", os.urandom(16 * 1024 * 1024))

        def limit_file_size():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # inherited by the helper: EFBIG, no kill
            resource.setrlimit(resource.RLIMIT_FSIZE, (4 * 1024 * 1024, resource.RLIM_INFINITY))

        proc = subprocess.run([str(BIN), "save", "--path", "data", "--key", "k"], env=self.env,
                              capture_output=True, text=True, timeout=120, preexec_fn=limit_file_size)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("cannot write", proc.stderr)
        self.assertIn(".partial", proc.stderr)  # names the file it could not write
        self.assertEqual(list((self.store / "entries").rglob("*.json")) if (self.store / "entries").exists() else [], [])
        self.assertEqual(list((self.store / "tmp").glob("*")), [])  # the partial archive is gone
        self.assertEqual(list((self.store / "blobs").rglob("*")) if (self.store / "blobs").exists() else [], [])
        r = self.restore("k", check=0)
        self.assertEqual(r.outputs["cache-hit"], "false")

    def test_parallel_saves_of_one_key_make_one_entry(self):
        write(self.ws / "data/f", os.urandom(2 * 1024 * 1024))
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: self.save("race"), range(8)))
        for r in results:
            self.assertEqual(r.rc, 0, r)
        self.assertGreaterEqual(sum(r.outputs["cache-saved"] == "true" for r in results), 1)
        self.assertEqual(sum(r.outputs["cache-saved"] == "true" for r in results), 1,
                         [r.stderr for r in results])
        self.assertEqual(len(list((self.store / "entries").rglob("*.json"))), 1)
        make_writable(self.ws / "data")
        os.rename(self.ws / "data", self.tmp / "moved")
        r = self.restore("race", check=0)
        self.assertEqual(r.outputs["cache-hit"], "true")
        self.assertEqual((self.ws / "data/f").read_bytes(), (self.tmp / "moved/f").read_bytes())


class BadInput(CachekitTestCase):
    def assert_usage(self, r, *words):
        self.assertEqual(r.rc, 2, r)
        for w in words:
            self.assertIn(w, r.stderr)

    def test_bad_inputs_exit_2_naming_the_input(self):
        write(self.ws / "data/f", "x")
        self.assert_usage(self.run_ck("restore", "--path", "data", "--key", ""), "key")
        self.assert_usage(self.run_ck("save", "--path", "data", "--key", "a,b"), "key", "comma")
        self.assert_usage(self.run_ck("restore", "--path", "data", "--key", "k" * 513), "key", "513")
        self.assert_usage(self.run_ck("restore", "--path", "data", "--key", "k",
                                      "--restore-keys", "\n".join(f"r{i}" for i in range(10))), "restore-keys")
        self.assert_usage(self.run_ck("restore", "--key", "k"), "path")
        self.assert_usage(self.run_ck("save", "--key", "k", "--path", ""), "path")
        self.assert_usage(self.run_ck("restore", "--path", "data", "--key", "k", "--cache-policy", "sometimes"),
                          "cache-policy")
        self.assert_usage(self.run_ck("restore", "--path", "data", "--key", "k", "--bogus"), "--bogus")
        self.assert_usage(self.run_ck("restore", "--path", "data", "--key", "k", "--lookup-only=maybe"),
                          "lookup-only")
        self.assert_usage(self.run_ck("prune", "--max-age", "soon"), "max-age")
        self.assertFalse((self.store / "entries").exists() and list((self.store / "entries").rglob("*.json")))

    def test_unreadable_path_exit_2_and_nothing_stored(self):
        os.chmod(self.tmp, 0o777)
        write(self.ws / "data/secret/f", "x")
        os.chmod(self.ws / "data/secret", 0o000)
        subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(self.tmp)], check=True)
        r = self.save("k", user=NOBODY)
        self.assert_usage(r, "path", "secret")
        self.assertEqual(list((self.store / "entries").rglob("*.json")) if (self.store / "entries").exists() else [], [])


class Policies(CachekitTestCase):
    def test_lookup_only_does_not_download(self):
        write(self.ws / "data/f", "x")
        self.save("k", check=0)
        (self.ws / "data/f").unlink()
        r = self.run_ck("restore", "--path", "data", "--key", "k", "--lookup-only", check=0)
        self.assertEqual(r.outputs["cache-hit"], "true")
        self.assertFalse((self.ws / "data/f").exists())

    def test_fail_on_cache_miss(self):
        r = self.run_ck("restore", "--path", "data", "--key", "nope", "--fail-on-cache-miss",
                        env={"GITHUB_ACTIONS": "true"})
        self.assertEqual(r.rc, 1, r)
        self.assertIn("::error::", r.stderr)
        self.assertIn("fail-on-cache-miss", r.stderr)

    def test_read_only_policy_restores_but_never_saves(self):
        write(self.ws / "data/f", "x")
        self.save("k", check=0)
        r = self.run_ck("restore", "--path", "data", "--key", "k2", "--restore-keys", "k",
                        "--cache-policy", "read-only", check=0)
        self.assertEqual(r.outputs["cache-matched-key"], "k")
        r = self.run_ck("save", check=0)  # state carries the policy
        self.assertEqual(r.outputs["cache-saved"], "false")
        self.assertIn("read-only", r.stderr)

    def test_off_and_write_only(self):
        write(self.ws / "data/f", "x")
        self.save("k", check=0)
        for policy in ("off", "write-only"):
            r = self.run_ck("restore", "--path", "data", "--key", "k", "--cache-policy", policy, check=0)
            self.assertEqual(r.outputs["cache-hit"], "false")
        r = self.run_ck("save", "--path", "data", "--key", "k3", "--cache-policy", "off", check=0)
        self.assertEqual(r.outputs["cache-saved"], "false")

    def test_save_skipped_after_exact_hit_and_when_key_exists(self):
        write(self.ws / "data/f", "x")
        self.save("k", check=0)
        self.restore("k", check=0)
        r = self.run_ck("save", check=0)
        self.assertEqual(r.outputs["cache-saved"], "false")
        self.assertIn("restored exactly", r.stderr)
        r = self.save("k", env={"CACHEKIT_STATE_ID": "fresh"}, check=0)
        self.assertEqual(r.outputs["cache-saved"], "false")
        self.assertIn("already exists", r.stderr)

    def test_save_without_state_does_nothing_and_says_why(self):
        r = self.run_ck("save", check=0)
        self.assertEqual(r.outputs["cache-saved"], "false")
        self.assertIn("no state", r.stderr)

    def test_cancelled_job_does_not_save(self):
        write(self.ws / "data/f", "x")
        self.restore("k", check=0)
        r = self.run_ck("save", "--job-status", "cancelled", check=0)
        self.assertEqual(r.outputs["cache-saved"], "false")
        self.assertIn("cancelled", r.stderr)


class RunnerIO(CachekitTestCase):
    def test_outputs_state_summary_in_actions(self):
        write(self.ws / "data/f", "x")
        out = self.tmp / "gh_output"
        summary = self.tmp / "summary.md"
        runner_temp = self.tmp / "runner_temp"
        runner_temp.mkdir()
        env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary),
               "RUNNER_TEMP": str(runner_temp), "CACHEKIT_STATE_DIR": "",
               "CACHEKIT_SECRET_KEY": "ghp_secretvalue123"}
        del self.env["CACHEKIT_STATE_DIR"]
        r = self.run_ck("restore", "--path", "data", "--key", "k", "--state-id", "go", env=env, check=0)
        text = out.read_text()
        self.assertIn("cache-hit=false\n", text)
        self.assertIn("cache-primary-key=k\n", text)
        states = list((runner_temp / "cachekit-state/go").glob("*.json"))
        self.assertEqual(len(states), 1)
        state = json.loads(states[0].read_text())
        self.assertEqual(state["key"], "k")
        self.assertEqual(state["path"], ["data"])
        r = self.run_ck("save", "--state-id", "go", env=env, check=0)
        self.assertEqual(r.outputs["cache-saved"], "true")
        self.assertIn("cache-saved=true", out.read_text())
        self.assertIn("| cachekit save |", summary.read_text())
        self.assertIn("| cachekit restore |", summary.read_text())
        # A second state id does not see the first one's state.
        r = self.run_ck("save", "--state-id", "other", env=env, check=0)
        self.assertIn("no state", r.stderr)
        # The state was handled: a second save step does nothing.
        r = self.run_ck("save", "--state-id", "go", env=env, check=0)
        self.assertIn("no state", r.stderr)
        self.assertFalse(any("ghp_" in p.read_text() for p in (runner_temp / "cachekit-state").rglob("*") if p.is_file()))

    def test_one_action_used_twice_keeps_two_states(self):
        write(self.ws / "data/f", "data")
        write(self.ws / "other/f", "other")
        self.run_ck("restore", "--path", "data", "--key", "k-data", "--state-id", "golang", check=0)
        self.run_ck("restore", "--path", "other", "--key", "k-other", "--state-id", "golang", check=0)
        self.save("k-other", path="other", env={"CACHEKIT_STATE_ID": "elsewhere"}, check=0)  # k-other exists now
        r = self.run_ck("save", "--state-id", "golang", check=0)
        self.assertEqual(r.stdout.count("cache-saved="), 1, r)
        self.assertIn("cache-saved=true", r.stdout)  # one of the two was stored
        self.assertIn("already exists", r.stderr)
        listing = self.run_ck("ls", check=0).stdout
        self.assertIn("k-data", listing)
        self.assertIn("k-other", listing)


class StartUp(CachekitTestCase):
    def test_local_backend_never_loads_libcurl(self):
        # libcurl and its ~25 dependencies are loaded only for the s3/github backends
        # (native/http/curl_library.cpp); from a cold page cache they cost ~20 ms per start.
        write(self.ws / "data/f", b"x" * 1000)
        for args in (("save", "--path", "data", "--key", "k"), ("restore", "--path", "data", "--key", "k"),
                     ("ls",), ("version",)):
            r = self.run_ck(*args, env={"LD_DEBUG": "files"}, check=0)
            loaded = [line for line in r.stderr.splitlines() if "file=" in line and "[0];  needed by" in line]
            self.assertTrue(loaded, "LD_DEBUG=files printed no library loads for %s" % args[0])
            self.assertFalse([line for line in loaded if "libcurl" in line],
                             "%s loaded libcurl:\n%s" % (args[0], "\n".join(loaded)))


class Operator(CachekitTestCase):
    def test_ls_rm_prune(self):
        for i in range(4):
            write(self.ws / "data/f", os.urandom(50000))
            self.save(f"k{i}", check=0)
        r = self.run_ck("ls", check=0)
        self.assertIn("4 entries", r.stdout)
        self.run_ck("restore", "--path", "data", "--key", "k0", check=0)  # k0 becomes most recently used
        r = self.run_ck("prune", "--max-total-size", "120K", check=0)
        self.assertIn("evicted 2 entries", r.stdout)
        left = self.run_ck("ls", check=0).stdout
        self.assertIn("k0", left)
        self.assertIn("k3", left)
        self.assertNotIn("k1", left)
        r = self.run_ck("rm", "--key", "k3", check=0)
        self.assertIn("removed 1 entries", r.stdout)
        r = self.run_ck("prune", "--max-age", "0s", "--keep-last-used", "1", check=0)
        # --max-age 0s makes every entry old enough; --keep-last-used 1 still keeps the newest.
        self.assertRegex(r.stdout, r"^evicted 0 entries .*kept 1 entries")
        self.assertIn("1 entries", self.run_ck("ls", check=0).stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
