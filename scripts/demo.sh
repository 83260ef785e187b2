#!/usr/bin/env bash
# scripts/demo.sh - build and run the C demo (examples/demo, `daxm-demo`)
# on the model's emulated state: no DAX hardware, no root needed.
# Arguments are passed to the demo; the build log goes to stderr, so the
# demo's own output can be piped.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"

daxm_need_swift
daxm_need_packages libjson-c-dev pkg-config gcc libc6-dev

daxm_log "building daxm-demo (swift build --product daxm-demo)"
swift build --product daxm-demo >&2
bin=$(swift build --show-bin-path)
exec "$bin/daxm-demo" "$@"
