#!/usr/bin/env bash
# Install what Sanad needs on a Debian 12 machine, idempotently.
#
#   scripts/setup.sh runtime   system libraries for the service + the Python venv
#   scripts/setup.sh test      runtime + PDF/QR/browser tools, PostgreSQL, MinIO and the
#                              judges (EU DSS, veraPDF: scripts/judges.sh) (default)
#   scripts/setup.sh bench     runtime + wrk and vegeta (scripts/vegeta.sh), the load
#                              generators of the benchmarks
#   scripts/setup.sh python    only the Python venv (no apt)
#
# Fast when everything is already there: apt is asked only about missing packages
# (dpkg-query first; `apt-get update` runs at most once), pip installs the hashed lock
# (requirements-dev.lock) only when it or pyproject.toml changed since the last install
# (sha256 stamp inside .venv), and
# MinIO and vegeta are rebuilt only when the binary is not the pinned version, the judges only
# when their source changed.
#
# Environment:
#   SANAD_SKIP_APT=1            never call apt-get (report what is missing instead)
#   SANAD_EXTRA_APT_PACKAGES    more Debian packages to ensure
#   SANAD_PYTHON                interpreter for a new .venv (default: python3.11)
set -euo pipefail

REPO="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODE="${1:-test}"

say() { printf 'setup: %s\n' "$*" >&2; }
die() {
	printf 'setup: ERROR: %s\n' "$*" >&2
	exit 1
}

# Service runtime: none from Debian. Certificates are laid out by Typst, a compiled wheel
# pinned in pyproject.toml with no system libraries (the fonts are vendored in
# templates/fonts; the service's /ready names a missing or different Typst).
RUNTIME_PKGS=()
# Tests: independent checkers (pdfsig, pdftoppm, zbarimg, qpdf, certutil, openssl), the
# browser Playwright drives, a PostgreSQL server, curl for health checks, SoftHSM2
# (the PKCS#11 token department keys can live in), and a JDK with Maven for the judges.
# npm (for axe-core, the browser tests' accessibility check) is installed below only when
# missing: Node.js builds that bundle it conflict with Debian's own npm package.
TEST_PKGS=(poppler-utils zbar-tools qpdf libnss3-tools chromium postgresql curl softhsm2 openssl
	openjdk-17-jdk-headless maven)
# Benchmarks (`python -m bench reads`): wrk, the HTTP load generator.
BENCH_PKGS=(wrk)

case "$MODE" in
runtime) PKGS=("${RUNTIME_PKGS[@]}") ;;
test) PKGS=("${RUNTIME_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
bench) PKGS=("${RUNTIME_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
python) PKGS=() ;;
-h | --help | help)
	sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*) die "unknown mode '$MODE' (expected runtime, test, bench or python)" ;;
esac
if [[ -n "${SANAD_EXTRA_APT_PACKAGES:-}" && "$MODE" != python ]]; then
	read -r -a extra <<<"$SANAD_EXTRA_APT_PACKAGES"
	PKGS+=("${extra[@]}")
fi

# ---------------------------------------------------------------- apt packages
is_installed() {
	[[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

ensure_apt() {
	local missing=() p
	for p in "$@"; do
		is_installed "$p" || missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		say "system packages ok ($# checked)"
		return 0
	fi
	if [[ "${SANAD_SKIP_APT:-}" == 1 ]]; then
		say "WARNING: missing system packages (SANAD_SKIP_APT=1, not installing): ${missing[*]}"
		return 0
	fi
	local sudo=()
	if ((EUID != 0)); then
		command -v sudo >/dev/null || die "need root (or sudo) to install: ${missing[*]}"
		sudo=(sudo)
	fi
	say "installing system packages: ${missing[*]}"
	local t0=$SECONDS
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
	say "system packages installed in $((SECONDS - t0)) s"
}

# ------------------------------------------------------------------ python venv
find_python() {
	local c candidates=(python3.11 python3)
	[[ -n "${SANAD_PYTHON:-}" ]] && candidates=("$SANAD_PYTHON" "${candidates[@]}")
	for c in "${candidates[@]}"; do
		if command -v "$c" >/dev/null 2>&1 &&
			"$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
			command -v "$c"
			return 0
		fi
	done
	return 1
}

ensure_venv() {
	local venv="$REPO/.venv"
	local py="$venv/bin/python"
	if [[ -x "$py" ]] && ! "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
		say ".venv is broken or not Python 3.11: recreating it"
		rm -rf "$venv"
	fi
	if [[ ! -x "$py" ]]; then
		local base
		base="$(find_python)" || die "Python 3.11 not found (tried \$SANAD_PYTHON, python3.11, python3)"
		say "creating .venv with $base"
		"$base" -m venv "$venv"
	fi

	local stamp="$venv/.sanad-pyproject.sha256"
	local lock="$REPO/requirements-dev.lock"
	local want have=""
	want="$(cat "$REPO/pyproject.toml" "$lock" "$REPO/requirements-pip.lock" 2>/dev/null | sha256sum | cut -d' ' -f1)"
	[[ -f "$stamp" ]] && have="$(<"$stamp")"
	if [[ "$want" == "$have" && -x "$venv/bin/sanad" ]]; then
		say "python deps ok (pyproject.toml and requirements-dev.lock unchanged)"
		return 0
	fi
	local t0=$SECONDS
	rm -f "$stamp"
	local log="$venv/pip-install.log"
	local hashed=1
	# The lock pins every package with its hashes (`make lock`); one that no longer matches
	# pyproject.toml's dependencies would miss what was just added there, so then the
	# install resolves from pyproject.toml as before, and `make check` and the suite say so.
	if SANAD_PYTHON="$py" bash "$REPO/scripts/lock.sh" check >/dev/null 2>&1; then
		say "installing python deps from requirements-dev.lock (pip install --require-hashes)"
	else
		hashed=0
		say "WARNING: requirements-dev.lock is out of date with pyproject.toml (run 'make lock');" \
			"installing from pyproject.toml without hashes"
	fi
	# `set -e` does not apply inside a condition: each step's failure is chained by hand.
	if ! (
		cd "$REPO" || exit
		export PIP_DISABLE_PIP_VERSION_CHECK=1
		# First the pinned pip (scripts/lock.sh says why the venv's own one is not enough).
		"$py" -m pip install --require-hashes -r requirements-pip.lock || exit
		if ((hashed)); then
			"$py" -m pip install --require-hashes -r requirements-dev.lock &&
				"$py" -m pip install --no-deps -e .
		else
			"$py" -m pip install -e '.[dev]'
		fi
	) >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "pip install failed (full log: $log)"
	fi
	printf '%s\n' "$want" >"$stamp"
	say "python deps installed in $((SECONDS - t0)) s"
}

# ------------------------------------------------------------------------ main
if ((${#PKGS[@]} > 0)); then
	ensure_apt "${PKGS[@]}"
fi
ensure_venv
if [[ "$MODE" == test || "$MODE" == bench ]]; then
	# vegeta, the open-loop generator of `python -m bench reads` (go install, pinned)
	say "vegeta ok ($(bash "$REPO/scripts/vegeta.sh" ensure))"
fi
if [[ "$MODE" == test ]]; then
	minio_bin="$(bash "$REPO/scripts/minio.sh" ensure)"
	say "minio ok ($minio_bin)"
	# judges: EU DSS and veraPDF, built from tests/judges/ once and cached (~30 s the first time)
	bash "$REPO/scripts/judges.sh" ensure
	say "judges ok (EU DSS, veraPDF)"
	# axe-core, the accessibility checker the browser tests inject into every page (pinned)
	axe_dir="${XDG_CACHE_HOME:-$HOME/.cache}/sanad/axe-core-4.14.1"
	if [[ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]]; then
		command -v npm >/dev/null || ensure_apt npm
		npm install --silent --no-audit --no-fund --prefix "$axe_dir" axe-core@4.14.1 >&2
	fi
	say "axe-core ok ($axe_dir)"
fi
say "done ($MODE)"
