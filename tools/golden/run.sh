#!/bin/bash
# A whole year through the command line under a frozen clock, and a digest of everything it wrote: the check
# that a change meant to keep behaviour (a renovation, a speed-up) really writes the same bytes.
#
#   bash tools/golden/run.sh .venv/bin /tmp/before     # on the tree before the change
#   bash tools/golden/run.sh .venv/bin /tmp/after      # on the tree after it
#   diff /tmp/before.digest.json /tmp/after.digest.json
#
# Every output file is hashed (an .xlsx/.docx member by member, the run's own folder path taken out); a line
# that differs names the file (and member) to look at in /tmp/before and /tmp/after. Needs libfaketime
# (Debian: apt-get install faketime). The returned files are tools/golden/returns/, fixed bytes.
set -u
BIN=$(cd "$1" && pwd); FINAL=$2
HERE=$(cd "$(dirname "$0")" && pwd)
FAKETIME_LIB=${FAKETIME_LIB:-/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1}
[ -f "$FAKETIME_LIB" ] || { echo "libfaketime not found ($FAKETIME_LIB): apt-get install faketime" >&2; exit 2; }
export FAKETIME="2026-01-01 08:00:00" LD_PRELOAD="$FAKETIME_LIB" FAKETIME_DONT_FAKE_MONOTONIC=1
export SOURCE_DATE_EPOCH=1700000000
# The work happens in a folder whose path always has the same length: report column widths depend on it.
OUT=$(mktemp -d /tmp/gldXXXXXX)
W="$OUT/ws"

step() {  # step NAME OUTPUT-FILE COMMAND...: run one command, keep its output and exit code
  local name=$1 file=$2
  shift 2
  "$@" > "$OUT/$file" 2>>"$OUT/stderr.log"
  echo "$name $?" >> "$OUT/rc.txt"
}

cp -r "$HERE/returns" "$OUT/returns"  # read from inside the run's folder: its path is taken out of the digest
"$BIN/jixiao-xl" init "$W" --sample --year 2022 > "$OUT/init.txt" 2>&1
cd "$W" || exit 2
step generate generate.txt "$BIN/jixiao-xl" generate
cp "$OUT"/returns/*.xlsx 收件/
step import import.txt "$BIN/jixiao-xl" import
step consolidate consolidate.txt "$BIN/jixiao-xl" consolidate
step publish publish.txt "$BIN/jixiao-xl" publish --force
step status status.json "$BIN/jixiao-xl" status --json
step status-table status.txt "$BIN/jixiao-xl" status
step rules rules.json "$BIN/jixiao-xl" rules --json
step mastercheck mastercheck.txt "$BIN/jixiao-xl" master check 主数据.xlsx
step read read.txt "$BIN/jixiao-xl" read "$OUT"/returns/*.xlsx --json "$OUT/read.json"
step masterinit masterinit.txt "$BIN/jixiao-xl" master init "$OUT/blank-master.xlsx"
step masterinit-sample masterinit-sample.txt "$BIN/jixiao-xl" master init "$OUT/blank-master-ws.xlsx" --sample
step report report.txt "$BIN/jixiao-xl" report --out "$OUT/report-again"
step review review.txt "$BIN/jixiao-xl" review 435002 --return 测试退回
step status-after-review status2.json "$BIN/jixiao-xl" status --json
step consolidate-after-review consolidate2.txt "$BIN/jixiao-xl" consolidate --out "$OUT/consolidate2"
step frames frames.txt "$BIN/python" -c "import sys; import jixiao_xl.frames as f
for name in ('submissions', 'projects', 'indicators', 'findings', 'consolidation'):
    print(getattr(f, name)(sys.argv[1]).to_csv())" "$W"
mv 核对/* 核对/run1 2>/dev/null  # the run folder is named after the time
rm -rf "$W/原件"
cd "$OUT" || exit 2
"$BIN/python" "$HERE/digest.py" "$OUT" > "$FINAL.digest.json"
rm -rf "$FINAL"; mkdir -p "$(dirname "$FINAL")"; mv "$OUT" "$FINAL"
echo "digest: $FINAL.digest.json (outputs in $FINAL; exit codes in $FINAL/rc.txt)"
