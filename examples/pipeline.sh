#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A shell pipeline checkpointed and restored: a producer writes numbered
# lines into a pipe, a consumer counts the lines it reads and prints
# "count number". Lines in flight in the pipe at dump time must arrive
# exactly once after restore, so every output line reads "n n-1".
#
#   examples/pipeline.sh [RELIVE]      (RELIVE defaults to build/relive)
#
# By hand it is:
#   setsid sh -c 'i=0; while :; do echo $i; i=$((i+1)); sleep 0.05; done |
#                 { n=0; while read l; do n=$((n+1)); echo "$n $l"; done; }' \
#       </dev/null >out 2>&1 &
#   relive dump -t PID -D img          (the whole tree: shell, producer, consumer)
#   relive restore -D img -d           (the pipe comes back with its data)
set -u
relive=$(readlink -f "${1:-build/relive}")
dir=$(mktemp -d /tmp/relive-pipeline.XXXXXX)
cd "$dir" || exit 1
mkdir img

cat > pipeline <<'SCRIPT'
#!/bin/sh
i=0
while :; do echo $i; i=$((i+1)); sleep 0.05; done | {
	n=0
	while read l; do n=$((n+1)); echo "$n $l"; done
}
SCRIPT
chmod +x pipeline
# setsid in a subshell: the pipeline's parent is init, which reaps it.
(setsid ./pipeline </dev/null >out 2>&1 &)
sleep 1
# The session leader is the shell started from this directory.
pid=
for p in $(pgrep -x pipeline); do
	if [ "$(readlink "/proc/$p/cwd")" = "$dir" ] && [ "$(ps -o sid= -p "$p" | tr -d ' ')" = "$p" ]; then
		pid=$p
	fi
done
[ -n "$pid" ] || { echo "FAIL: the pipeline did not start"; exit 1; }

stop() {
	for p in $(ps -o pid= -s "$pid"); do kill -9 "$p"; done
}

"$relive" dump -t "$pid" -D img || { stop; echo "FAIL: dump"; exit 1; }
before=$(wc -l <out)
# The dumped tree is killed; its pids are free once init has reaped it.
for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
"$relive" restore -D img -d || { echo "FAIL: restore"; exit 1; }
sleep 2
stop
after=$(wc -l <out)
bad=$(awk '$1 != $2 + 1' out | wc -l)
echo "$before lines before the dump, $after after the restore, $bad out of order"
if [ "$after" -gt "$before" ] && [ "$bad" -eq 0 ]; then
	echo PASS
	rm -rf "$dir"
else
	echo "FAIL (kept $dir)"
	exit 1
fi
