//! The command line (SPEC §8): `serve`, and the admin forms scripts rely on.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::admin::{AccessSpec, Demo};
use crate::config::Settings;
use crate::startup::{Application, build_core};

#[derive(Debug, Parser)]
#[command(name = "chatgate", version, about = "Chat-messaging API server (Afilnet-compatible)")]
pub struct Cli {
    /// TOML settings file; `CHATGATE_*` environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// On an empty database, create a demo account with webchat and operator channels.
        #[arg(long)]
        demo: bool,
    },
    /// Manage accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage API accesses (extra credentials of an account).
    #[command(subcommand)]
    Access(AccessCommand),
    /// Manage channels.
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Manage the signing keys of access tokens.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the keys that seal secrets at rest.
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-seal every stored secret under a new key. With a key file: a new key is added at its top
    /// (older ones stay, so values not yet re-sealed still open). With CHATGATE_SECRET_KEY: re-seals
    /// under the list's first key — put a new key (`secrets new-key`) first, older ones after it.
    Rotate {
        /// Key file: re-seal under its first key as it is, adding none (after editing it by hand).
        #[arg(long)]
        no_new_key: bool,
    },
    /// Print a new random key (base64), for CHATGATE_SECRET_KEY.
    NewKey,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key; older keys stay in the JWKS until their tokens have expired.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account.
    Create {
        login: String,
        #[arg(long)]
        password: String,
    },
    /// Set the account-wide IP allow-list; no CIDR clears it.
    IpFilter { login: String, cidrs: Vec<String> },
    /// Set a new password for an account (or a new secret for an access).
    SetPassword {
        login: String,
        #[arg(long)]
        password: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Create an access of an account.
    Create(AccessCreate),
    /// Disable an access: its logins and tokens are refused from then on.
    Disable { login: String },
    /// Enable a disabled access again.
    Enable { login: String },
}

#[derive(Debug, Args)]
pub struct AccessCreate {
    pub account_login: String,
    pub access_login: String,
    /// Its password (for the password doors and OAuth); an access may have a secret, a token, or both.
    #[arg(long)]
    pub secret: Option<String>,
    /// Give it an API token (Feedbot's and Chat&Messenger's doors), printed once on stdout.
    #[arg(long)]
    pub token: bool,
    /// The one channel (platformid) it may use; elsewhere ACCESS_DENIED.
    #[arg(long, value_name = "PLATFORMID")]
    pub channel: Option<i64>,
    /// The operator group it belongs to: the console's `Assign to` offers the group.
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,
    /// Comma-separated: chat:read, chat:write, webhook:manage (default: chat:read,chat:write).
    #[arg(long)]
    pub scopes: Option<String>,
    /// An address range this access may be used from (repeatable).
    #[arg(long = "allow-ip", value_name = "CIDR")]
    pub allow_ip: Vec<String>,
    /// A name to recognise it by (default: its login).
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Create a channel; prints its platformid alone on stdout.
    Create {
        account_login: String,
        #[arg(long)]
        platform: String,
        #[arg(long)]
        name: String,
        /// A platform setting, KEY=VALUE (repeatable), e.g. bot_token=…
        #[arg(long = "setting", value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    /// Change a channel's settings (KEY= removes one); every server notices within a second.
    Set {
        platformid: String,
        #[arg(value_name = "KEY=VALUE", required = true)]
        settings: Vec<String>,
    },
    /// Register a Telegram channel's inbound URL ({public_url}/inbound/telegram/ID) with setWebhook.
    Webhook { platformid: String },
}

pub type CliResult = Result<(), Box<dyn std::error::Error>>;

/// The process's exit status for a failed command: 2 for input the command refused (as clap exits for
/// a malformed command line), 1 for anything else (a database that cannot be reached, …).
pub fn exit_code(error: &(dyn std::error::Error + 'static)) -> i32 {
    match error.downcast_ref::<crate::admin::AdminError>() {
        Some(crate::admin::AdminError::Invalid(_)) => 2,
        _ => 1,
    }
}

pub async fn run(cli: Cli) -> CliResult {
    let settings = Settings::load(cli.config.as_deref())?;
    crate::telemetry::init(&settings.log);
    match cli.command {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Account(cmd) => {
            let core = build_core(&settings).await?;
            let admin = core.admin();
            match cmd {
                AccountCommand::Create { login, password } => {
                    admin.create_account(&login, &password).await?;
                    eprintln!("account {login} created");
                }
                AccountCommand::IpFilter { login, cidrs } => {
                    admin.set_ip_filter(&login, &cidrs).await?;
                    eprintln!(
                        "IP filter of {login}: {}",
                        if cidrs.is_empty() { "cleared".into() } else { cidrs.join(" ") }
                    );
                }
                AccountCommand::SetPassword { login, password } => {
                    admin.set_secret(&login, &password).await?;
                    eprintln!("secret of {login} changed");
                }
            }
            Ok(())
        }
        Command::Access(cmd) => {
            let core = build_core(&settings).await?;
            let admin = core.admin();
            match cmd {
                AccessCommand::Create(a) => {
                    let (_, token) = admin
                        .create_access(&AccessSpec {
                            account_login: a.account_login,
                            login: a.access_login.clone(),
                            secret: a.secret,
                            token: a.token,
                            channel: a.channel,
                            group: a.group,
                            name: a.name,
                            scopes: a.scopes,
                            allow_ip: a.allow_ip,
                        })
                        .await?;
                    eprintln!("access {} created", a.access_login);
                    if let Some(token) = token {
                        // Shown this once: only its hash is kept.
                        println!("{token}");
                    }
                }
                AccessCommand::Disable { login } => {
                    admin.set_access_enabled(&login, false).await?;
                    eprintln!("access {login} disabled");
                }
                AccessCommand::Enable { login } => {
                    admin.set_access_enabled(&login, true).await?;
                    eprintln!("access {login} enabled");
                }
            }
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let core = build_core(&settings).await?;
            let key = crate::auth::tokens::keys::generate(chrono::Utc::now().timestamp_millis())?;
            core.store().rotate_signing_key(&key).await?;
            println!("{}", key.kid);
            Ok(())
        }
        Command::Secrets(SecretsCommand::NewKey) => {
            println!("{}", crate::secrets::encode_key(&crate::secrets::generate_key()));
            Ok(())
        }
        Command::Secrets(SecretsCommand::Rotate { no_new_key }) => {
            rotate_secret_key(&settings, !no_new_key).await
        }
        Command::Channel(cmd) => {
            let core = build_core(&settings).await?;
            let admin = core.admin();
            match cmd {
                ChannelCommand::Create { account_login, platform, name, settings: kv } => {
                    let id = admin.create_channel(&account_login, &platform, &name, &kv).await?;
                    println!("{id}");
                }
                ChannelCommand::Set { platformid, settings: kv } => {
                    admin.set_channel_settings(&platformid, &kv).await?;
                    let keys: Vec<&str> =
                        kv.iter().filter_map(|p| p.split_once('=').map(|(k, _)| k)).collect();
                    eprintln!("channel {platformid}: set {}", keys.join(", "));
                }
                ChannelCommand::Webhook { platformid } => {
                    let connectors = crate::startup::connectors(&settings)?;
                    let url = admin
                        .register_telegram_webhook(
                            &platformid,
                            settings.public_url.as_deref(),
                            &connectors.telegram,
                        )
                        .await?;
                    eprintln!("Telegram will post updates of channel {platformid} to {url}");
                }
            }
            Ok(())
        }
    }
}

/// `secrets rotate`. The current keys are checked against the database first; the new key file is in
/// place before anything is sealed under its key, so a run cut short leaves every value readable
/// (running instances read the file again when they meet the new key's id).
async fn rotate_secret_key(settings: &Settings, new_key: bool) -> CliResult {
    let current = build_core(settings).await?;
    let from_env = crate::secrets::KeyList::given(settings.secret_key.as_ref()).is_some();
    if new_key && !from_env {
        let file = &settings.secrets.key_file;
        let mut keys = crate::secrets::read_key_file(file)?.ok_or("the secret key file is missing")?;
        keys.insert(0, crate::secrets::generate_key());
        crate::secrets::replace_key_file(file, &keys)?;
    }
    drop(current);
    let core = build_core(settings).await?;
    let report = core.store().reseal_secrets().await?;
    let newest = core.store().secret_key_check().await?.map(|c| String::from_utf8_lossy(&c).into_owned());
    let id = newest.as_deref().and_then(crate::secrets::key_id_of).unwrap_or_default();
    println!("{id}");
    eprintln!(
        "re-sealed {} secrets under key {id} ({} channels, {} webhooks, {} webhook headers, {} signing keys, {} server keys); \
         older keys may be removed once every instance has restarted with the new key",
        report.total(),
        report.channels,
        report.webhooks,
        report.webhook_headers,
        report.signing_keys,
        report.server_keys
    );
    Ok(())
}

async fn serve(mut settings: Settings, demo: bool) -> CliResult {
    // The demo is created before the server starts, so that the landing page can link its webchat page.
    let asked = demo;
    let demo =
        if demo { crate::startup::build_core(&settings).await?.admin().create_demo().await? } else { None };
    settings.demo_webchat = demo.as_ref().map(|d| d.webchat);
    let app = Application::build(settings).await?;
    // Beside the subscriber `telemetry::init` installed for this process, which feeds its counter.
    crate::telemetry::report_malformed_requests();
    let base = format!("http://127.0.0.1:{}", app.port());
    tracing::info!(port = app.port(), "chatgate listening");
    match &demo {
        Some(d) => print_demo(&base, d),
        None if asked => println!("The database already has accounts; no demo data was created."),
        None => {}
    }
    app.run_until_signalled().await?;
    tracing::info!("stopped");
    Ok(())
}

fn print_demo(base: &str, d: &Demo) {
    let auth = format!("user={}&password={}", d.login, d.password);
    println!(
        "Demo account created.\n  user:     {login}\n  password: {pw}\n  channels: webchat {w}, operator {o}\n\n\
         Open:\n  {base}/                 this server\n  {base}/webchat/{w}/       the demo webchat page (a visitor's view)\n  \
         {base}/operator/        the operator console (sign in as {login})\n  {base}/docs/            API documentation\n  \
         {base}/api/soap/?wsdl   the WSDL\n\nTry:\n  \
         curl '{base}/api/http/?class=chat&method=getchatchannels&{auth}'\n  \
         curl '{base}/api/http/?class=chat&method=sendmessage&{auth}&platform=webchat&platformid={w}&destination=visitor-1&message=Hello+there'\n  \
         curl '{base}/api/http/?class=chat&method=getchats&{auth}&platform=webchat&platformid={w}'\n  \
         curl '{base}/api/http/?class=chat&method=getmessages&{auth}&platform=webchat&platformid={w}&destination=visitor-1'\n",
        login = d.login,
        pw = d.password,
        w = d.webchat,
        o = d.operator,
    );
}
