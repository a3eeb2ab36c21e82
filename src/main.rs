//! The `aws-catalog-sync` binary: the command line lives in the library
//! (`aws_catalog_sync::cli`), so that it is one module of the layer map in `src/lib.rs`.

fn main() -> std::process::ExitCode {
    aws_catalog_sync::cli::main()
}
