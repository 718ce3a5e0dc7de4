#!/usr/bin/env bash
# The generated Python bindings, an officer's day: builds the sotay-core
# cdylib and uniffi-bindgen, generates the Python bindings into a temporary
# directory and runs mobile-core/tests/python/test_day.py against them
# (uniffi-bindgen/tests/python_bindings.rs). Needs only cargo and python3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec cargo test -p uniffi-bindgen --test python_bindings -- --nocapture
