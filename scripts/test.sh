#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Install what is missing, build, and run the whole test suite: unit,
# primitives, workload cases in every mode, end-to-end command tests and a
# short bounded run of every fuzzer. Ends with one line:
#   N passed, N failed, N skipped
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh fuzz || exit 1
scripts/build.sh || exit 1

logs=()
meson test -C build --num-processes 2 --print-errorlogs
logs+=(build/meson-logs/testlog.json)

# Fuzzers need clang's libFuzzer; they get their own build directory.
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true >/dev/null || exit 1
fi
if ninja -C build-fuzz >/dev/null; then
	meson test -C build-fuzz --suite fuzz --num-processes 2 --print-errorlogs
	logs+=(build-fuzz/meson-logs/testlog.json)
else
	echo "test.sh: the fuzz build failed" >&2
	exit 1
fi

exec python3 scripts/test-summary.py "${logs[@]}"
