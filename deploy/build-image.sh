#!/usr/bin/env bash
# Builds Tongban's image: `bash deploy/build-image.sh [TAG]` (default tongban:local).
#
# Where Docker Hub answers, this is `docker build` with the Dockerfile's own base
# (python:3.12-slim-trixie). Where it does not (the project's CI machine reaches only the
# package registries), it first makes a stand-in base from Debian's packages: Debian 13
# (trixie) with its Python 3.13 and venv, installed by debootstrap, imported as
# local/python-trixie:3.13; this machine's CA certificates go into that base so that pip
# inside the build trusts the same HTTPS proxy the host does. Needs a running Docker
# daemon; the stand-in base also needs root and debootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-tongban:local}"
# One build at a time (the test suite may ask from two processes at once).
exec 9>"${TMPDIR:-/tmp}/tongban-build-image.lock"
flock 9
base="python:3.12-slim-trixie"

if ! docker image inspect "$base" >/dev/null 2>&1 && ! timeout 60 docker pull -q "$base" >/dev/null 2>&1; then
  base="local/python-trixie:3.13"
  if ! docker image inspect "$base" >/dev/null 2>&1; then
    echo "Docker Hub is not reachable: building the base $base from Debian's packages" >&2
    root="$(mktemp -d)"
    trap 'rm -rf "$root"' EXIT
    debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
      trixie "$root" http://deb.debian.org/debian >/dev/null
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*
    tar -C "$root" -c . | docker import - "$base" >/dev/null
  fi
fi

docker build --quiet --network host --build-arg PYTHON_IMAGE="$base" -t "$tag" . >/dev/null
echo "$tag (base $base)"
