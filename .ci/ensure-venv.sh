#!/usr/bin/env bash
# Make sure `PYTHON -m venv` works before the Makefile makes the virtualenv.
#
#   bash .ci/ensure-venv.sh [PYTHON]     (default: python3)
#
# Debian and Ubuntu ship venv's pip bootstrap (ensurepip) in a separate package,
# python3-venv, so on a fresh system `python3 -m venv` fails half-way. As root with
# apt-get this installs the package; otherwise it says exactly what to install.
set -euo pipefail

python="${1:-python3}"

works() {
    "$python" -c 'import ensurepip, venv' >/dev/null 2>&1
}

if ! command -v "$python" >/dev/null 2>&1; then
    echo "make: $python is not installed: install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)" >&2
    exit 1
fi
works && exit 0

# The package of this Python's version (python3.11-venv) where it exists, else python3-venv.
version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
package="python3-venv"
if command -v apt-cache >/dev/null 2>&1 && apt-cache show "python${version}-venv" >/dev/null 2>&1; then
    package="python${version}-venv"
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "make: $python -m venv is missing; installing Debian's $package" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >&2
    works && exit 0
fi

echo "make: '$python -m venv' does not work here: install Debian's $package package" \
    "(sudo apt-get install $package), then run make again" >&2
exit 1
