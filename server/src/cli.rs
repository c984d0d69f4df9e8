//! The `tomoni` command line: its commands and what each runs. `main.rs` only calls [`main`], so
//! the test suite can build the very same program under another name.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{Overrides, Settings};
use crate::{Application, SystemClock, admin, app, demo, telemetry};
use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tomoni_schema::domain::clock::Clock as _;
use tomoni_schema::domain::people::{Locale, OrganisationKind};
use tomoni_schema::store;
use uuid::Uuid;

#[derive(Parser)]
#[command(
    name = "tomoni",
    version,
    about = "Tomoni: the peer-support companion service"
)]
struct Cli {
    /// A TOML settings file (environment variables TOMONI_* and flags override it).
    #[arg(long, global = true, env = "TOMONI_CONFIG")]
    config: Option<PathBuf>,
    /// Where the embedded database lives (env TOMONI_DATA_DIR; default ./tomoni-data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (env TOMONI_LISTEN; default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Create (or reuse) a fictional demo organisation and print a coordinator token.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// The GraphQL schema.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
    },
    /// Operator tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Web Push.
    Push {
        #[command(subcommand)]
        command: PushCommand,
    },
}

#[derive(Subcommand)]
enum PushCommand {
    /// Print the VAPID application server key (base64url) apps subscribe with; creates the key on
    /// first use.
    VapidPublicKey,
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// Print the schema as SDL (what mobile-contract/schema.graphql holds).
    Print,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an organisation; prints its id.
    CreateOrg {
        #[arg(long)]
        name: String,
        /// hospital, ward_office, community_group or workshop
        #[arg(long, value_parser = parse_kind)]
        kind: OrganisationKind,
        #[arg(long, default_value = "Asia/Tokyo")]
        time_zone: String,
    },
    /// Create a coordinator in an organisation; prints a token to sign in with.
    CreateCoordinator {
        /// The organisation's id, as printed by create-org.
        #[arg(long)]
        organisation: Uuid,
        #[arg(long)]
        name: String,
        /// ja or en
        #[arg(long, default_value = "ja", value_parser = parse_locale)]
        locale: Locale,
        /// Where alerts nobody confirmed seeing are e-mailed (`email.smtp_url` must be set).
        #[arg(long)]
        email: Option<String>,
    },
}

fn parse_kind(value: &str) -> Result<OrganisationKind, String> {
    OrganisationKind::parse(value).map_err(|err| err.to_string())
}

fn parse_locale(value: &str) -> Result<Locale, String> {
    Locale::parse(value).map_err(|err| err.to_string())
}

/// Parses the command line, runs the command on a multi-threaded runtime, reports errors.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "tomoni: cannot start the runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "tomoni: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Schema {
        command: SchemaCommand::Print,
    } = cli.command
    {
        // Exactly the SDL, so that `> mobile-contract/schema.graphql` reproduces the committed file.
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(tomoni_schema::api::sdl().as_bytes())?;
        return Ok(stdout.flush()?);
    }
    let listen = match &cli.command {
        Command::Serve { listen, .. } => *listen,
        _ => None,
    };
    let settings = Settings::load(
        cli.config.as_deref(),
        &Overrides {
            listen,
            data_dir: cli.data_dir.clone(),
        },
    )?;
    telemetry::init(&settings.log)?;
    let clock = SystemClock;
    match cli.command {
        Command::Schema { .. } => Ok(()),
        Command::Serve { demo, .. } => {
            // The demo seeds its past through the schema with the clock held, then lets it go
            // before the server serves.
            let demo_clock = demo.then(|| Arc::new(demo::HeldClock::new(Arc::new(SystemClock))));
            let application = match &demo_clock {
                Some(held) => Application::build(&settings, held.clone()).await?,
                None => Application::build(&settings, Arc::new(SystemClock)).await?,
            };
            let address = application.local_addr()?;
            if let Some(held) = &demo_clock {
                let token = demo::ensure(application.database(), application.schema(), held)
                    .await
                    .context("cannot prepare the demo data")?;
                say(&format!("playground: {}", playground_url(address)))?;
                say(&format!("coordinator token: {}", token.reveal()))?;
            } else {
                say(&format!("playground: {}", playground_url(address)))?;
            }
            tracing::info!(%address, "listening");
            application.run(app::shutdown_signal()).await
        }
        Command::Push {
            command: PushCommand::VapidPublicKey,
        } => {
            let db = app::open_database(&settings).await?;
            store::migrate(&db)
                .await
                .context("cannot apply migrations")?;
            let key = app::load_vapid_key(&settings, &db, clock.now()).await?;
            say(key.public_key())
        }
        Command::Migrate => {
            let db = app::open_database(&settings).await?;
            store::migrate(&db)
                .await
                .context("cannot apply migrations")?;
            say("migrations: up to date")
        }
        Command::Admin { command } => {
            let db = app::open_database(&settings).await?;
            store::migrate(&db)
                .await
                .context("cannot apply migrations")?;
            match command {
                AdminCommand::CreateOrg {
                    name,
                    kind,
                    time_zone,
                } => {
                    let organisation =
                        admin::create_organisation(&db, &name, kind, &time_zone, clock.now())
                            .await?;
                    say(&format!("organisation id: {}", organisation.id))
                }
                AdminCommand::CreateCoordinator {
                    organisation,
                    name,
                    locale,
                    email,
                } => {
                    let (person, token) = admin::create_coordinator_with_email(
                        &db,
                        organisation,
                        &name,
                        locale,
                        email.as_deref(),
                        clock.now(),
                    )
                    .await?;
                    say(&format!("coordinator id: {}", person.id))?;
                    say(&format!("coordinator token: {}", token.reveal()))
                }
            }
        }
    }
}

/// The address a browser on this machine can open.
fn playground_url(address: SocketAddr) -> String {
    let host = if address.ip().is_unspecified() {
        "localhost".to_owned()
    } else {
        address.to_string()
    };
    if address.ip().is_unspecified() {
        format!("http://{host}:{}/", address.port())
    } else {
        format!("http://{host}/")
    }
}

/// What the command prints for people (and scripts) to read goes to stdout; logs go to stderr.
fn say(line: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}
