# A throwaway PostgreSQL 15 cluster for benchmarks and load tests, sourced by
# scripts/audit-bench, scripts/load-test and scripts/national-bench.
#
#   pg_start DIR [SERVER OPTIONS...]   initdb in DIR/data, start on a unix socket in DIR
#   pg_stop                            stop it and remove DIR (call from an EXIT trap)
#
# As root, initdb and postgres run as the `postgres` account (or `nobody`): they
# refuse root. Sets PG_DIR; PG_BIN may be set before sourcing.

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_DIR=""
PG_OS_USER=""

as_pg() {
    if [[ -n $PG_OS_USER ]]; then
        (cd "$PG_DIR" && runuser -u "$PG_OS_USER" -- "$@")
    else
        (cd "$PG_DIR" && "$@")
    fi
}

pg_start() {
    local dir=$1
    shift
    if [[ ! -x $PG_BIN/initdb || ! -x $PG_BIN/pg_ctl ]]; then
        echo "PostgreSQL 15 server binaries (initdb, pg_ctl) not found in $PG_BIN." \
            "Install Debian's postgresql-15 (as root: apt-get install -y postgresql) or set PG_BIN." >&2
        return 1
    fi
    PG_DIR=$dir
    mkdir -p "$PG_DIR"
    if [[ $(id -u) -eq 0 ]]; then
        if id -u postgres >/dev/null 2>&1; then
            PG_OS_USER=postgres
        else
            PG_OS_USER=nobody
        fi
        chown "$PG_OS_USER:" "$PG_DIR"
    fi
    echo "==> PostgreSQL cluster in $PG_DIR (socket only)" >&2
    if ! as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1; then
        cat "$PG_DIR/initdb.log" >&2
        echo "initdb failed" >&2
        return 1
    fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
        -o "-c listen_addresses='' -k '$PG_DIR' $*" start >/dev/null; then
        tail -n 30 "$PG_DIR/postgres.log" >&2 || true
        echo "PostgreSQL did not start" >&2
        return 1
    fi
}

pg_stop() {
    [[ -n $PG_DIR && -d $PG_DIR ]] || return 0
    if [[ -f $PG_DIR/data/postmaster.pid ]]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 \
            || echo "warning: could not stop PostgreSQL in $PG_DIR" >&2
    fi
    rm -rf "$PG_DIR"
    echo "==> removed the cluster in $PG_DIR" >&2
    PG_DIR=""
}
