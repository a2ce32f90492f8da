#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Move a running process from one network namespace to another with
# post-copy migration: the source dumps everything but its anonymous
# memory and stays frozen, serving pages; the destination restores at once
# and fetches each page on first touch, the rest in the background.
#
#   scripts/migrate.sh SRC_NETNS DST_NETNS PID [PORT]
#
# SRC_NETNS and DST_NETNS are names from `ip netns list` joined so that
# DST_NETNS reaches the first IPv4 address of SRC_NETNS (a veth pair, for
# example). PID runs in SRC_NETNS. On one machine the frozen source keeps
# its PIDs until its pages have moved, so the destination restores in new
# pid and mount namespaces (inside DST_NETNS); the restored process keeps
# running there, under a small init, after this script returns.
# RELIVE=path/to/relive chooses the binary (default: build/relive).
set -euo pipefail

if [ $# -lt 3 ]; then
	sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi
src_ns=$1 dst_ns=$2 pid=$3 port=${4:-27182}
relive=$(realpath "${RELIVE:-$(dirname "$0")/../build/relive}")
work=$(mktemp -d /tmp/relive-migrate.XXXXXX)
src_dir=$work/src dst_dir=$work/dst
mkdir "$src_dir"

addr=$(ip -n "$src_ns" -4 -o addr show scope global | awk '{print $4; exit}' | cut -d/ -f1)
if [ -z "$addr" ]; then
	echo "migrate: $src_ns has no global IPv4 address for the page server" >&2
	exit 1
fi

echo "migrate: dumping $pid in $src_ns; its pages stay there, served on $addr:$port"
rm -f "$work/status"
ip netns exec "$src_ns" "$relive" dump -t "$pid" -D "$src_dir" --lazy-pages \
	--address "$addr" --port "$port" -o "$work/dump.log" --status-fd 9 9>"$work/status" &
dump=$!
for _ in $(seq 2000); do
	[ -s "$work/status" ] && break
	if ! kill -0 "$dump" 2>/dev/null; then
		echo "migrate: the dump failed (see $work/dump.log); $pid was not moved" >&2
		exit 1
	fi
	sleep 0.01
done

# What a user copies to the destination host: the images without the lazy pages.
cp -r "$src_dir" "$dst_dir"
echo "migrate: copied $(du -sh "$dst_dir" | cut -f1) of images"

rm -f "$work/lp-status"
ip netns exec "$dst_ns" "$relive" lazy-pages -D "$dst_dir" --page-server --address "$addr" \
	--port "$port" -o "$work/lazy-pages.log" --status-fd 9 9>"$work/lp-status" &
daemon=$!
for _ in $(seq 2000); do
	[ -s "$work/lp-status" ] && break
	if ! kill -0 "$daemon" 2>/dev/null; then
		echo "migrate: the lazy-pages daemon failed (see $work/lazy-pages.log)" >&2
		wait "$dump" || true
		exit 1
	fi
	sleep 0.01
done

# relive restore must not be PID 1 of the new pid namespace: this small
# init is. It runs the restore, then reaps the restored tree until it ends.
init='
import os, subprocess, sys
rc = subprocess.call(sys.argv[1:])
print("migrate: restore exited with %d" % rc, flush=True)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
'
ip netns exec "$dst_ns" unshare --pid --mount --fork --mount-proc python3 -c "$init" \
	"$relive" restore -D "$dst_dir" --lazy-pages -d -o "$work/restore.log" \
	--pidfile "$work/restored.pid" </dev/null >"$work/destination.out" 2>&1 &
for _ in $(seq 2000); do
	[ -s "$work/restored.pid" ] && break
	if ! kill -0 "$daemon" 2>/dev/null; then
		break
	fi
	sleep 0.01
done

rc=0
wait "$daemon" || rc=$?
wait "$dump" || rc=$?
cat "$work/dump.log" | grep -E "^dump:|Error" || true
if [ $rc -ne 0 ]; then
	echo "migrate: failed (logs in $work)" >&2
	exit 1
fi
echo "migrate: done: every page moved, the source is gone; logs in $work"
