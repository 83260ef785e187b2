# shellcheck shell=bash
# scripts/deps.sh - sourced by scripts/test.sh and scripts/demo.sh.
#
# daxm_need_packages PKG...  installs the Debian packages that are missing
# (checked with dpkg-query first, so a machine that has them all never
# touches apt). Uses sudo only when not root. On a system without dpkg it
# only names the packages and trusts that their equivalents are there.
# Everything these functions print goes to stderr.

daxm_log() { printf '==> %s\n' "$*" >&2; }
daxm_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

daxm_need_packages() {
	local missing=() p
	if ! command -v dpkg-query >/dev/null 2>&1; then
		daxm_log "not a Debian-based system: make sure these (or your distribution's equivalents) are installed: $*"
		return 0
	fi
	for p in "$@"; do
		if ! dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed; then
			missing+=("$p")
		fi
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 ||
		daxm_die "missing packages (${missing[*]}) and no apt-get: install them by hand"
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null 2>&1 ||
			daxm_die "missing packages (${missing[*]}): run as root or install sudo"
		sudo=(sudo)
	fi
	daxm_log "installing missing packages: ${missing[*]}"
	# apt's progress goes to stderr: stdout belongs to the caller (the
	# demo prints only its JSON listing there).
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

# daxm_need_swift: swift and swiftc in PATH, or in $SWIFT_TOOLCHAIN/usr/bin
# or /opt/swift/usr/bin (then added to PATH).
daxm_need_swift() {
	local d
	if ! command -v swiftc >/dev/null 2>&1; then
		for d in ${SWIFT_TOOLCHAIN:+"$SWIFT_TOOLCHAIN/usr/bin"} /opt/swift/usr/bin; do
			if [ -x "$d/swiftc" ]; then
				export PATH="$d:$PATH"
				break
			fi
		done
	fi
	if ! command -v swift >/dev/null 2>&1 || ! command -v swiftc >/dev/null 2>&1; then
		daxm_die "swift is not in PATH: install a Swift 6.3 toolchain and add <swift-toolchain>/usr/bin to PATH"
	fi
}
