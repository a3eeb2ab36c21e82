//! The product binary (`aws-catalog-sync`) that `demo` and `bench e2e` run as a child
//! process, exactly as a user's CronJob runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The product's package and binary name.
const NAME: &str = "aws-catalog-sync";

/// Locates the product binary: `AWS_CATALOG_SYNC_BIN` if set; otherwise `aws-catalog-sync`
/// in the target profile directory of the running program (`target/<profile>/`, also for a
/// test executable in `target/<profile>/deps/`). Under `cargo run` (`CARGO` is set) it first
/// builds the product there with the same profile, so it is neither missing nor stale.
pub fn binary() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("AWS_CATALOG_SYNC_BIN").filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        return if bin.is_file() {
            Ok(bin)
        } else {
            Err(format!(
                "AWS_CATALOG_SYNC_BIN={} is not a file",
                bin.display()
            ))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let dir = profile_dir(&exe)?;
    let bin = dir.join(format!("{NAME}{}", std::env::consts::EXE_SUFFIX));
    // Cargo marks its target directory with CACHEDIR.TAG: only there does the directory's
    // name say which profile built it.
    let in_target_dir = dir
        .parent()
        .is_some_and(|target| target.join("CACHEDIR.TAG").is_file());
    let profile = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if in_target_dir && let Some(cargo) = std::env::var_os("CARGO").filter(|v| !v.is_empty()) {
        build(Path::new(&cargo), &dir, &profile)?;
    }
    if bin.is_file() {
        Ok(bin)
    } else if in_target_dir {
        Err(format!(
            "the product binary {} does not exist: build it with `cargo build -p {NAME} --bin {NAME}{}` (or set AWS_CATALOG_SYNC_BIN)",
            bin.display(),
            profile_args(&profile)
                .iter()
                .fold(String::new(), |s, a| s + " " + a)
        ))
    } else {
        Err(format!(
            "no product binary beside {}: set AWS_CATALOG_SYNC_BIN to the {NAME} binary (or run the harness from its Cargo target directory, e.g. `cargo demo`)",
            exe.display()
        ))
    }
}

/// `target/<profile>/` of an executable in it or in its `deps/` (where test executables
/// live).
fn profile_dir(exe: &Path) -> Result<PathBuf, String> {
    let dir = exe
        .parent()
        .ok_or_else(|| format!("{} has no parent directory", exe.display()))?;
    Ok(match (dir.file_name(), dir.parent()) {
        (Some(name), Some(parent)) if name == "deps" => parent.to_path_buf(),
        _ => dir.to_path_buf(),
    })
}

/// Cargo's flags for the profile whose output directory is named `dir_name`.
fn profile_args(dir_name: &str) -> Vec<&str> {
    match dir_name {
        // `dev` (and `test`) build into `debug/`.
        "debug" => vec![],
        "release" => vec!["--release"],
        other => vec!["--profile", other],
    }
}

/// `cargo build -p aws-catalog-sync --bin aws-catalog-sync` into `dir`'s target directory,
/// with the workspace's manifest (whatever the current directory), output on our stderr.
fn build(cargo: &Path, dir: &Path, profile: &str) -> Result<(), String> {
    let target_dir = dir
        .parent()
        .ok_or_else(|| format!("{} has no parent directory", dir.display()))?;
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|root| root.join("Cargo.toml"))
        .ok_or("the harness has no parent directory")?;
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "-p", NAME, "--bin", NAME])
        .args(profile_args(profile))
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .stdin(Stdio::null())
        // Our stdout is the report; cargo's messages go to stderr.
        .stdout(Stdio::from(std::io::stderr()));
    let status = cmd.status().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_product_is_found_beside_a_binary_or_a_test_executable() {
        assert_eq!(
            profile_dir(Path::new("/w/target/release/harness")).unwrap(),
            Path::new("/w/target/release")
        );
        assert_eq!(
            profile_dir(Path::new("/w/target/debug/deps/bench-0123abcd")).unwrap(),
            Path::new("/w/target/debug")
        );
    }

    #[test]
    fn the_build_uses_the_profile_of_the_directory() {
        assert!(profile_args("debug").is_empty());
        assert_eq!(profile_args("release"), ["--release"]);
        assert_eq!(profile_args("profiling"), ["--profile", "profiling"]);
    }
}
