use clap::Parser;

/// jemalloc rather than glibc's malloc. A request allocates and frees dozens of small blocks
/// (strings, maps, the response): glibc's malloc/free were ~15 % of a plain-door request's
/// instructions and ~20 % of a SOAP request's (callgrind), and with jemalloc the doors serve 6–10 %
/// more requests per second (an A/B of release binaries under wrk; README, Performance). jemalloc also gives argon2's 19 MiB of working memory back
/// when it is freed (glibc kept such blocks in the threads' heaps once its mmap threshold had risen:
/// 60 → 118 MiB over four wrong passwords). mimalloc was as fast but held 20–70 MiB more at idle.
/// Built unprefixed (Cargo.toml), it also serves the C libraries' `malloc`: the bundled SQLite's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    let cli = chatgate::cli::Cli::parse();
    if let Err(e) = chatgate::cli::run(cli).await {
        eprintln!("chatgate: {e}");
        std::process::exit(chatgate::cli::exit_code(e.as_ref()));
    }
}
