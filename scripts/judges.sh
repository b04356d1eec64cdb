#!/usr/bin/env bash
# Build the independent validators the test suite asks for a verdict: EU DSS (PAdES) and
# veraPDF (PDF/A, PDF/UA), each a one-file Java program under tests/judges/<name>/ (plus
# what they share, tests/judges/common/).
#
#   scripts/judges.sh ensure        build both unless built (prints nothing on stdout)
#   scripts/judges.sh path NAME     print NAME's build directory if built, else exit 1
#   scripts/judges.sh run NAME ARG...   run NAME's program (builds it first if needed)
#
# Maven resolves each pom.xml's dependencies from Maven Central into a private local
# repository (~/.cache/sanad/m2); javac compiles the sources. A build lives in
# ~/.cache/sanad/judges/NAME-<sha256 of its pom.xml, source and the javac version>/
# (classes/ and classpath.txt), so an unchanged judge is never rebuilt and a changed one
# gets a new directory. Concurrent callers share one build (flock).
#
# Environment: SANAD_JUDGES_CACHE (default ~/.cache/sanad), JAVA_HOME (else java on PATH).
set -euo pipefail

REPO="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SANAD_JUDGES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sanad}"
JUDGES=(dss verapdf)
declare -A MAIN=([dss]=in.gov.punjab.sanad.judges.DssJudge [verapdf]=in.gov.punjab.sanad.judges.VeraPdfJudge)

say() { printf 'judges: %s\n' "$*" >&2; }
die() {
	printf 'judges: ERROR: %s\n' "$*" >&2
	exit 1
}

tool() {
	if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/$1" ]]; then
		echo "$JAVA_HOME/bin/$1"
	else
		command -v "$1" || return 1
	fi
}

known() {
	[[ -n "${MAIN[$1]:-}" ]] || die "unknown judge '$1' (expected: ${JUDGES[*]})"
}

source_of() { echo "$REPO/tests/judges/$1"; }

# The judge's own Java files and the shared ones, in a stable order.
sources_of() { find "$(source_of "$1")/src" "$REPO/tests/judges/common/src" -name '*.java' -type f | sort; }

build_dir() {
	local src javac digest
	src="$(source_of "$1")"
	javac="$(tool javac)" || die "javac not found (scripts/setup.sh test installs a JDK)"
	digest="$( (
		cat "$src/pom.xml"
		sources_of "$1" | xargs cat
		"$javac" -version 2>&1
	) | sha256sum | cut -c1-16)"
	echo "$CACHE/judges/$1-$digest"
}

build() {
	local name="$1" dir src mvn javac log
	dir="$(build_dir "$name")"
	[[ -f "$dir/built" ]] && return 0
	mvn="$(command -v mvn)" || die "mvn not found (scripts/setup.sh test installs Maven)"
	javac="$(tool javac)"
	mkdir -p "$CACHE/judges"
	exec 8>"$CACHE/judges/$name.lock"
	flock -w 1800 8 || die "could not get the build lock for $name"
	[[ -f "$dir/built" ]] && return 0 # built by whoever held the lock before us
	src="$(source_of "$name")"
	log="$CACHE/judges/$name-build.log"
	say "building $name (Maven Central dependencies on first use; log: $log)"
	local t0=$SECONDS
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp/classes"
	if ! (cd "$src" && "$mvn" -B -q -Dmaven.repo.local="$CACHE/m2" dependency:build-classpath \
		-Dmdep.outputFile="$dir.tmp/classpath.txt") >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "resolving $name's dependencies failed (full log: $log)"
	fi
	if ! "$javac" -encoding UTF-8 --release 17 -cp "$(cat "$dir.tmp/classpath.txt")" -d "$dir.tmp/classes" \
		$(sources_of "$name") >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "compiling $name failed (full log: $log)"
	fi
	touch "$dir.tmp/built"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	say "built $name in $((SECONDS - t0)) s ($dir)"
}

case "${1:-ensure}" in
ensure)
	for name in "${JUDGES[@]}"; do build "$name"; done
	;;
path)
	known "${2:-}"
	dir="$(build_dir "$2")"
	[[ -f "$dir/built" ]] || exit 1
	echo "$dir"
	;;
run)
	known "${2:-}"
	name="$2"
	shift 2
	build "$name"
	dir="$(build_dir "$name")"
	java="$(tool java)" || die "java not found"
	exec "$java" -Xshare:auto -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
		-cp "$dir/classes:$(cat "$dir/classpath.txt")" "${MAIN[$name]}" "$@"
	;;
*) die "usage: $0 ensure | path NAME | run NAME ARG..." ;;
esac
