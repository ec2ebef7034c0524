#!/usr/bin/env bash
# Installs the Debian packages `dotnet test BananaLab.sln` uses for real, when they are missing:
# - chromium: the browser tests drive it through Playwright, which never downloads a browser here
#   (skipped when BROWSER_PATH names another Chromium);
# - postgresql, redis-server: the scale-out tests start a temporary PostgreSQL cluster and a redis-server
#   of their own on loopback ports (the packages' system services are not used).
# .ci/run calls it too. Run as root or with sudo available.
set -euo pipefail

missing=()
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
if [ -z "${BROWSER_PATH:-}" ] && ! installed chromium; then missing+=(chromium); fi
for package in postgresql redis-server; do
  installed "$package" || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "Test dependencies present: chromium, postgresql, redis-server."
  exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "Installing ${missing[*]}..."
$sudo apt-get update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
