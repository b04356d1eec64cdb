#!/usr/bin/env bash
# Ensure the MinIO server binary used by the tests, pinned to one source version.
#
#   scripts/minio.sh ensure   reuse or build it; print its path on stdout (default)
#   scripts/minio.sh path     print its path if the pinned build is there, else exit 1
#
# MinIO ships as source only, so it is built with `go install` (a few minutes on two
# cores) into $(go env GOBIN) or $(go env GOPATH)/bin. An existing binary is reused when
# `go version -m` shows it was built from the pinned module version. Concurrent callers
# share one build (flock), and a `go install` of MinIO already running is waited for.
set -euo pipefail

MODULE=github.com/minio/minio
VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/sanad"
WAIT_LIMIT=${SANAD_MINIO_BUILD_WAIT:-1800} # seconds to wait for someone else's build

say() { printf 'minio: %s\n' "$*" >&2; }
die() {
	printf 'minio: ERROR: %s\n' "$*" >&2
	exit 1
}

find_go() {
	if command -v go >/dev/null 2>&1; then
		command -v go
	elif [[ -x /usr/local/go/bin/go ]]; then
		echo /usr/local/go/bin/go
	else
		return 1
	fi
}

GO="$(find_go)" || die "Go toolchain not found (needed to build MinIO from source)"
GOBIN_DIR="$("$GO" env GOBIN)"
if [[ -z "$GOBIN_DIR" ]]; then
	GOPATH_FIRST="$("$GO" env GOPATH)"
	GOBIN_DIR="${GOPATH_FIRST%%:*}/bin"
fi
BIN="$GOBIN_DIR/minio"

is_pinned() {
	[[ -x "$BIN" ]] || return 1
	local v
	v="$("$GO" version -m "$BIN" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3 }')"
	[[ "$v" == "$VERSION" ]]
}

foreign_build_running() {
	pgrep -f "go install $MODULE@" >/dev/null 2>&1
}

wait_for_foreign_build() {
	local waited=0
	if foreign_build_running; then
		say "another 'go install $MODULE' is running: waiting for it (up to ${WAIT_LIMIT} s)"
	fi
	while foreign_build_running; do
		((waited >= WAIT_LIMIT)) && die "gave up after ${WAIT_LIMIT} s waiting for the other MinIO build"
		sleep 5
		waited=$((waited + 5))
	done
}

build() {
	mkdir -p "$CACHE"
	local log="$CACHE/minio-build.log"
	exec 9>"$CACHE/minio-build.lock"
	flock -w "$WAIT_LIMIT" 9 || die "could not get the MinIO build lock ($CACHE/minio-build.lock)"
	wait_for_foreign_build
	if is_pinned; then # built by whoever held the lock before us
		return 0
	fi
	say "building $MODULE@$VERSION with $("$GO" env GOVERSION) (takes minutes; log: $log)"
	local t0=$SECONDS
	if ! "$GO" install "$MODULE@$VERSION" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "go install failed (full log: $log)"
	fi
	is_pinned || die "built $BIN but 'go version -m' does not show $MODULE $VERSION"
	say "built $BIN in $((SECONDS - t0)) s"
}

case "${1:-ensure}" in
ensure)
	if ! is_pinned; then
		wait_for_foreign_build
		is_pinned || build
	fi
	echo "$BIN"
	;;
path)
	is_pinned || exit 1
	echo "$BIN"
	;;
*) die "usage: $0 [ensure|path]" ;;
esac
