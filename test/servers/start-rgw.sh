#!/usr/bin/env bash
# start-rgw.sh — throwaway single-node Ceph RADOS Gateway (the real RGW, Ceph 16.2.15 "Pacific"
# from Debian 12) on 127.0.0.1, for tests. One ceph-mon + one ceph-osd (memstore: objects live in
# the OSD's RAM) + one radosgw (beast frontend), no cephx, no ceph-mgr, everything under $RGW_DIR.
# Ready (user created, bucket created) in ~1.5 s on 2 cores once the packages are installed.
#
# Prints KEY=VALUE lines (eval-able / appendable to $GITHUB_ENV):
#   S3_ENDPOINT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION S3_BUCKET RGW_DIR RGW_PID_FILE
# Idempotent: if the cluster in $RGW_DIR is already up and answering, it only prints those lines.
# A half-dead cluster is stopped and rebuilt (memstore keeps nothing across restarts anyway).
# Stop with stop-rgw.sh (same RGW_DIR). Logs: $RGW_DIR/log/*.log.
# Used by test/servers/rgw-lib.sh (which picks free ports; sourced by the test runners) and
# by .ci/run. Needs root for the apt-get branch only; the daemons themselves run as the calling user.
#
# Environment (all optional):
#   RGW_DIR=/tmp/cachekit-rgw   state dir (wiped on (re)create)
#   RGW_PORT=7480               S3 port (127.0.0.1 only)
#   RGW_MON_PORT=26789          mon msgr2 port; RGW_MS_PORT_MIN/MAX=26800/26899 for the OSD's ports
#   RGW_ACCESS_KEY / RGW_SECRET_KEY  (cachekit-test-access / cachekit-test-secret-0123456789)
#   RGW_BUCKET=cachekit-test    bucket to create ('' = none)
#   RGW_OBJECTSTORE=memstore    or 'bluestore' (a sparse 16 GiB file $RGW_DIR/osd/block; slower start,
#                               closer to production, data on disk instead of RAM)
#   RGW_MEMSTORE_BYTES=8589934592  capacity the memstore OSD reports (RAM is used only as written)
#   RGW_START_TIMEOUT=60        seconds to wait for each step
#   RGW_DNS_NAME=localhost      virtual-host style: http://<bucket>.localhost:$RGW_PORT/ (path-style works too)
set -euo pipefail

D=${RGW_DIR:-/tmp/cachekit-rgw}
PORT=${RGW_PORT:-7480}
MONPORT=${RGW_MON_PORT:-26789}
MSMIN=${RGW_MS_PORT_MIN:-26800}
MSMAX=${RGW_MS_PORT_MAX:-26899}
AK=${RGW_ACCESS_KEY:-cachekit-test-access}
SK=${RGW_SECRET_KEY:-cachekit-test-secret-0123456789}
BUCKET=${RGW_BUCKET-cachekit-test}
STORE=${RGW_OBJECTSTORE:-memstore}
MEMBYTES=${RGW_MEMSTORE_BYTES:-8589934592}
TMO=${RGW_START_TIMEOUT:-60}
DNSNAME=${RGW_DNS_NAME:-localhost}
REGION=us-east-1
PIDFILE="$D/rgw.pids"
EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { echo "start-rgw: $*" >&2; }
die() { log "ERROR: $*"; for f in mon.a osd.0 client.rgw; do [ -f "$D/log/$f.log" ] && { log "--- tail $D/log/$f.log"; tail -n 15 "$D/log/$f.log" >&2; }; done; exit 1; }

print_env() {
  cat <<EOF
S3_ENDPOINT=http://127.0.0.1:$PORT
AWS_ACCESS_KEY_ID=$AK
AWS_SECRET_ACCESS_KEY=$SK
AWS_REGION=$REGION
S3_BUCKET=$BUCKET
RGW_DIR=$D
RGW_PID_FILE=$PIDFILE
EOF
}

# S3 call signed with SigV4 by curl (path-style). curl 7.88 needs x-amz-content-sha256 set by hand.
s3curl() { curl -s -o /dev/null -w '%{http_code}' --max-time 30 --aws-sigv4 "aws:amz:$REGION:s3" \
             --user "$AK:$SK" -H "x-amz-content-sha256: $EMPTY_SHA" "$@"; }

# --- install (skipped when present) ----------------------------------------------------------
need=0
for b in radosgw radosgw-admin ceph-mon ceph-osd monmaptool ceph curl; do command -v "$b" >/dev/null || need=1; done
if [ $need = 1 ]; then
  log "installing Ceph (radosgw ceph-mon ceph-osd ceph-common) from Debian..."
  pk=(radosgw ceph-mon ceph-osd ceph-common ceph-base curl)
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${pk[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${pk[@]}" >/dev/null; } ||
    die "apt-get install ${pk[*]} failed"
fi

# --- already running? ------------------------------------------------------------------------
alive() { # all three pids alive and belong to this dir's cluster
  [ -f "$PIDFILE" ] || return 1
  local n=0 p
  while read -r p; do
    [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' < "/proc/$p/cmdline" | grep -qF "$D/ceph.conf" && n=$((n+1))
  done < "$PIDFILE"
  [ $n = 3 ]
}
if alive && [ "$(s3curl "http://127.0.0.1:$PORT/")" = 200 ]; then
  print_env; exit 0
fi
if [ -f "$PIDFILE" ] || [ -d "$D/run" ]; then
  log "stale or partial cluster in $D: stopping it"
  RGW_DIR=$D "$here/stop-rgw.sh" >/dev/null 2>&1 || true
fi
for p in $PORT $MONPORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port 127.0.0.1:$p is already in use (set RGW_PORT / RGW_MON_PORT)"; fi
done

# --- config ----------------------------------------------------------------------------------
rm -rf "$D"; mkdir -p "$D"/{mon,osd,run,log,rgw}
fsid=$(cat /proc/sys/kernel/random/uuid)
if [ "$STORE" = bluestore ]; then
  storeconf="osd objectstore = bluestore
bluestore block create = true
bluestore block size = 17179869184
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mkfs = false
bluestore cache size = 134217728
osd memory target = 939524096"
else
  storeconf="osd objectstore = memstore
memstore device bytes = $MEMBYTES"
fi
cat > "$D/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$MONPORT]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind port min = $MSMIN
ms bind port max = $MSMAX
# no cephx. radosgw's built-in default is ms_mon_client_mode=secure, which needs cephx:
# without the crc modes below radosgw loops on "get_initial_auth_request returned -13".
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms client mode = crc
ms service mode = crc
ms cluster mode = crc
# one OSD, size-1 pools, no mgr
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
osd crush chooseleaf type = 0
# commit every osdmap change at once instead of once a second: radosgw's start creates ~8 pools
# one after the other, each needing map epochs; this takes time-to-ready from ~12 s to ~1 s
paxos propose interval = 0.01
paxos min wait = 0.001
mon data avail warn = 2
mon data avail crit = 1
$storeconf
osd data = $D/osd
mon data = $D/mon
run dir = $D/run
log file = $D/log/\$name.log
admin socket = $D/run/\$name.asok
pid file = $D/run/\$name.pid
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw data = $D/rgw
keyring = $D/rgw/keyring
rgw thread pool size = 64
# virtual-host addressing: <bucket>.$DNSNAME; curl resolves *.localhost to loopback by itself
rgw dns name = $DNSNAME
CONF
C=(-c "$D/ceph.conf")
t() { timeout "$TMO" "$@"; }

# --- mon, osd, rgw ---------------------------------------------------------------------------
monmaptool --create --addv a "[v2:127.0.0.1:$MONPORT]" --fsid "$fsid" "$D/monmap" >/dev/null
t ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap" >"$D/log/mkfs-mon.out" 2>&1 || die "ceph-mon --mkfs failed"
t ceph-mon "${C[@]}" -i a >"$D/log/mon.out" 2>&1 || die "ceph-mon failed to start"
osdid=$(t ceph "${C[@]}" osd create 2>"$D/log/osd-create.err") || die "ceph osd create failed (mon not answering?)"
[ "$osdid" = 0 ] || die "unexpected osd id '$osdid'"
t ceph-osd "${C[@]}" -i 0 --mkfs >"$D/log/mkfs-osd.out" 2>&1 || die "ceph-osd --mkfs failed"
t ceph-osd "${C[@]}" -i 0 >"$D/log/osd.out" 2>&1 || die "ceph-osd failed to start"
t radosgw "${C[@]}" -n client.rgw >"$D/log/rgw.out" 2>&1 || die "radosgw failed to start"
{ cat "$D/run/mon.a.pid"; echo; cat "$D/run/osd.0.pid"; echo; } > "$PIDFILE.tmp"
for i in $(seq 1 $((TMO*10))); do [ -s "$D/run/client.rgw.pid" ] && break; sleep 0.1; done
cat "$D/run/client.rgw.pid" >> "$PIDFILE.tmp" 2>/dev/null || die "radosgw wrote no pid file"
echo >> "$PIDFILE.tmp"; grep -v '^$' "$PIDFILE.tmp" > "$PIDFILE"; rm -f "$PIDFILE.tmp"

ok=0
for i in $(seq 1 $((TMO*20))); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/")" = 200 ]; then ok=1; break; fi
  sleep 0.05
done
[ $ok = 1 ] || die "radosgw did not answer on 127.0.0.1:$PORT within ${TMO}s"

t radosgw-admin "${C[@]}" user create --uid cachekit --display-name cachekit \
  --access-key "$AK" --secret-key "$SK" >"$D/log/user-create.out" 2>&1 || die "radosgw-admin user create failed"
if [ -n "$BUCKET" ]; then
  c=$(s3curl -X PUT -H 'Content-Length: 0' "http://127.0.0.1:$PORT/$BUCKET")
  [ "$c" = 200 ] || die "creating bucket $BUCKET answered HTTP $c"
fi
print_env
