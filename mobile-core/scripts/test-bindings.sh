#!/usr/bin/env bash
# Builds the sotay-core cdylib, generates its Python bindings into a
# temporary directory and runs mobile-core/tests/python/test_day.py against
# them. Needs only cargo and python3. Respects CARGO_TARGET_DIR (default:
# target/ at the workspace root).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac

cargo build -p sotay-core --lib
cargo build -p uniffi-bindgen

case "$(uname -s)" in
    Darwin) LIB="$TARGET_DIR/debug/libsotay_core.dylib" ;;
    *) LIB="$TARGET_DIR/debug/libsotay_core.so" ;;
esac

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$TARGET_DIR/debug/uniffi-bindgen" generate --library "$LIB" --language python --out-dir "$WORK"
cp "$LIB" "$WORK/"

PYTHONPATH="$WORK" SOTAY_PORTFOLIO="$ROOT/mobile-core/tests/fixtures/portfolio.json" \
    python3 "$ROOT/mobile-core/tests/python/test_day.py"
