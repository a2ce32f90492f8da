#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Install what is missing, build relive, then show what it does: probe the
# kernel, checkpoint a counting program, restore it (eagerly, then lazily
# if the kernel allows), and watch it keep counting.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

scripts/install-deps.sh
scripts/build.sh
relive=build/relive

echo "== relive check"
$relive check

work=$(mktemp -d /tmp/relive-demo.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT


echo
echo "== start a program that counts and checks 64 MiB of memory"
spawn_session /dev/null build/examples/counter "$work/count.txt"
pid=$spawned_pid
sleep 1
echo "counter (pid $pid) has counted to $(tail -n1 "$work/count.txt")"

echo
echo "== relive dump -t $pid -D $work/img"
mkdir "$work/img"
$relive dump -t "$pid" -D "$work/img"
before=$(tail -n1 "$work/count.txt")
echo "dumped at count $before; the process is gone: $([ -d /proc/$pid ] && echo no || echo yes)"
wait_gone "$pid"
du -sh "$work/img" | sed 's/^/images: /'

echo
echo "== relive restore -D $work/img -d"
$relive restore -D "$work/img" -d --pidfile "$work/restored.pid"
pid=$(cat "$work/restored.pid")
sleep 1
after=$(tail -n1 "$work/count.txt")
echo "restored as pid $pid; it counted on from $before to $after"
if [ "$after" -le "$before" ] || grep -q corrupted "$work/count.txt"; then
	echo "quickstart: the restored counter did not continue" >&2
	exit 1
fi
kill -KILL "$pid"
wait_gone "$pid"
pid=""

echo
echo "== lazy: relive lazy-pages -D $work/img & relive restore --lazy-pages -D $work/img -d"
$relive lazy-pages -D "$work/img" >"$work/lazy.log" 2>&1 &
daemon=$!
for _ in $(seq 200); do
	[ -S "$work/img/lazy-pages.socket" ] && break
	sleep 0.05
done
t0=$(date +%s%N)
$relive restore --lazy-pages -D "$work/img" -d --pidfile "$work/restored.pid"
t1=$(date +%s%N)
pid=$(cat "$work/restored.pid")
echo "running again as pid $pid after $(((t1 - t0) / 1000000)) ms, before its 64 MiB are back;"
echo "the daemon serves its faults first and fills the rest in the background:"
if ! wait "$daemon"; then
	cat "$work/lazy.log" >&2
	echo "quickstart: the lazy-pages daemon failed" >&2
	exit 1
fi
sed 's/^/  /' "$work/lazy.log"
sleep 1
now=$(tail -n1 "$work/count.txt")
echo "restored from the same images, it counted on from $before to $now"
if [ "$now" -le "$before" ] || grep -q corrupted "$work/count.txt"; then
	echo "quickstart: the lazily restored counter did not continue" >&2
	exit 1
fi
kill -KILL "$pid"
wait_gone "$pid"
pid=""
echo
echo "quickstart: done"
