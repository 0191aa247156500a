#!/bin/sh
# The C sources are clang-format clean with the project's .clang-format
# (once per suite run, with the plain build).
set -u
case "$TRPT_BUILD" in *-san) exit 0 ;; esac
cd "$TRPT_SRC"
if out=$(make --no-print-directory format-check 2>&1); then
    echo "PASS sources-are-clang-format-clean"
else
    printf '%s\n' "$out" | head -20 >&2
    echo "FAIL sources-are-clang-format-clean"
fi
