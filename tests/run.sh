#!/bin/sh
# Runs every test binary of the build directory $B and ends with the line
# CI reads: "N passed, N failed". A run that executed no test fails.
set -u
B=${B:-build}
export SBX_BUILD_DIR="$B"
passed=0
failed=0
for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	# A binary that crashed before its summary counts as one failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$t exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
