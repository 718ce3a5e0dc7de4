//! An officer's day through the generated Kotlin bindings of sotay-core, on
//! the JVM with JNA, as the Android app calls them: this package's
//! `uniffi-bindgen` generates them from the sotay-core cdylib built beside
//! this test, the Kotlin compiler (fetched by
//! `mobile-core/scripts/kotlin-compiler.sh`) compiles them with
//! `mobile-core/tests/kotlin/DayTest.kt`, and `java` runs it.
//!
//! Needs java, python3 (to fetch the compiler once) and JNA (Debian's
//! `libjna-java`, which `scripts/test.sh` installs; or `SOTAY_JNA_JAR`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

fn run(what: &str, cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn classpath(parts: &[&Path]) -> String {
    parts
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn an_officers_day_through_the_kotlin_bindings() {
    let bindgen = Path::new(env!("CARGO_BIN_EXE_uniffi-bindgen"));
    let target = bindgen.parent().expect("target/<profile>");
    let lib = cdylib(target);
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("../mobile-core");
    let jna = std::env::var_os("SOTAY_JNA_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/java/jna.jar"));
    assert!(
        jna.exists(),
        "JNA is missing at {}: install Debian's libjna-java (scripts/test.sh does) or set SOTAY_JNA_JAR",
        jna.display()
    );
    let compiler_dir = target.join("kotlin-compiler");
    run(
        "mobile-core/scripts/kotlin-compiler.sh",
        Command::new("bash")
            .arg(core.join("scripts/kotlin-compiler.sh"))
            .arg(&compiler_dir),
    );
    let compiler = compiler_dir.join("kotlin-compiler.jar");
    let stdlib = compiler_dir.join("kotlin-stdlib.jar");

    let work = tempfile::tempdir().expect("temp dir");
    let generated = work.path().join("generated");
    run(
        "uniffi-bindgen",
        Command::new(bindgen)
            .args(["generate", "--no-format", "--library"])
            .arg(&lib)
            .args(["--language", "kotlin", "--out-dir"])
            .arg(&generated),
    );
    let classes = work.path().join("classes");
    run(
        "the Kotlin compiler",
        Command::new("java")
            .arg("-cp")
            .arg(&compiler)
            .arg("org.jetbrains.kotlin.cli.jvm.K2JVMCompiler")
            .args(["-no-stdlib", "-no-reflect", "-nowarn", "-cp"])
            .arg(classpath(&[&stdlib, &jna]))
            .arg("-d")
            .arg(&classes)
            .arg(generated.join("vn/sotay/core/sotay_core.kt"))
            .arg(core.join("tests/kotlin/DayTest.kt")),
    );
    let lib_dir = lib.parent().expect("the cdylib's folder");
    let out = Command::new("java")
        .arg(format!("-Djna.library.path={}", lib_dir.display()))
        .arg("-cp")
        .arg(classpath(&[&classes, &stdlib, &jna]))
        .arg("vn.sotay.test.DayTestKt")
        .env(
            "SOTAY_PORTFOLIO",
            core.join("tests/fixtures/portfolio.json"),
        )
        .output()
        .expect("run java");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
