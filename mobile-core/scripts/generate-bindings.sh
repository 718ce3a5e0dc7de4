#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings of sotay-core from the
# built cdylib (uniffi library mode).
#
#   mobile-core/scripts/generate-bindings.sh [OUT_DIR]
#
# OUT_DIR defaults to bindings-out/ at the workspace root; each language
# goes to OUT_DIR/<language>. Respects CARGO_TARGET_DIR (default: target/
# at the workspace root). PROFILE=release builds the release library;
# FEATURES=sqlcipher (iOS, macOS, Linux) or FEATURES=sqlcipher-vendored-openssl
# (Android) builds it with the field book encrypted at rest.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
PROFILE="${PROFILE:-debug}"
OUT="${1:-$ROOT/bindings-out}"

features=()
[ -n "${FEATURES:-}" ] && features=(--features "$FEATURES")
if [ "$PROFILE" = release ]; then
    cargo build -p sotay-core --lib --release "${features[@]}"
else
    cargo build -p sotay-core --lib "${features[@]}"
fi
cargo build -p uniffi-bindgen

case "$(uname -s)" in
    Darwin) LIB="$TARGET_DIR/$PROFILE/libsotay_core.dylib" ;;
    *) LIB="$TARGET_DIR/$PROFILE/libsotay_core.so" ;;
esac
[ -f "$LIB" ] || { echo "error: $LIB was not built" >&2; exit 1; }

for lang in kotlin swift python; do
    mkdir -p "$OUT/$lang"
    "$TARGET_DIR/debug/uniffi-bindgen" generate --library "$LIB" --language "$lang" --out-dir "$OUT/$lang"
done
echo "bindings for $LIB written to $OUT/{kotlin,swift,python}"
