//! The `tomoni` binary: everything it does is in `tomoni_server::cli`.

fn main() -> std::process::ExitCode {
    tomoni_server::cli::main()
}
