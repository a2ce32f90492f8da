#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Install the Debian 12 packages relive's build and tests need.
# A no-op in well under a second when everything is already there.
set -euo pipefail

packages=(
	gcc
	meson
	ninja-build
	pkg-config
	python3
	libprotobuf-c-dev
	protobuf-c-compiler
	libnl-3-dev
	libnl-route-3-dev
	libcap-dev
	libbsd-dev
	iproute2
	procps
	util-linux
	bc
)
# Extra packages: scripts/install-deps.sh fuzz adds the fuzzing toolchain.
if [ "${1:-}" = fuzz ]; then
	packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root to install them with apt-get" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
