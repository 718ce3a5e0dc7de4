#!/usr/bin/env bash
# Makes sure DIR holds a Kotlin compiler for the JVM and prints DIR:
#   DIR/kotlin-compiler.jar   the compiler (K2JVMCompiler) with its dependencies
#   DIR/kotlin-stdlib.jar     the Kotlin standard library
# There is no Android SDK or Kotlin distribution on these machines; the
# PyPI package kotlin-jupyter-kernel ships the full compiler as one jar, so
# it is fetched with pip (pinned) and the two jars taken out of it. Run
# again, it does nothing.
#
#   mobile-core/scripts/kotlin-compiler.sh DIR
set -euo pipefail
dir=${1:?usage: $0 DIR}
version=0.19.0.944
if [ -f "$dir/kotlin-compiler.jar" ] && [ -f "$dir/kotlin-stdlib.jar" ] && [ "$(cat "$dir/version" 2>/dev/null)" = "$version" ]; then
    echo "$dir"
    exit 0
fi
mkdir -p "$dir/wheel"
python3 -m pip download --quiet --no-deps --disable-pip-version-check \
    "kotlin-jupyter-kernel==$version" -d "$dir/wheel" >&2
python3 - "$dir" <<'PY'
import glob, os, re, shutil, sys, zipfile
out = sys.argv[1]
wheel = glob.glob(os.path.join(out, "wheel", "kotlin_jupyter_kernel-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    wanted = {
        "kotlin-compiler.jar": next(n for n in names if re.search(r"jars/kotlin-jupyter-kernel-[^/]*-all\.jar$", n)),
        "kotlin-stdlib.jar": next(n for n in names if re.search(r"jars/kotlin-stdlib-[^/]*\.jar$", n)),
    }
    for target, name in wanted.items():
        with z.open(name) as src, open(os.path.join(out, target + ".part"), "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(os.path.join(out, target + ".part"), os.path.join(out, target))
PY
rm -rf "$dir/wheel"
echo "$version" > "$dir/version"
echo "$dir"
