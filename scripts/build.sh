#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Configure (once) and build relive in ./build. Used by quickstart and test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null
