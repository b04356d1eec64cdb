#!/usr/bin/env bash
# Ensure vegeta, the open-loop HTTP load generator of `python -m bench reads`, pinned to
# one module version.
#
#   scripts/vegeta.sh ensure   reuse or build it; print its path on stdout (default)
#   scripts/vegeta.sh path     print its path if the pinned build is there, else exit 1
#
# Built like MinIO (scripts/minio.sh): `go install` of the pinned module version from the
# Go module proxy into $(go env GOBIN) or $(go env GOPATH)/bin, reused when
# `go version -m` names that version; concurrent callers share one build (flock).
set -euo pipefail

MODULE=github.com/tsenart/vegeta/v12
VERSION=v12.13.0
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sanad"

fail() {
	printf 'vegeta: ERROR: %s\n' "$*" >&2
	exit 1
}

if command -v go >/dev/null 2>&1; then
	GO="$(command -v go)"
elif [[ -x /usr/local/go/bin/go ]]; then
	GO=/usr/local/go/bin/go
else
	fail "Go toolchain not found (needed to build vegeta)"
fi
TOOLS="$("$GO" env GOBIN)"
[[ -n "$TOOLS" ]] || TOOLS="$("$GO" env GOPATH | cut -d: -f1)/bin"
VEGETA="$TOOLS/vegeta"

# The binary names its main module and version; anything else is rebuilt.
pinned() {
	[[ -x "$VEGETA" ]] &&
		"$GO" version -m "$VEGETA" 2>/dev/null | awk -v m="$MODULE" -v v="$VERSION" '
			$1 == "mod" && $2 == m && $3 == v { ok = 1 } END { exit !ok }'
}

install_pinned() {
	mkdir -p "$CACHE"
	exec 8>"$CACHE/vegeta-build.lock"
	flock -w 600 8 || fail "could not get the build lock ($CACHE/vegeta-build.lock)"
	pinned && return 0 # someone else built it while we waited
	local log="$CACHE/vegeta-build.log" started=$SECONDS
	printf 'vegeta: installing %s@%s (log: %s)\n' "$MODULE" "$VERSION" "$log" >&2
	"$GO" install "$MODULE@$VERSION" >"$log" 2>&1 || {
		tail -n 20 "$log" >&2
		fail "go install failed (full log: $log)"
	}
	pinned || fail "installed $VEGETA, but 'go version -m' does not name $MODULE $VERSION"
	printf 'vegeta: installed %s in %d s\n' "$VEGETA" $((SECONDS - started)) >&2
}

case "${1:-ensure}" in
ensure)
	pinned || install_pinned
	echo "$VEGETA"
	;;
path)
	pinned || exit 1
	echo "$VEGETA"
	;;
*) fail "usage: $0 [ensure|path]" ;;
esac
