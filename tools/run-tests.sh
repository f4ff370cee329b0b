#!/usr/bin/env bash
# Set up everything the tests need on a Debian or Ubuntu machine, then run them.
#
# 1. System packages (LibreOffice Calc and its Python bridge for the round-trip tests, poppler for PDF
#    pages, a CJK font, Chromium and its driver for the browser test of the site) through apt-get: directly when run as root, through sudo otherwise. Skipped when
#    everything is already there.
# 2. A fresh virtual environment (.venv, or $JIXIAO_VENV) with the project and its test extras, installed
#    the way users install it (not editable), so a file missing from the wheel fails the tests.
# 3. pytest, with any arguments given to this script.
#
# The README's test command and CI (.ci/run) both run this script, so a green CI proves the README.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${JIXIAO_VENV:-.venv}"
packages=(libreoffice-calc python3-uno poppler-utils fonts-wqy-zenhei chromium chromium-driver)

system_packages_missing() {
  command -v soffice >/dev/null 2>&1 || return 0
  command -v pdftoppm >/dev/null 2>&1 || return 0
  command -v pdftotext >/dev/null 2>&1 || return 0
  [ -e /usr/lib/python3/dist-packages/uno.py ] || return 0
  fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk' || return 0
  [ -x /usr/bin/chromedriver ] || return 0
  command -v chromium >/dev/null 2>&1 || return 0
  return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "安装测试所需的系统软件包需要管理员权限：请以 root 身份运行，或先安装 sudo。" >&2
    exit 2
  fi
}

if system_packages_missing; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q '.[test]'

exec "$venv/bin/pytest" -q -p no:cacheprovider "$@"
