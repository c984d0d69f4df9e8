//! The `tomoni` program under another name, for the tests that run it as a separate process (a
//! crash needs a process to kill). Identical to the real binary: both only call the same `main`.

fn main() -> std::process::ExitCode {
    tomoni_server::cli::main()
}
