#!/usr/bin/env bash
# Runs a command inside a private network namespace where Janus can gather ICE candidates on loopback
# addresses: `lo` up, IPv6 off, and a veth pair whose end `janus0` carries 127.0.0.2 (Janus skips
# interfaces flagged IFF_LOOPBACK, a veth is not). Nothing leaves 127.0.0.0/8. Needs root (unshare --net).
# See docs/deployment.md and ../shared/reference/janus-on-loopback.md.
# Usage: scripts/netns.sh <command> [args...]
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: scripts/netns.sh <command> [args...]" >&2
  exit 2
fi
for tool in unshare ip sysctl; do
  command -v "$tool" >/dev/null || { echo "netns.sh: '$tool' not found (install util-linux / iproute2 / procps)" >&2; exit 127; }
done
if [ "$(id -u)" -ne 0 ]; then
  echo "netns.sh: needs root for 'unshare --net' (the media tests run Janus in a private network namespace)" >&2
  exit 1
fi
exec unshare --net bash -c '
  set -e
  ip link set lo up
  sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip link add janus0 type veth peer name janus0p
  ip addr add 127.0.0.2/32 dev janus0
  ip link set janus0p up
  ip link set janus0 up
  exec "$@"
' netns "$@"
