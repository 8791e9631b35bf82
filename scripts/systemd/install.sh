#!/usr/bin/env bash
# Installs ecluse as a system service: the binary, a dedicated user, the workspace in
# /var/lib/ecluse (created with `ecluse init` when absent), and the three systemd units.
# usage (as root): scripts/systemd/install.sh [ECLUSE_BINARY]   (default build/release/ecluse)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build/release/ecluse}
[ -x "$bin" ] || { echo "install.sh: no binary at $bin (scripts/quickstart.sh builds one)" >&2; exit 2; }
install -m 0755 "$bin" /usr/local/bin/ecluse
install -d -m 0755 /usr/local/share/doc/ecluse && install -m 0644 README.md /usr/local/share/doc/ecluse/
id ecluse >/dev/null 2>&1 || useradd --system --home-dir /var/lib/ecluse --shell /usr/sbin/nologin ecluse
if [ ! -f /var/lib/ecluse/ecluse.json ]; then
  install -d -o ecluse -g ecluse -m 0750 /var/lib/ecluse
  runuser -u ecluse -- /usr/local/bin/ecluse init /var/lib/ecluse
fi
install -m 0644 scripts/systemd/ecluse-watch.service scripts/systemd/ecluse-reverify.service \
  scripts/systemd/ecluse-reverify.timer /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now ecluse-watch.service ecluse-reverify.timer
echo "installed: ecluse-watch.service (running), ecluse-reverify.timer (daily)"
echo "next: as user ecluse, pin vendor trust and create keys (README, 'Set-up'), e.g."
echo "  runuser -u ecluse -- env ECLUSE_WORKSPACE=/var/lib/ecluse ecluse keys init --engineer NAME"
