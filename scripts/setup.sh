#!/usr/bin/env bash
# Prepare a fresh checkout: a pinned uv in the cache, the project's locked Python environment in
# .venv, then the pinned helm, kubeconform and offline Kubernetes schemas. Safe to run again: each
# step is skipped when what it makes is already current.
set -euo pipefail

UV_VERSION=0.13.8
cache="${AIRKUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/airkube}"
uv_home="$cache/uv-$UV_VERSION"
uv="$uv_home/bin/uv"
root="$(cd "$(dirname "$0")/.." && pwd)"

if ! command -v python3 >/dev/null; then
  echo "setup: python3 (3.11 or newer) is needed; install it with your package manager" >&2
  exit 1
fi
if [ ! -x "$uv" ] || [ "$("$uv" --version | awk '{print $2}')" != "$UV_VERSION" ]; then
  echo "setup: installing uv $UV_VERSION into $uv_home"
  rm -rf "$uv_home"
  python3 -m venv "$uv_home"
  "$uv_home/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

cd "$root"
"$uv" sync --frozen --extra dev --quiet
.venv/bin/airkube tools
