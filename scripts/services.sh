#!/usr/bin/env bash
# PostgreSQL and MinIO on loopback for the test suite. Data lives under var/test/.
#
#   scripts/services.sh start    start both (reuse them when already running and healthy)
#   scripts/services.sh stop     stop both cleanly
#   scripts/services.sh restart
#   scripts/services.sh status   exit 0 only when both answer
#   scripts/services.sh clean    stop both and delete their data (var/test)
#   scripts/services.sh env      print `export SANAD_TEST_...=...` lines for the tests
#
# Ports: SANAD_TEST_PG_PORT (55432), SANAD_TEST_MINIO_PORT (59000), console = MinIO port
# + 1. When the defaults are taken by another checkout's services, `start` picks the next
# free pair and remembers it in var/test/ports, so `env`, `status` and `stop` agree.
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
# system user, which owns var/test/pg. Settings favour speed over durability
# (fsync=off etc.): this cluster is disposable test data, never anything else.
set -euo pipefail

REPO="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="$REPO/var/test"
PORTS_FILE="$VAR/ports"
PORTS_CHOSEN=0 # 1 when the ports came from the environment or var/test/ports
if [[ -n "${SANAD_TEST_PG_PORT:-}${SANAD_TEST_MINIO_PORT:-}" ]]; then
	PORTS_CHOSEN=1
elif [[ -r "$PORTS_FILE" ]]; then
	read -r SANAD_TEST_PG_PORT SANAD_TEST_MINIO_PORT <"$PORTS_FILE" || true
	PORTS_CHOSEN=1
fi
PG_PORT="${SANAD_TEST_PG_PORT:-55432}"
MINIO_PORT="${SANAD_TEST_MINIO_PORT:-59000}"
MINIO_CONSOLE_PORT="${SANAD_TEST_MINIO_CONSOLE_PORT:-$((MINIO_PORT + 1))}"
TIMEOUT="${SANAD_TEST_SERVICES_TIMEOUT:-60}" # seconds to wait for each service

DB_NAME=sanad_test
DB_USER=sanad
DB_PASSWORD=sanad
# Test-only credentials for a MinIO that listens on 127.0.0.1 only.
MINIO_USER=sanadtest
MINIO_PASSWORD=sanadtest-secret

PG_HOME="$VAR/pg" # holds data/ (the cluster), run/ (socket dir), server.log
MINIO_DATA="$VAR/minio"
MINIO_LOG="$VAR/minio.log"
MINIO_PIDFILE="$VAR/minio.pid"

say() { printf 'services: %s\n' "$*" >&2; }
die() {
	printf 'services: ERROR: %s\n' "$*" >&2
	exit 1
}

# A live (not zombie) process whose command line contains $2.
alive() {
	local pid="$1" state
	[[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/stat" ]] || return 1
	state="$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null)" || return 1
	[[ "$state" != Z && "$state" != X ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

port_open() { (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------------ PostgreSQL
PG_BIN=""
find_pg_bin() {
	[[ -n "$PG_BIN" ]] && return 0
	if [[ -n "${SANAD_PG_BINDIR:-}" ]]; then
		PG_BIN="$SANAD_PG_BINDIR"
	else
		local d
		while IFS= read -r d; do
			if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
				PG_BIN="$d"
				break
			fi
		done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -V -r)
		if [[ -z "$PG_BIN" && -x /usr/local/bin/initdb ]]; then
			PG_BIN=/usr/local/bin
		fi
		if [[ -z "$PG_BIN" ]] && command -v initdb >/dev/null 2>&1; then
			PG_BIN="$(dirname "$(command -v initdb)")"
		fi
	fi
	[[ -n "$PG_BIN" && -x "$PG_BIN/initdb" ]] ||
		die "PostgreSQL server binaries not found: run scripts/setup.sh test (or set SANAD_PG_BINDIR)"
}

# Run a command as the user that owns the cluster: `postgres` when we are root.
as_pg() {
	if ((EUID == 0)); then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

PG_REAL="" # PG_HOME, or a private directory under /tmp when postgres cannot reach var/
resolve_pg_home() {
	mkdir -p "$VAR"
	PG_REAL="$PG_HOME"
	if ((EUID == 0)); then
		if ! id -u postgres >/dev/null 2>&1; then
			say "creating system user postgres"
			useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
				--shell /usr/sbin/nologin postgres
		fi
		if ! as_pg test -x "$VAR"; then
			# The checkout sits below a directory the postgres user cannot enter.
			PG_REAL="${TMPDIR:-/tmp}/sanad-test-pg-$(printf '%s' "$REPO" | sha256sum | cut -c1-12)"
			if [[ ! -L "$PG_HOME" ]]; then
				rm -rf "$PG_HOME"
				ln -s "$PG_REAL" "$PG_HOME"
			fi
		fi
	fi
	mkdir -p "$PG_REAL/run"
	if ((EUID == 0)); then
		chown postgres: "$PG_REAL" "$PG_REAL/run"
	fi
	chmod 700 "$PG_REAL"
}

pg_ctl_() { as_pg "$PG_BIN/pg_ctl" -D "$PG_REAL/data" "$@"; }

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres -t 2; }

# The postmaster's pid, if it is alive (pg_ctl status would count a zombie as running).
pg_pid() {
	local pid
	[[ -f "$PG_REAL/data/postmaster.pid" ]] || return 1
	pid="$(head -n 1 "$PG_REAL/data/postmaster.pid")"
	alive "$pid" "-D $PG_REAL/data" || return 1
	echo "$pid"
}

pg_running() { pg_pid >/dev/null; }

psql_admin() {
	"$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
		-v ON_ERROR_STOP=1 -qtAX "$@"
}

pg_write_config() {
	local data="$PG_REAL/data" sockdir="$PG_REAL/run"
	# Unix socket paths are limited to ~107 bytes; fall back to TCP only.
	if ((${#sockdir} + 20 > 100)); then sockdir=""; fi
	as_pg tee "$data/sanad.conf" >/dev/null <<EOF
# Written by scripts/services.sh on every start: disposable test cluster, speed first.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sockdir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
	as_pg tee "$data/pg_hba.conf" >/dev/null <<'EOF'
# Written by scripts/services.sh: trust on the Unix socket and loopback only.
local   all             all                                     trust
host    all             all             127.0.0.1/32            trust
host    all             all             ::1/128                 trust
local   replication     all                                     trust
host    replication     all             127.0.0.1/32            trust
EOF
	if ! grep -q "^include_if_exists = 'sanad.conf'" "$data/postgresql.conf"; then
		printf "\ninclude_if_exists = 'sanad.conf'\n" | as_pg tee -a "$data/postgresql.conf" >/dev/null
	fi
}

pg_init() {
	local data="$PG_REAL/data" major
	major="$("$PG_BIN/initdb" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*$/\1/')"
	if [[ -f "$data/PG_VERSION" && "$(<"$data/PG_VERSION")" != "$major" ]]; then
		say "test cluster is PostgreSQL $(<"$data/PG_VERSION"), server is $major: recreating it"
		rm -rf "$data"
	fi
	if [[ -f "$data/PG_VERSION" ]]; then
		return 0
	fi
	rm -rf "$data" # a half-finished initdb
	say "initdb PostgreSQL $major in $data"
	as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 \
		--locale=C.UTF-8 --no-sync >"$PG_REAL/initdb.log" 2>&1 ||
		{
			tail -n 20 "$PG_REAL/initdb.log" >&2
			die "initdb failed (log: $PG_REAL/initdb.log)"
		}
}

pg_wait_ready() {
	local waited=0
	until pg_ready; do
		pg_running || {
			tail -n 20 "$PG_REAL/server.log" >&2 || true
			die "PostgreSQL exited (log: $PG_REAL/server.log)"
		}
		((waited >= TIMEOUT)) && {
			tail -n 20 "$PG_REAL/server.log" >&2 || true
			die "PostgreSQL not ready on 127.0.0.1:$PG_PORT after ${TIMEOUT} s (log: $PG_REAL/server.log)"
		}
		sleep 1
		waited=$((waited + 1))
	done
}

pg_ensure_db() {
	psql_admin <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
  END IF;
END \$\$;
EOF
	if [[ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" ]]; then
		psql_admin -c "CREATE DATABASE $DB_NAME OWNER $DB_USER" >/dev/null
		say "created database $DB_NAME (owner $DB_USER)"
	fi
}

pg_start() {
	find_pg_bin
	resolve_pg_home
	if pg_running; then
		local running_port
		running_port="$(sed -n 4p "$PG_REAL/data/postmaster.pid")"
		if [[ "$running_port" != "$PG_PORT" ]]; then
			die "our PostgreSQL runs on port $running_port, not $PG_PORT: run 'scripts/services.sh restart'"
		fi
		pg_wait_ready
		pg_ensure_db
		say "postgres: already running on 127.0.0.1:$PG_PORT (reused)"
		return 0
	fi
	if port_open "$PG_PORT"; then
		die "port $PG_PORT is taken by a server that is not ours ($PG_REAL/data); stop it or set SANAD_TEST_PG_PORT"
	fi
	if [[ -f "$PG_REAL/data/postmaster.pid" ]]; then
		# Left by a server that was killed: its pid is dead (or a zombie, or reused),
		# and so are the lock files in our private socket directory.
		say "postgres: removing stale postmaster.pid and socket lock"
		rm -f "$PG_REAL/data/postmaster.pid" "$PG_REAL/run/.s.PGSQL.$PG_PORT" "$PG_REAL/run/.s.PGSQL.$PG_PORT.lock"
	fi
	pg_init
	pg_write_config
	if ((EUID == 0)); then
		touch "$PG_REAL/server.log"
		chown postgres: "$PG_REAL/server.log"
	fi
	local t0=$SECONDS
	# 8>&-: the server must not inherit (and hold forever) our lock file.
	if ! pg_ctl_ -l "$PG_REAL/server.log" -w -t "$TIMEOUT" start >/dev/null 8>&-; then
		tail -n 20 "$PG_REAL/server.log" >&2 || true
		die "PostgreSQL failed to start (log: $PG_REAL/server.log)"
	fi
	pg_wait_ready
	pg_ensure_db
	say "postgres: started on 127.0.0.1:$PG_PORT in $((SECONDS - t0)) s (data: $PG_HOME/data)"
}

pg_stop() {
	find_pg_bin
	resolve_pg_home
	if pg_running; then
		pg_ctl_ -m fast -w -t "$TIMEOUT" stop >/dev/null
		say "postgres: stopped"
	else
		say "postgres: not running"
	fi
}

pg_status() {
	find_pg_bin
	resolve_pg_home
	if pg_running && pg_ready; then
		say "postgres: running on 127.0.0.1:$PG_PORT (data: $PG_HOME/data)"
	else
		say "postgres: not running"
		return 1
	fi
}

# ----------------------------------------------------------------------- MinIO
minio_pid() {
	local pid
	[[ -f "$MINIO_PIDFILE" ]] || return 1
	pid="$(<"$MINIO_PIDFILE")"
	# Same process? (a stale pid file may name an unrelated process by now)
	alive "$pid" " server $MINIO_DATA " || return 1
	echo "$pid"
}

minio_healthy() {
	curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$MINIO_PORT/minio/health/live"
}

minio_wait_ready() {
	local pid="$1" waited=0
	until minio_healthy; do
		if ! alive "$pid" "$MINIO_DATA"; then
			tail -n 20 "$MINIO_LOG" >&2 || true
			die "MinIO exited during start-up (log: $MINIO_LOG)"
		fi
		if ((waited >= TIMEOUT * 2)); then
			tail -n 20 "$MINIO_LOG" >&2 || true
			die "MinIO not healthy on 127.0.0.1:$MINIO_PORT after ${TIMEOUT} s (log: $MINIO_LOG)"
		fi
		sleep 0.5
		waited=$((waited + 1))
	done
}

minio_start() {
	local bin pid
	mkdir -p "$VAR"
	if pid="$(minio_pid)"; then
		if ! alive "$pid" " --address 127.0.0.1:$MINIO_PORT "; then
			die "our MinIO (pid $pid) listens on another port than $MINIO_PORT: run 'scripts/services.sh restart'"
		fi
		minio_wait_ready "$pid"
		say "minio: already running on 127.0.0.1:$MINIO_PORT (reused, pid $pid)"
		return 0
	fi
	if port_open "$MINIO_PORT" || port_open "$MINIO_CONSOLE_PORT"; then
		die "port $MINIO_PORT or $MINIO_CONSOLE_PORT is taken by something that is not our MinIO; stop it or set SANAD_TEST_MINIO_PORT"
	fi
	bin="$(bash "$REPO/scripts/minio.sh" ensure)"
	mkdir -p "$MINIO_DATA"
	local t0=$SECONDS
	printf '\n=== %s start\n' "$(date -u +%FT%TZ)" >>"$MINIO_LOG"
	# setsid: the server outlives the shell (and make) that started it.
	# MinIO moves what is deleted to a trash it empties on a timer (5 min by default):
	# every 10 s here, so the benches, which wait for MinIO to be idle for longer than
	# that (bench.cpu.wait_until_minio_idle), never measure an earlier run's removals.
	MINIO_ROOT_USER="$MINIO_USER" MINIO_ROOT_PASSWORD="$MINIO_PASSWORD" \
		MINIO_UPDATE=off MINIO_CI_CD=1 MINIO_API_DELETE_CLEANUP_INTERVAL=10s \
		setsid "$bin" server "$MINIO_DATA" \
		--address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" \
		</dev/null >>"$MINIO_LOG" 2>&1 8>&- &
	pid=$!
	echo "$pid" >"$MINIO_PIDFILE"
	minio_wait_ready "$pid"
	say "minio: started on 127.0.0.1:$MINIO_PORT in $((SECONDS - t0)) s (pid $pid, data: $MINIO_DATA)"
}

minio_stop() {
	local pid i
	if ! pid="$(minio_pid)"; then
		rm -f "$MINIO_PIDFILE"
		say "minio: not running"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 60; i++)); do
		alive "$pid" "$MINIO_DATA" || break
		sleep 0.5
	done
	if alive "$pid" "$MINIO_DATA"; then
		say "minio: still running after 30 s, killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$MINIO_PIDFILE"
	say "minio: stopped"
}

minio_status() {
	local pid
	if pid="$(minio_pid)" && minio_healthy; then
		say "minio: running on 127.0.0.1:$MINIO_PORT (pid $pid, data: $MINIO_DATA)"
	else
		say "minio: not running"
		return 1
	fi
}

# ------------------------------------------------------------------------ main
print_env() {
	cat <<EOF
export SANAD_TEST_DATABASE_URL=postgresql+psycopg://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME
export SANAD_TEST_MINIO_ENDPOINT=127.0.0.1:$MINIO_PORT
export SANAD_TEST_MINIO_ACCESS_KEY=$MINIO_USER
export SANAD_TEST_MINIO_SECRET_KEY=$MINIO_PASSWORD
EOF
}

case "${1:-}" in
start | stop | restart | clean)
	# One start/stop at a time per checkout.
	mkdir -p "$VAR"
	exec 8>"$VAR/.services.lock"
	flock -w $((TIMEOUT * 3)) 8 || die "another services.sh start/stop holds $VAR/.services.lock"
	;;
esac

# Before a first start: if the default ports are busy (another checkout's services),
# take the next free pair and remember it for this checkout.
choose_ports() {
	[[ "$PORTS_CHOSEN" == 1 ]] && return 0
	pg_running 2>/dev/null && return 0
	local offset
	for offset in 0 10 20 30 40 50 60 70 80 90; do
		if ! port_open $((55432 + offset)) && ! port_open $((59000 + offset)) && ! port_open $((59001 + offset)); then
			PG_PORT=$((55432 + offset))
			MINIO_PORT=$((59000 + offset))
			MINIO_CONSOLE_PORT=$((MINIO_PORT + 1))
			[[ "$offset" == 0 ]] || say "default ports are busy; using $PG_PORT (PostgreSQL) and $MINIO_PORT (MinIO)"
			echo "$PG_PORT $MINIO_PORT" >"$PORTS_FILE"
			return 0
		fi
	done
	die "no free port pair near 55432/59000; set SANAD_TEST_PG_PORT and SANAD_TEST_MINIO_PORT"
}

case "${1:-}" in
start)
	find_pg_bin
	resolve_pg_home
	choose_ports
	pg_start
	minio_start
	;;
stop)
	minio_stop
	pg_stop
	;;
restart)
	minio_stop
	pg_stop
	pg_start
	minio_start
	;;
clean)
	minio_stop
	pg_stop
	rm -rf "$PG_REAL" "$VAR"
	say "removed $VAR"
	;;
status)
	rc=0
	pg_status || rc=1
	minio_status || rc=1
	exit "$rc"
	;;
env) print_env ;;
*)
	sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
