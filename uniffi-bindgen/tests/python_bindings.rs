//! An officer's day through the generated Python bindings of sotay-core:
//! this package's `uniffi-bindgen` generates them from the sotay-core
//! cdylib built beside this test, and `mobile-core/tests/python/test_day.py`
//! drives them. Needs python3.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The sotay-core cdylib cargo built for this test's dependencies.
fn cdylib(target: &Path) -> PathBuf {
    let name = format!(
        "{}sotay_core{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    [target.join("deps").join(&name), target.join(&name)]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("no {name} in {} or its deps/", target.display()))
}

#[test]
fn an_officers_day_through_the_python_bindings() {
    let bindgen = Path::new(env!("CARGO_BIN_EXE_uniffi-bindgen"));
    let target = bindgen.parent().expect("target/<profile>");
    let lib = cdylib(target);
    let work = tempfile::tempdir().expect("temp dir");
    let out = Command::new(bindgen)
        .args(["generate", "--library"])
        .arg(&lib)
        .args(["--language", "python", "--out-dir"])
        .arg(work.path())
        .output()
        .expect("run uniffi-bindgen");
    assert!(
        out.status.success(),
        "generating the bindings failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::copy(&lib, work.path().join(lib.file_name().unwrap())).expect("copy the cdylib");

    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mobile-core");
    let out = Command::new("python3")
        .arg(core.join("tests/python/test_day.py"))
        .env("PYTHONPATH", work.path())
        .env(
            "SOTAY_PORTFOLIO",
            core.join("tests/fixtures/portfolio.json"),
        )
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
