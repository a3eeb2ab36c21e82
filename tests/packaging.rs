//! What ships: the product binary carries no harness code (the Port fake, the AWS fault
//! proxy, the moto installer and seeder, the demo and the benchmarks all live in the
//! `harness/` crate, which this package only dev-depends on), and the image's build stage
//! copies no test code.
//!
//! The binary checked is this build's debug binary (or `AWS_CATALOG_SYNC_BIN`, to show the
//! test failing on an older build). It stands for the release binary: what decides whether
//! harness code is in it is which crates and modules the `aws-catalog-sync` binary target
//! links, and that is the same in every profile (Cargo never links a dev-dependency into a
//! binary target, and no `cfg` here depends on the profile). A debug build keeps at least as
//! much as a release build (no LTO, less inlining and dead-code removal), so a string absent
//! from it is absent from the release binary too.

mod support;

use std::path::Path;

/// Strings that only harness code has, each with the harness file it comes from: if code
/// of that file is linked into the product, its string literals are in the binary.
const HARNESS_ONLY: &[(&str, &str)] = &[
    // The moto installer: `pip install` into a venv, then `moto_server`.
    ("moto.rs", "/bin/pip install"),
    ("moto.rs", "moto_server"),
    ("moto.rs", "moto[server]"),
    // The seed script, compiled into the moto runner with `include_str!`.
    (
        "seed.py",
        "Seed a running moto_server with an AWS Organization",
    ),
    // The Port fake: its credentials, its 413 message and its ingest route.
    ("port_fake.rs", "fake-client-secret"),
    ("port_fake.rs", "limit is 1MiB"),
    ("port_fake.rs", "fake-ingest"),
    // The AWS fault proxy.
    ("aws_proxy.rs", "injected by aws_proxy"),
    // The benchmarks' Port sink and their engine child process.
    ("bench/engine.rs", "bench-token"),
    ("bench/engine.rs", "engine-child"),
];

#[test]
fn the_product_binary_ships_no_harness_code() {
    let harness_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("harness/src");
    let binary = support::binary();
    let bytes = std::fs::read(&binary).unwrap_or_else(|e| panic!("reading {binary}: {e}"));
    // The markers are ASCII, which a lossy conversion never alters.
    let text = String::from_utf8_lossy(&bytes);
    let mut shipped = Vec::new();
    for (file, marker) in HARNESS_ONLY {
        // A marker that left the harness would make this test pass whatever ships.
        let source = std::fs::read_to_string(harness_src.join(file))
            .unwrap_or_else(|e| panic!("reading harness/src/{file}: {e}"));
        assert!(
            source.contains(marker),
            "{marker:?} is no longer in harness/src/{file}: pick another marker"
        );
        if text.contains(marker) {
            shipped.push(format!("{marker:?} (harness/src/{file})"));
        }
    }
    // Symbol names of any function of the harness crate itself.
    if text.contains("aws_catalog_sync_harness") {
        shipped.push("symbols of the aws_catalog_sync_harness crate".into());
    }
    assert!(
        shipped.is_empty(),
        "{binary} contains harness code: {}",
        shipped.join(", ")
    );
}

#[test]
fn the_docker_build_copies_no_test_code() {
    let dockerfile =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile"))
            .expect("the Dockerfile is readable");
    let offending = copied_test_sources(&dockerfile);
    assert!(
        offending.is_empty(),
        "the Dockerfile copies test code into the image's build: {offending:?}"
    );
}

/// `COPY`/`ADD` instructions (continuation lines joined) with a source that is `tests/` or
/// contains it (`.`, the whole build context).
fn copied_test_sources(dockerfile: &str) -> Vec<String> {
    let joined = dockerfile.replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|line| {
            let mut words = line.split_whitespace();
            let is_copy = words
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("COPY") || w.eq_ignore_ascii_case("ADD"));
            let args: Vec<&str> = words.filter(|w| !w.starts_with("--")).collect();
            // All arguments but the last are sources. A copy from another stage (`--from`)
            // takes nothing from the build context.
            is_copy
                && !line.contains("--from")
                && args.len() >= 2
                && args[..args.len() - 1].iter().any(|src| {
                    let src = src.trim_start_matches("./").trim_end_matches('/');
                    src == "." || src.is_empty() || src == "tests" || src.starts_with("tests/")
                })
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn the_dockerfile_check_sees_copies_of_test_code() {
    for copy in [
        "COPY tests/support tests/support",
        "COPY tests tests",
        "COPY ./tests/ /src/tests/",
        "copy --chown=1001 tests x",
        "COPY . .",
        "COPY src \\\n  tests /src/",
    ] {
        assert_eq!(copied_test_sources(copy).len(), 1, "{copy:?} is seen");
    }
    for copy in [
        "COPY src src",
        "COPY harness/Cargo.toml harness/",
        "COPY --from=build /src/target/release/aws-catalog-sync /usr/local/bin/aws-catalog-sync",
        "RUN cp tests x",
    ] {
        assert!(
            copied_test_sources(copy).is_empty(),
            "{copy:?} is not a test copy"
        );
    }
}
