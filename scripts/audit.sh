#!/usr/bin/env bash
# Known vulnerabilities in the locked Python dependencies (`make check`).
#
#   scripts/audit.sh     pip-audit over requirements-dev.lock (every pinned, hashed package)
#
# pip-audit asks a vulnerability service about each package (PyPI's JSON API by default;
# SANAD_AUDIT_SERVICE=osv for OSV, SANAD_AUDIT_OSV_URL for a mirror of it). Where that
# service cannot be reached (an offline machine, a registry mirror without the JSON API),
# every package comes back "could not be audited": this script then says so plainly and
# passes, unless SANAD_AUDIT_REQUIRED=1 (a release build), when it fails. A package with a
# known vulnerability always fails it.
set -euo pipefail

REPO="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCK="$REPO/requirements-dev.lock"
AUDIT="$REPO/.venv/bin/pip-audit"
[[ -x "$AUDIT" ]] || {
	echo "audit: pip-audit is not installed; run scripts/setup.sh python" >&2
	exit 1
}

report="$(mktemp)"
trap 'rm -f "$report"' EXIT
args=(--disable-pip --require-hashes -r "$LOCK" --progress-spinner off --format json --output "$report"
	--vulnerability-service "${SANAD_AUDIT_SERVICE:-pypi}" --timeout 15)
[[ -n "${SANAD_AUDIT_OSV_URL:-}" ]] && args+=(--osv-url "$SANAD_AUDIT_OSV_URL")
status=0
"$AUDIT" "${args[@]}" 2>/dev/null || status=$?

"$REPO/.venv/bin/python" - "$report" "$status" "${SANAD_AUDIT_REQUIRED:-0}" <<'EOF'
import json, sys

path, status, required = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
try:
    with open(path) as f:
        dependencies = json.load(f)["dependencies"]
except (OSError, ValueError, KeyError):
    print(f"audit: pip-audit failed (exit {status}) before reporting; run it by hand to see why", file=sys.stderr)
    sys.exit(1)
audited = [d for d in dependencies if "skip_reason" not in d]
vulnerable = [d for d in audited if d.get("vulns")]
for d in vulnerable:
    for v in d["vulns"]:
        fixed = ", ".join(v.get("fix_versions", [])) or "no fixed version yet"
        print(f"audit: {d['name']} {d['version']}: {v['id']} (fixed in {fixed})", file=sys.stderr)
if vulnerable:
    sys.exit(1)
if not audited:
    message = (
        f"audit: SKIPPED - the vulnerability service could not be reached from this machine, so none of the "
        f"{len(dependencies)} locked packages was checked (set SANAD_AUDIT_SERVICE/SANAD_AUDIT_OSV_URL "
        "to one that answers)"
    )
    print(message, file=sys.stderr)
    sys.exit(1 if required else 0)
skipped = len(dependencies) - len(audited)
print(f"audit: no known vulnerabilities in {len(audited)} packages" + (f" ({skipped} not found by the service)" if skipped else ""))
EOF
