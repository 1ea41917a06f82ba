#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: boots the test VM, loads Hone, runs a few commands and shows what /dev/honet
# and /dev/hone (decoded with hone-dump) recorded about them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/deps.sh"
exec "$repo/scripts/vm.sh" -- "bash \$HONE_REPO/tests/vm/demo-in-vm.sh"
