#!/usr/bin/env bash
# Entrypoint of the airkube Postgres image.
#
# Same contract as the official image: `postgres [options]` (or just options) starts the
# server, creating the cluster in $PGDATA first if it is empty; any other command runs as is.
# Started as root it prepares $PGDATA and drops to the postgres user (UID 999); started as a
# non-root user it needs a $PGDATA it can write (for Kubernetes: runAsUser 999 plus fsGroup).
set -Eeuo pipefail

if [ "${1:0:1}" = "-" ]; then
    set -- postgres "$@"
fi
if [ "$1" != "postgres" ]; then
    exec "$@"
fi

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
POSTGRES_HOST_AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

log() { echo "postgres-entrypoint: $*" >&2; }

if [ "$(id -u)" = "0" ]; then
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != "trust" ]; then
        log "error: the database is uninitialised and POSTGRES_PASSWORD is not set."
        log "Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust to allow any connection)."
        exit 1
    fi
    if ! mkdir -p "$PGDATA" || [ ! -w "$PGDATA" ]; then
        log "error: $PGDATA is not writable by uid $(id -u); give the container a writable data dir"
        exit 1
    fi
    chmod 700 "$PGDATA"

    log "initialising the database cluster in $PGDATA"
    initdb_args=(--username="$POSTGRES_USER" --encoding=UTF8 --locale=C.UTF-8
        --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD")
    if [ -n "${POSTGRES_PASSWORD:-}" ]; then
        # Through a file, so the password never shows in a process listing.
        pwfile="$(mktemp)"
        trap 'rm -f "$pwfile"' EXIT
        printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
        initdb_args+=(--pwfile="$pwfile")
    fi
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of options by contract
    initdb "${initdb_args[@]}" ${POSTGRES_INITDB_ARGS:-}
    rm -f "${pwfile:-}"
    trap - EXIT
    printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >> "$PGDATA/pg_hba.conf"

    # A private server on the socket only, so nobody connects before setup is done.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
    run_psql=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER")
    if [ "$POSTGRES_DB" != "postgres" ]; then
        "${run_psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<< 'CREATE DATABASE :"db";'
    fi
    for script in /docker-entrypoint-initdb.d/*; do
        case "$script" in
            *.sh) log "running $script"; . "$script" ;;
            *.sql) log "running $script"; "${run_psql[@]}" --dbname "$POSTGRES_DB" -f "$script" ;;
            *.sql.gz) log "running $script"; gunzip -c "$script" | "${run_psql[@]}" --dbname "$POSTGRES_DB" ;;
            *) ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    log "initialisation done"
fi

# PostgreSQL itself only says "database files are incompatible with server"; say what to do.
data_major="$(cat "$PGDATA/PG_VERSION")"
if [ "$data_major" != "$PG_MAJOR" ]; then
    log "error: $PGDATA was initialised by PostgreSQL $data_major; this image runs $PG_MAJOR."
    log "Move the data with pg_dump and pg_restore (or pg_upgrade), or keep running a $data_major image."
    exit 1
fi

exec "$@"
