#!/usr/bin/env bash
# check-exports.sh - the exported ABI of libdaxmodel is exactly the header.
#
# usage: scripts/check-exports.sh [--header FILE] [--map FILE] [--soname NAME]
#                                 [--static LIB.a] [LIB.so]
#        scripts/check-exports.sh [--header FILE] --list
#
# --list prints the header's functions in declaration order, one per line,
# for writing the version script.
#
# Checks, each only when its input is given:
#   header  every function declared at file scope in the header (default
#           include/daxmodel.h) is found by two independent parsers, a
#           text parser and gcc's own -aux-info; they must agree.
#   map     the GNU ld version script (default cmake/daxmodel.map) lists
#           exactly the header's functions, each once, explicitly (no
#           wildcards in global:), and its first node ends with local: *;
#   LIB.so  `nm -D --defined-only` shows every header function, versioned
#           with the node the map puts it in, no other daxm_* symbol, and
#           nothing else besides the version nodes and linker symbols;
#           FLAGS_1 has NODELETE; SONAME is --soname when given.
#   LIB.a   defines every header function as a global text symbol.
#
# Exit status 0 when everything holds; 1 with a list of problems otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
header="$here/include/daxmodel.h"
map="$here/cmake/daxmodel.map"
soname=""
static_lib=""
shared_lib=""
list_only=0

while [ $# -gt 0 ]; do
	case "$1" in
	--header) header=$2; shift 2 ;;
	--map) map=$2; shift 2 ;;
	--soname) soname=$2; shift 2 ;;
	--static) static_lib=$2; shift 2 ;;
	--list) list_only=1; shift ;;
	-h | --help) sed -n '2,26p' "$0"; exit 0 ;;
	-*) echo "check-exports: unknown option $1" >&2; exit 2 ;;
	*) shared_lib=$1; shift ;;
	esac
done

NM=${NM:-nm}
READELF=${READELF:-readelf}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
problems=0
fail() { echo "check-exports: FAIL: $*" >&2; problems=$((problems + 1)); }

[ -r "$header" ] || { echo "check-exports: cannot read header $header" >&2; exit 2; }

# ---- 1. the header's functions, parsed as text ------------------------------
# Comments, preprocessor directives (with continuation lines, so the
# iteration macros go too) and `extern "C" {` are removed; the rest is split
# into file-scope declarations at `;` outside braces. A declaration is a
# function when it is not a typedef and an identifier is followed by its
# parameter list; inline definitions (a body instead of `;`) are skipped,
# since they are not exported.
perl -e '
	local $/; my $s = <>;
	$s =~ s{/\*.*?\*/}{ }gs;
	$s =~ s{//[^\n]*}{}g;
	$s =~ s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{}mg;
	$s =~ s{extern\s*"C(?:\+\+)?"\s*\{}{ }g;
	my %kw = map { $_ => 1 } qw(void char short int long float double signed
		unsigned const volatile struct union enum extern static inline
		restrict _Bool __attribute__ __attribute __declspec __asm__ asm
		__restrict __inline __extension__ _Noreturn _Alignas sizeof typeof);
	my (@stmts, $cur, $depth, $isdef) = ((), "", 0, 0);
	for my $c (split //, $s) {
		if ($c eq "{") {
			$isdef = 1 if $depth == 0 && $cur =~ /\)\s*$/;
			$depth++; next;
		}
		if ($c eq "}") {
			if ($depth == 0) { next }            # the extern "C" closer
			$depth--;
			if ($depth == 0 && $isdef) { $cur = ""; $isdef = 0 }
			next;
		}
		next if $depth > 0;
		if ($c eq ";") { push @stmts, $cur; $cur = ""; next }
		$cur .= $c;
	}
	for my $st (@stmts) {
		$st =~ s/\s+/ /g; $st =~ s/^ //;
		next if $st =~ /^(typedef|static)\b/;
		my $name;
		while ($st =~ /([A-Za-z_]\w*)\s*\(/g) {
			next if $kw{$1};
			$name = $1; last;
		}
		print "$name\n" if defined $name;
	}
' "$header" >"$tmp/header.order"
if [ "$list_only" = 1 ]; then
	cat "$tmp/header.order"
	exit 0
fi
sort "$tmp/header.order" >"$tmp/header.text"

# ---- 2. the same, as gcc sees it --------------------------------------------
CC_AUX=${CC_AUX:-gcc}
if command -v "$CC_AUX" >/dev/null 2>&1; then
	cp "$header" "$tmp/h.h"
	(cd "$tmp" && "$CC_AUX" -w -fsyntax-only -aux-info aux.txt -x c h.h)
	# Lines like "/* h.h:136:NC */ extern int daxm_new (struct daxm_ctx **);"
	# NC marks a declaration (not a definition); static ones are not exported.
	perl -ne '
		next unless s{^/\* h\.h:\d+:NC \*/\s*}{};
		next if /^static\b/;
		while (/([A-Za-z_]\w*)\s*\(/g) {
			next if $1 =~ /^(void|char|short|int|long|float|double|signed|unsigned|const|volatile|struct|union|enum|extern|__attribute__)$/;
			print "$1\n"; last;
		}' "$tmp/aux.txt" | sort >"$tmp/header.gcc"
	if ! diff -u "$tmp/header.text" "$tmp/header.gcc" >"$tmp/diff"; then
		fail "the text parser and gcc -aux-info disagree on $header's functions:"
		cat "$tmp/diff" >&2
	fi
else
	echo "check-exports: note: $CC_AUX not found, header parsed as text only" >&2
fi

n_header=$(wc -l <"$tmp/header.text")
if [ "$n_header" -eq 0 ]; then
	fail "no function found in $header"
fi
if [ -n "$(uniq -d "$tmp/header.text")" ]; then
	fail "functions declared twice in $header: $(uniq -d "$tmp/header.text" | tr '\n' ' ')"
fi
if grep -v '^daxm_' "$tmp/header.text" >"$tmp/bad"; then
	fail "functions without the daxm_ prefix in $header: $(tr '\n' ' ' <"$tmp/bad")"
fi
sort -u "$tmp/header.text" >"$tmp/header"
echo "check-exports: $header declares $n_header functions"

# ---- 3. the version script ---------------------------------------------------
# Output: "symbol node" for each global: entry; "!node" for a node that
# ends with local: *; "?text" for anything that is not understood.
if [ -n "$map" ]; then
	[ -r "$map" ] || { echo "check-exports: cannot read version script $map" >&2; exit 2; }
	perl -e '
		local $/; my $s = <>;
		$s =~ s{/\*.*?\*/}{ }gs;
		$s =~ s{(#|//)[^\n]*}{}g;
		while ($s =~ /\G\s*([A-Za-z_][\w.]*)\s*\{(.*?)\}\s*([A-Za-z_][\w.]*)?\s*;/gsc) {
			my ($node, $body) = ($1, $2);
			my $scope = "";
			for my $item (split /;/, $body) {
				$item =~ s/^\s+|\s+$//g;
				next if $item eq "";
				if ($item =~ s/^(global|local)\s*:\s*//) { $scope = $1 }
				next if $item eq "";
				if ($scope eq "global" && $item =~ /^[A-Za-z_]\w*$/) { print "$item $node\n" }
				elsif ($scope eq "local" && $item eq "*") { print "!$node\n" }
				else { print "?$node: $scope: $item\n" }
			}
		}
		my $rest = substr($s, pos($s) // 0);
		print "?trailing text: $rest\n" if $rest =~ /\S/;
	' "$map" >"$tmp/map.raw"
	if grep '^?' "$tmp/map.raw" >"$tmp/bad"; then
		fail "$map: entries that are not an explicit global symbol or local: *:"
		sed 's/^?/    /' "$tmp/bad" >&2
	fi
	first_node=$(grep -v '^[!?]' "$tmp/map.raw" | head -n1 | cut -d' ' -f2 || true)
	if ! grep -qx "!$first_node" "$tmp/map.raw"; then
		fail "$map: the first node ($first_node) must end with local: *;"
	fi
	grep -v '^[!?]' "$tmp/map.raw" | sort >"$tmp/map.pairs" || true
	cut -d' ' -f1 "$tmp/map.pairs" | sort >"$tmp/map.syms"
	if [ -n "$(uniq -d "$tmp/map.syms")" ]; then
		fail "$map lists symbols more than once: $(uniq -d "$tmp/map.syms" | tr '\n' ' ')"
	fi
	sort -u "$tmp/map.syms" >"$tmp/map"
	if ! diff -u --label header "$tmp/header" --label "$(basename "$map")" "$tmp/map" >"$tmp/diff"; then
		fail "$map does not list exactly the header's functions (- only in the header, + only in the map; \`$0 --list\` prints the header's):"
		grep -E '^[-+][a-z_]' "$tmp/diff" >&2 || true
	fi
	echo "check-exports: $map lists $(wc -l <"$tmp/map") functions in $(grep -v '^[!?]' "$tmp/map.raw" | cut -d' ' -f2 | sort -u | wc -l) node(s)"
fi

# ---- 4. the shared library ---------------------------------------------------
linker_syms='^(_init|_fini|__bss_start|_edata|_end|__end|_etext|__data_start)$'
if [ -n "$shared_lib" ]; then
	[ -r "$shared_lib" ] || { echo "check-exports: cannot read $shared_lib" >&2; exit 2; }
	# "name version type"; version is "-" for unversioned symbols. A
	# lower-case type is a LOCAL symbol: gold leaves symbols that the
	# version script made local (protected ones) in .dynsym with LOCAL
	# binding. They cannot be linked against, so they are not exports
	# (except i, GNU ifunc, and u, unique global, which nm prints in
	# lower case).
	"$NM" -D --defined-only "$shared_lib" | awk '
		NF >= 3 { name = $3; ver = "-"
			if (index(name, "@")) { ver = name; sub(/^[^@]*@+/, "", ver); sub(/@.*/, "", name) }
			print name, ver, $2 }' | sort >"$tmp/dyn.all"
	awk '$3 ~ /^[A-Ziu]$/' "$tmp/dyn.all" >"$tmp/dyn"
	n_local=$(awk '$3 !~ /^[A-Ziu]$/' "$tmp/dyn.all" | wc -l)
	awk '$1 ~ /^daxm_/ { print $1 }' "$tmp/dyn" | sort -u >"$tmp/exported"
	if ! diff -u --label header "$tmp/header" --label "$(basename "$shared_lib")" "$tmp/exported" >"$tmp/diff"; then
		fail "$shared_lib does not export exactly the header's functions (- missing, + not in the header):"
		grep -E '^[-+][a-z_]' "$tmp/diff" >&2 || true
	fi
	awk '$1 ~ /^daxm_/ && $3 !~ /^[TtWi]$/ { print "    " $1 " has type " $3 }' "$tmp/dyn" >"$tmp/bad"
	if [ -s "$tmp/bad" ]; then
		fail "exported daxm_* symbols that are not functions:"; cat "$tmp/bad" >&2
	fi
	nodes=""
	[ -n "$map" ] && nodes=$(grep -v '^[!?]' "$tmp/map.raw" | cut -d' ' -f2 | sort -u | paste -sd'|' -)
	awk -v ls="$linker_syms" -v nodes="^(${nodes:-})\$" '
		$1 ~ /^daxm_/ { next }
		$1 ~ ls { next }
		nodes != "^()$" && $1 ~ nodes && $3 == "A" { next }
		{ print "    " $1 " (" $3 ", version " $2 ")" }' "$tmp/dyn" >"$tmp/bad"
	if [ -s "$tmp/bad" ]; then
		fail "$shared_lib exports symbols other than daxm_* and linker symbols:"
		head -n 40 "$tmp/bad" >&2
		[ "$(wc -l <"$tmp/bad")" -le 40 ] || echo "    ... $(wc -l <"$tmp/bad") in all" >&2
	fi
	if [ -n "$map" ]; then
		# each function carries the version node the map puts it in
		awk '$1 ~ /^daxm_/ { print $1, $2 }' "$tmp/dyn" | sort >"$tmp/dyn.pairs"
		join "$tmp/map.pairs" "$tmp/dyn.pairs" | awk '$2 != $3 { print "    " $1 ": " $3 ", the map says " $2 }' >"$tmp/bad"
		if [ -s "$tmp/bad" ]; then
			fail "exported functions with the wrong version node:"; cat "$tmp/bad" >&2
		fi
	fi
	"$READELF" -d "$shared_lib" >"$tmp/dynamic"
	if ! grep -E '\(FLAGS_1\).*NODELETE' "$tmp/dynamic" >/dev/null; then
		fail "$shared_lib is not linked with -z nodelete (no NODELETE in FLAGS_1)"
	fi
	if [ -n "$soname" ]; then
		got=$(sed -nE 's/.*\(SONAME\).*\[(.*)\]/\1/p' "$tmp/dynamic")
		[ "$got" = "$soname" ] || fail "$shared_lib has SONAME '${got}', expected '$soname'"
	fi
	echo "check-exports: $shared_lib exports $(wc -l <"$tmp/exported") daxm_* functions, $(wc -l <"$tmp/dyn") dynamic symbols in all ($n_local more are local)"
fi

# ---- 5. the static library ---------------------------------------------------
if [ -n "$static_lib" ]; then
	[ -r "$static_lib" ] || { echo "check-exports: cannot read $static_lib" >&2; exit 2; }
	"$NM" -g --defined-only "$static_lib" 2>/dev/null |
		awk 'NF >= 3 && $3 ~ /^daxm_/ && $2 ~ /^[TW]$/ { print $3 }' | sort >"$tmp/static.all"
	if [ -n "$(uniq -d "$tmp/static.all")" ]; then
		fail "$static_lib defines symbols more than once: $(uniq -d "$tmp/static.all" | tr '\n' ' ')"
	fi
	sort -u "$tmp/static.all" >"$tmp/static"
	if ! diff -u --label header "$tmp/header" --label "$(basename "$static_lib")" "$tmp/static" >"$tmp/diff"; then
		fail "$static_lib does not define exactly the header's functions (- missing, + not in the header):"
		grep -E '^[-+][a-z_]' "$tmp/diff" >&2 || true
	fi
	echo "check-exports: $static_lib defines $(wc -l <"$tmp/static") daxm_* functions"
fi

if [ "$problems" -ne 0 ]; then
	echo "check-exports: $problems problem(s)" >&2
	exit 1
fi
echo "check-exports: OK"
