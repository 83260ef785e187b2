#!/usr/bin/env bash
# scripts/demo.sh - the README's demo, on the model's emulated memory (no
# DAX hardware, no root needed):
#   scripts/demo.sh            dax-jobs: a fabric manager offers tagged
#                              capacity, jobs allocate by tag, map and use
#                              it, a release waits for the job using it
#   scripts/demo.sh listing    daxm-demo: carve devices, print a
#                              daxctl-style JSON listing
#   scripts/demo.sh fabric     dax-fabric: a fabric manager and four hosts
#                              on one CXL DCD: job memory by tag, a dataset
#                              shared read-only, a forced release of a
#                              pending offer, a manager restart that finds
#                              nothing leaked
# Further arguments go to the program. Build logs go to stderr; each
# program narrates on stderr and prints its JSON on stdout.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/deps.sh
. "$root/scripts/deps.sh"

daxm_need_swift
daxm_need_packages libjson-c-dev libnuma-dev pkg-config gcc libc6-dev

product=dax-jobs
if [ "${1:-}" = listing ]; then
	product=daxm-demo
	shift
elif [ "${1:-}" = fabric ]; then
	product=dax-fabric
	shift
elif [ "${1:-}" = jobs ]; then
	shift
fi
daxm_log "building $product (swift build --product $product)"
swift build --product "$product" >&2
bin=$(swift build --show-bin-path)
exec "$bin/$product" "$@"
