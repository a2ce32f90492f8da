#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Summarize meson testlog.json files: list skipped tests with their reason,
then print one line 'N passed, N failed, N skipped'. Exit 1 on any failure."""
import json
import sys

passed = failed = skipped = 0
skips = []
fails = []
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            res = t.get("result")
            name = t.get("name")
            if res in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif res == "SKIP":
                skipped += 1
                out = (t.get("stdout") or "") + (t.get("stderr") or "")
                lines = [l for l in out.strip().splitlines() if l.strip()]
                skips.append((name, lines[-1] if lines else "no reason given"))
            else:
                failed += 1
                fails.append((name, res))

for name, why in skips:
    print(f"skipped {name}: {why}")
for name, res in fails:
    print(f"failed {name}: {res}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
