#!/bin/sh
# Runs every benchmark of build directory $B. Each prints lines
#   bench: NAME ours=V UNIT baseline=V UNIT ratio=R
set -u
B=${B:-build}
export SBX_BUILD_DIR="$B"
rc=0
for b in "$B"/bench/bench_*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	"$b" || rc=1
done
exit $rc
