#!/usr/bin/env bash
# Build, once, the Debian 12 systemd base image the lab and Molecule use: debootstrap + docker import.
# The rootfs tarball is cached under .cache/lab so a lost image is re-imported without debootstrap.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
IMAGE="${NATSOPS_LAB_IMAGE:-natsops/debian12-systemd:1}"
CACHE="$ROOT/.cache/lab"
TARBALL="$CACHE/debian12-systemd-rootfs.tar"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then exit 0; fi
mkdir -p "$CACHE"
if [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null 2>&1 || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  rootfs="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
  trap 'rm -rf "$rootfs"' EXIT
  echo "lab: debootstrapping Debian 12 into $rootfs (a few minutes, once)"
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,python3,sudo,openssh-server,iproute2,procps,ca-certificates \
    bookworm "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
  # Units that make no sense in a container, and a machine-id made at first boot.
  for unit in getty@tty1.service console-getty.service systemd-udevd.service systemd-udev-trigger.service \
              systemd-modules-load.service systemd-remount-fs.service sys-kernel-debug.mount; do
    ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
  done
  : >"$rootfs/etc/machine-id"
  rm -f "$rootfs"/etc/ssh/ssh_host_*
  # Host keys are made when sshd first starts in a container.
  mkdir -p "$rootfs/etc/systemd/system/ssh.service.d"
  printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
    >"$rootfs/etc/systemd/system/ssh.service.d/keys.conf"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
fi
echo "lab: importing $IMAGE"
docker import -c 'CMD ["/lib/systemd/systemd"]' "$TARBALL" "$IMAGE" >/dev/null
