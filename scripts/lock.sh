#!/usr/bin/env bash
# The lock files: every Python dependency, direct and transitive, pinned with its hashes.
#
#   scripts/lock.sh          regenerate both from pyproject.toml (`make lock`)
#   scripts/lock.sh check    exit 1 when pyproject.toml's dependencies changed since the
#                            lock files were made (they would install something else)
#   scripts/lock.sh stamp    print the fingerprint of pyproject.toml's dependencies
#
# requirements-dev.lock   runtime + dev: scripts/setup.sh (make run, make test, CI)
# requirements.lock       runtime only, the same versions: the container image
# requirements-pip.lock   pip itself, at PIP_VERSION: installed before either of the others
#
# All are resolved by uv for Python 3.11 on any platform (--universal), with the hash of
# every published file of each pinned version, so `pip install --require-hashes` accepts
# them on x86-64 and arm64 alike. In the first two, the first line after uv's header records
# the fingerprint of the dependency lists they were made from (`stamp`), which setup.sh and
# the test suite compare with pyproject.toml's.
set -euo pipefail

REPO="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEV_LOCK="$REPO/requirements-dev.lock"
RUNTIME_LOCK="$REPO/requirements.lock"
PIP_LOCK="$REPO/requirements-pip.lock"
STAMP_PREFIX="# dependencies-sha256: "

# The pip that installs the locks. The pip a Python 3.11 venv starts with (23.2) refuses a
# hashed lock once a dependency asks for an extra (pip-audit wants CacheControl[filecache])
# and the index holds a newer release of it than the pinned one: it treats the extra as a
# second, unpinned requirement. Newer pips reuse the pinned candidate.
PIP_VERSION="26.3"

# The fingerprint covers only what decides the resolution (the project's dependency and
# optional-dependency lists), so tool settings can change without a new lock.
stamp() {
	local python="${SANAD_PYTHON:-}"
	[[ -z "$python" ]] && python="$(command -v python3.11 || command -v python3)"
	"$python" - "$REPO/pyproject.toml" <<'EOF'
import hashlib, json, sys, tomllib
with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)["project"]
lists = {"dependencies": project.get("dependencies", []), "optional": project.get("optional-dependencies", {})}
print(hashlib.sha256(json.dumps(lists, sort_keys=True).encode()).hexdigest())
EOF
}

recorded() {
	[[ -f "$1" ]] && grep -m1 "^$STAMP_PREFIX" "$1" | cut -d' ' -f3 || true
}

uv_bin() {
	if [[ -x "$REPO/.venv/bin/uv" ]]; then
		echo "$REPO/.venv/bin/uv"
	elif command -v uv >/dev/null; then
		command -v uv
	else
		echo "lock: uv is not installed; run scripts/setup.sh python first (it is a dev dependency)" >&2
		exit 1
	fi
}

compile() {
	local out="$1"
	shift
	local body
	body="$(mktemp)"
	(cd "$REPO" && "$(uv_bin)" pip compile pyproject.toml --quiet --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make lock" "$@" -o "$body")
	{
		head -n 2 "$body"
		echo "$STAMP_PREFIX$(stamp)"
		tail -n +3 "$body"
	} >"$out"
	rm -f "$body"
}

case "${1:-lock}" in
lock)
	compile "$DEV_LOCK" --extra dev
	# The runtime set at exactly the versions the dev lock chose.
	compile "$RUNTIME_LOCK" --constraint "$DEV_LOCK"
	echo "pip==$PIP_VERSION" | (cd "$REPO" && "$(uv_bin)" pip compile - --quiet --universal \
		--python-version 3.11 --generate-hashes --custom-compile-command "make lock" -o "$PIP_LOCK")
	echo "lock: wrote $(basename "$DEV_LOCK") ($(grep -c '^[A-Za-z0-9]' "$DEV_LOCK") packages)," \
		"$(basename "$RUNTIME_LOCK") ($(grep -c '^[A-Za-z0-9]' "$RUNTIME_LOCK") packages)" \
		"and $(basename "$PIP_LOCK") (pip $PIP_VERSION)"
	;;
check)
	want="$(stamp)"
	for lock in "$DEV_LOCK" "$RUNTIME_LOCK"; do
		if [[ "$(recorded "$lock")" != "$want" ]]; then
			echo "lock: $(basename "$lock") was not made from pyproject.toml's current dependencies; run 'make lock'" >&2
			exit 1
		fi
	done
	if ! grep -qx "pip==$PIP_VERSION \\\\" "$PIP_LOCK" 2>/dev/null; then
		echo "lock: $(basename "$PIP_LOCK") does not pin pip==$PIP_VERSION; run 'make lock'" >&2
		exit 1
	fi
	echo "lock: up to date"
	;;
stamp) stamp ;;
*)
	echo "usage: scripts/lock.sh [lock|check|stamp]" >&2
	exit 2
	;;
esac
