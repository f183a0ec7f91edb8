#!/usr/bin/env bash
# Ensure a Docker engine answers: install docker.io if missing, start dockerd in the background.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "lab: installing docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "lab: starting dockerd"
  nohup dockerd >/var/log/dockerd-natsops.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
fi
docker info >/dev/null 2>&1 || { echo "lab: dockerd did not come up; see /var/log/dockerd-natsops.log" >&2; exit 1; }
