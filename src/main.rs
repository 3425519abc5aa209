use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = chatgate::cli::Cli::parse();
    if let Err(e) = chatgate::cli::run(cli).await {
        eprintln!("chatgate: {e}");
        std::process::exit(1);
    }
}
