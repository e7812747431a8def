#!/bin/bash
# Install the Debian packages the test suite drives, when they are missing:
# chromium (end-to-end tests), mariadb-server (a private MariaDB when none runs at
# 127.0.0.1:3306), docker-compose (checks docker/docker-compose.yml), redis-server (the
# fault tests start a private one), nginx (the scale-out test puts it in front of two
# instances), wrk (the benchmark's raw object-store baseline).
set -euo pipefail
missing=()
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null || missing+=(mariadb-server)
command -v docker-compose >/dev/null || missing+=(docker-compose)
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null || [ -x /usr/bin/wrk ] || missing+=(wrk)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
