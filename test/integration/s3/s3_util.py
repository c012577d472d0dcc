"""A small S3 client for the tests (Python standard library only): SigV4-signed path-style
requests to plant, corrupt, inspect and list objects behind cachekit's back. It is a second,
independent SigV4 implementation, so a test never trusts cachekit to check cachekit."""
import datetime
import hashlib
import hmac
import http.client
import json
import re
import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def uri_encode(s, keep_slash):
    return urllib.parse.quote(s, safe="-_.~" + ("/" if keep_slash else ""))


class S3:
    def __init__(self, endpoint, access_key, secret_key, bucket, region="us-east-1"):
        u = urllib.parse.urlsplit(endpoint)
        self.host = u.netloc
        self.access_key = access_key
        self.secret_key = secret_key
        self.bucket = bucket
        self.region = region

    def request(self, method, name="", query=None, body=b"", headers=None, bucket=None):
        bucket = self.bucket if bucket is None else bucket
        path = "/" + uri_encode(bucket, False) + ("/" + uri_encode(name, True) if name else "")
        q = "&".join(f"{uri_encode(k, False)}={uri_encode(v, False)}" for k, v in sorted((query or {}).items()))
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        payload = hashlib.sha256(body).hexdigest()
        h = {"host": self.host, "x-amz-date": amz_date, "x-amz-content-sha256": payload}
        for k, v in (headers or {}).items():
            h[k.lower()] = v
        signed = sorted(h)
        canonical = "\n".join([method, path, q, "".join(f"{k}:{h[k].strip()}\n" for k in signed), ";".join(signed),
                               payload])
        scope = f"{amz_date[:8]}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret_key).encode()
        for part in (amz_date[:8], self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        h["authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
                              f"SignedHeaders={';'.join(signed)}, Signature={sig}")
        conn = http.client.HTTPConnection(self.host, timeout=60)
        try:
            conn.request(method, path + ("?" + q if q else ""), body=body or None, headers=h)
            r = conn.getresponse()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
        finally:
            conn.close()

    def put(self, name, body, headers=None):
        status, _, data = self.request("PUT", name, body=body if isinstance(body, bytes) else body.encode(),
                                       headers=headers)
        if status != 200:
            raise RuntimeError(f"PUT {name}: {status} {data[:200]!r}")

    def get(self, name):
        status, _, data = self.request("GET", name)
        if status == 404:
            return None
        if status != 200:
            raise RuntimeError(f"GET {name}: {status} {data[:200]!r}")
        return data

    def delete(self, name):
        self.request("DELETE", name)

    def list(self, prefix):
        """[(name, size, last_modified)] of every object under prefix, all pages."""
        out, token = [], None
        while True:
            q = {"list-type": "2", "prefix": prefix}
            if token:
                q["continuation-token"] = token
            status, _, data = self.request("GET", query=q)
            if status != 200:
                raise RuntimeError(f"list {prefix}: {status} {data[:200]!r}")
            root = ET.fromstring(data)
            for c in root.findall(f"{NS}Contents"):
                out.append((c.find(f"{NS}Key").text, int(c.find(f"{NS}Size").text), c.find(f"{NS}LastModified").text))
            if root.findtext(f"{NS}IsTruncated") != "true":
                return out
            token = root.findtext(f"{NS}NextContinuationToken")

    def names(self, prefix):
        return [n for n, _, _ in self.list(prefix)]

    def uploads(self, prefix):
        status, _, data = self.request("GET", query={"uploads": "", "prefix": prefix})
        if status != 200:
            raise RuntimeError(f"list uploads {prefix}: {status} {data[:200]!r}")
        root = ET.fromstring(data)
        return [(u.findtext(f"{NS}Key"), u.findtext(f"{NS}UploadId")) for u in root.findall(f"{NS}Upload")]

    def create_bucket(self, bucket):
        status, _, data = self.request("PUT", bucket=bucket)
        if status not in (200, 409):
            raise RuntimeError(f"create bucket {bucket}: {status} {data[:200]!r}")

    def put_many(self, items, threads=16):
        """items: [(name, body)] uploaded in parallel."""
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda it: self.put(*it), items))


def cache_version(paths):
    return hashlib.sha256(("|".join(paths) + "|zstd-without-long|1.0").encode()).hexdigest()


def manifest(key, version, repository, ref, archive, sha256="0" * 64, size=1):
    return json.dumps({"format": 1, "key": key, "version": version, "repository": repository, "ref": ref,
                       "size": size, "sha256": sha256, "created_ms": 0, "compression": "zstd-without-long",
                       "archive": archive})


def is_manifest(name):
    return name.endswith("/manifest.json")


def is_archive(name):
    return re.search(r"/archive-[0-9a-f]+\.tzst$", name) is not None
