//! The `qualityd` command line: `serve` (the daemon), `profile` a file or directory through a
//! connector plugin, `scan` the configured datastores, `checks infer`, list `plugins`. Errors end here, as one line on stderr and a non-zero
//! exit code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
mod cli;

use cli::Format;
use cli::progress::with_progress;
use qualityd::config::Config;
use qualityd::contract::Setting;
use qualityd::logging::LogFormat;
use qualityd::operation::{self, Datastore, ProfileOptions, Sample};
use qualityd::report::{self, ProfileReport};
use qualityd::runtime::{Grants, Runtime};

#[derive(Parser)]
#[command(
    name = "qualityd",
    version,
    about = "A data-quality daemon with sandboxed WebAssembly connectors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human, env = "QUALITYD_LOG_FORMAT")]
    log_format: LogFormat,
}

#[derive(clap::Args)]
struct PluginArgs {
    /// Directory holding connector plugins (`NAME.wasm`).
    #[arg(
        long,
        env = "QUALITYD_PLUGINS",
        default_value = "plugins/target/wasm32-wasip2/release"
    )]
    plugins: PathBuf,
    /// Where compiled plugins are cached [default: ~/.cache/qualityd].
    #[arg(long, env = "QUALITYD_CACHE")]
    cache_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: serve the HTTP API, run scheduled jobs, hot-reload plugins.
    Serve {
        /// The daemon's config file.
        #[arg(long, short, env = "QUALITYD_CONFIG", default_value = "qualityd.toml")]
        config: PathBuf,
    },
    /// Profile the files in PATH (a file or a directory) and print a profile per container.
    Profile {
        /// A data file (CSV, TSV, JSON, NDJSON, Parquet, Avro, XLSX; CSV and JSON also .gz or
        /// .zst), or a directory of them.
        path: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// The connector plugin to read PATH with.
        #[arg(long, default_value = "files")]
        plugin: String,
        /// A plugin setting, `NAME=VALUE` (repeatable), e.g. `--set delimiter=;`.
        #[arg(long = "set", value_name = "NAME=VALUE", value_parser = parse_setting)]
        settings: Vec<(String, String)>,
        /// Profile only these fields (comma-separated; read with projection pushed down).
        #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
        fields: Option<Vec<String>>,
        /// Profile a sample of each container: a fraction (`0.1`, `10%`) or about a number of
        /// rows (`100000`). The same data gives the same sample every run.
        #[arg(long, value_name = "ROWS|FRACTION")]
        sample: Option<Sample>,
        /// Profile at most ROWS rows of each container: its first rows.
        #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
        /// Partitions read at once [default: number of cores].
        #[arg(long)]
        parallelism: Option<usize>,
        /// Memory cap of one plugin instance, in MiB (1 to 1048576).
        #[arg(long, default_value_t = 1024,
              value_parser = clap::value_parser!(u64).range(1..=qualityd::config::MAX_MIB))]
        memory_mib: u64,
        /// Time limit of one plugin call, in seconds (1 to ten years).
        #[arg(long, default_value_t = 60,
              value_parser = clap::value_parser!(u64).range(1..=qualityd::config::MAX_SECS))]
        call_timeout_secs: u64,
        #[command(flatten)]
        plugin_args: PluginArgs,
    },
    /// Scan the configured datastores' containers that have active checks, record the
    /// anomalies in the store (deduplicated), and report them. Exit code 0: no anomaly;
    /// 1: anomalies found; 2: something could not be scanned or evaluated.
    Scan {
        /// The config file (its check files are synced first).
        #[arg(long, short, env = "QUALITYD_CONFIG", default_value = "qualityd.toml")]
        config: PathBuf,
        /// Scan only this datastore (repeatable; all by default).
        #[arg(long = "datastore", value_name = "NAME")]
        datastores: Vec<String>,
        /// Scan only this container (repeatable; every one with checks by default).
        #[arg(long = "container", value_name = "NAME")]
        containers: Vec<String>,
        /// Read only the partitions past each container's last scan (files: the new and
        /// changed files). Open anomalies are not resolved by an incremental scan.
        #[arg(long)]
        incremental: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Manage checks.
    Checks {
        #[command(subcommand)]
        command: ChecksCommand,
    },
    /// Load every plugin in the plugin directory and show what each says of itself.
    Plugins {
        #[command(flatten)]
        plugin_args: PluginArgs,
    },
}

#[derive(Subcommand)]
enum ChecksCommand {
    /// Profile a datastore's containers now and propose checks inferred from the profiles
    /// (completeness, ranges, types, lengths, expected values, uniqueness), each with its
    /// evidence. Proposals wait for a decision (`POST /checks/ID/accept` or `/reject`).
    Infer {
        /// The config file.
        #[arg(long, short, env = "QUALITYD_CONFIG", default_value = "qualityd.toml")]
        config: PathBuf,
        /// The datastore.
        #[arg(long)]
        datastore: String,
        /// Only this container (repeatable; all by default).
        #[arg(long = "container", value_name = "NAME")]
        containers: Vec<String>,
        /// Make the proposals active at once.
        #[arg(long)]
        accept: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let daemon = matches!(cli.command, Command::Serve { .. });
    qualityd::logging::init(cli.log_format, if daemon { "info" } else { "warn" });
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn parse_setting(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

fn runtime(args: &PluginArgs) -> anyhow::Result<Arc<Runtime>> {
    let cache = match &args.cache_dir {
        Some(dir) => dir.clone(),
        None => Runtime::default_cache_dir()?,
    };
    Ok(Runtime::new(&cache)?)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config } => {
            let config = Config::load(&config)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("qualityd-async")
                .build()
                .context("starting the async runtime")?;
            let served = runtime.block_on(qualityd::daemon::serve(config));
            // `serve` drained the jobs within the grace period; what still runs on a blocking
            // thread (a first-start compile, a plugin call stuck where no limit reaches) must
            // not hold the exit. The store is left as a crash would leave it: each write is one
            // transaction.
            runtime.shutdown_background();
            served?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Profile {
            path,
            format,
            plugin,
            settings,
            fields,
            sample,
            limit,
            parallelism,
            memory_mib,
            call_timeout_secs,
            plugin_args,
        } => {
            let grants = Grants {
                directories: Vec::new(),
                memory_bytes: (memory_mib as usize) << 20,
                call_timeout: Duration::from_secs(call_timeout_secs),
                ..Grants::default()
            };
            if !path.exists() {
                anyhow::bail!("{}: no such file or directory", path.display());
            }
            let runtime = runtime(&plugin_args)?;
            let plugin = runtime.load_named(&plugin_args.plugins, &plugin)?;
            let mut datastore = Datastore::for_path(plugin, &path, grants)?;
            datastore.settings.extend(
                settings
                    .into_iter()
                    .map(|(name, value)| Setting { name, value }),
            );
            let mut options = ProfileOptions {
                fields,
                sample,
                limit,
                ..ProfileOptions::default()
            };
            if let Some(n) = parallelism {
                options.parallelism = n.max(1);
            }
            let outcomes =
                with_progress(|progress| operation::profile(&datastore, &options, progress))
                    .with_context(|| format!("profiling {}", path.display()))?;
            let report = ProfileReport::new(&outcomes);
            let mut stdout = std::io::stdout().lock();
            match format {
                Format::Json => {
                    serde_json::to_writer_pretty(&mut stdout, &report)?;
                    writeln!(stdout)?;
                }
                Format::Table => write!(stdout, "{}", report::render_table(&report))?,
            }
            let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
            if failed == 0 {
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!(
                "error: {failed} of {} containers could not be profiled; the report says why",
                outcomes.len()
            );
            Ok(ExitCode::FAILURE)
        }
        Command::Scan {
            config,
            datastores,
            containers,
            incremental,
            format,
        } => {
            let local = cli::checks::Local::open(&config)?;
            cli::checks::scan(&local, &datastores, &containers, incremental, format)
        }
        Command::Checks {
            command:
                ChecksCommand::Infer {
                    config,
                    datastore,
                    containers,
                    accept,
                    format,
                },
        } => {
            let local = cli::checks::Local::open(&config)?;
            cli::checks::infer(&local, &datastore, &containers, accept, format)
        }
        Command::Plugins { plugin_args } => {
            let runtime = runtime(&plugin_args)?;
            list_plugins(&runtime, &plugin_args.plugins)
        }
    }
}

fn list_plugins(runtime: &Arc<Runtime>, dir: &Path) -> anyhow::Result<ExitCode> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading the plugin directory {}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    paths.sort();
    let mut stdout = std::io::stdout().lock();
    let mut code = ExitCode::SUCCESS;
    for path in paths {
        match runtime.load(&path) {
            Ok(plugin) => {
                let info = plugin.info();
                writeln!(
                    stdout,
                    "{} {} ({}) serves: {}",
                    info.name,
                    info.version,
                    path.display(),
                    info.kinds.join(", ")
                )?;
                for s in &info.settings {
                    let default = s
                        .default
                        .as_deref()
                        .map(|d| format!(" = {d:?}"))
                        .unwrap_or_default();
                    let required = if s.required { " (required)" } else { "" };
                    writeln!(stdout, "    {}{default}{required}: {}", s.name, s.help)?;
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                code = ExitCode::FAILURE;
            }
        }
    }
    Ok(code)
}
