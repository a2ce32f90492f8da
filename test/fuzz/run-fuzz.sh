#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run one libFuzzer harness for a bounded time on a copy of its seed corpus
# (new inputs land in the copy, the committed corpus stays as it is).
# Usage: run-fuzz.sh HARNESS SEED_DIR SECONDS
set -eu
harness=$1 seeds=$2 secs=$3
work=$(mktemp -d /tmp/relive-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$seeds"/. "$work"/
"$harness" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$work/" -print_final_stats=1 "$work" || {
	rc=$?
	echo "fuzzer failed ($rc); crashing inputs:" >&2
	for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
		[ -e "$f" ] && { echo "$f" >&2; od -A d -t x1 "$f" | head -20 >&2; }
	done
	exit "$rc"
}
