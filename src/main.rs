use clap::Parser;

#[tokio::main]
async fn main() {
    return_large_blocks_to_the_system();
    let cli = chatgate::cli::Cli::parse();
    if let Err(e) = chatgate::cli::run(cli).await {
        eprintln!("chatgate: {e}");
        std::process::exit(1);
    }
}

/// argon2's 19 MiB of working memory must go back to the system when a verification is done. glibc
/// raises its mmap threshold to the size of a large block once one is freed (the start-up dummy hash
/// frees one), after which such blocks come from the threads' heaps and stay there: each verification
/// after an idle pause left the process 19 MiB larger (60 → 80 → 99 → 118 MiB over four wrong
/// passwords; in the soak, every refresh of a cached login). A fixed threshold keeps large blocks
/// mapped on their own and unmapped when freed (with the pool's idle release, 27.3 → 28.0 MiB over
/// the same four).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_system() {
    // SAFETY: mallopt only sets a parameter of the allocator, with a valid option and value.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_system() {}
