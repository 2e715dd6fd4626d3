#!/bin/sh
# Entrypoint of the airkube Airflow image: run exactly the command given.
#
# The chart starts components with args such as `airflow scheduler`, and the
# KubernetesExecutor sets a worker pod's args to its own command line; both must reach the
# process untouched, so nothing here rewrites, quotes or wraps the arguments. `exec` replaces
# this shell, so signals from tini (PID 1) reach the command itself.
set -e

if [ "$#" -eq 0 ]; then
    echo "usage: <command> [args...]  (for example: airflow scheduler)" >&2
    exit 64
fi

exec "$@"
