//! `avsweep scan`: an nmap-shaped command line over the scan engine.
//!
//! Arguments are parsed by hand because nmap's flags (`-Pn`, `-T4`, `-oG`,
//! `-iL`, `-p2967`) are multi-letter short options no argument parser models.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use futures::StreamExt;

use crate::catalogue::{self, AvProfile};
use crate::output::{
    GrepableWriter, JsonLinesWriter, NormalWriter, OutputFilter, ProductRule, RunInfo, ScanWriter,
    XmlWriter,
};
use crate::{BannerProbe, Error, ScanConfig, ScanEvent, TargetSet, TimingTemplate, parse_ports};

const HELP: &str = "\
Usage: avsweep scan [options] TARGETS...
TCP connect scan (like nmap -sT) for the ports antivirus agents listen on.

TARGETS: addresses, CIDR blocks and octet ranges: 10.0.0.7 10.0.0.0/24 10.0.1-3.* 2001:db8::/120
  -iL FILE               read targets from FILE (- for standard input)
  --exclude LIST         leave out these targets (same syntax, comma separated)
  --excludefile FILE     leave out the targets listed in FILE
PORTS AND PROFILES:
  -p PORTS               ports to scan: 2967,8081,8192-8194 (- for all)
  --profile NAME[=PORT]  add a built-in AV profile's ports and banner check (repeatable);
                         port-configurable profiles take their port: --profile officescan=4343
  --list-profiles        list the built-in profiles and exit
HOST DISCOVERY:
  -Pn, -P0               treat every target as up (skip discovery)
  -PS PORTS              TCP connect discovery ports (default 80,443,445,135,22)
TIMING:
  -T3 | -T4 | -T5        nmap timing templates (default -T3)
  --max-rate N           at most N probes per second
  --max-retries N        retransmissions of unanswered probes (cap)
  --min-rtt-timeout T, --max-rtt-timeout T, --initial-rtt-timeout T   (e.g. 100ms, 2s)
  --max-parallelism N    connects in flight at once (default: from the open-file limit)
  --max-host-parallelism N   connects in flight per host (default 32)
ORDER AND RESUME:
  --seed N               permutation seed (same seed, same order)
  --resume-from N        skip permutation positions below N (printed when a scan is interrupted)
EVIDENCE:
  --dns-servers A[,B]    look up each up host's PTR name at these servers (port 53
                         unless given as ADDR:PORT); without it no name is looked up
  --classify             probe classifier ports and guess each host's device class
OUTPUT:
  -oX FILE | -oG FILE | -oJ FILE   nmap XML, nmap grepable, JSON lines (- for standard output)
  --open                 only show open ports (and hosts that have one)
  -v                     also list hosts found down
  --no-progress          no progress bar (it is shown only when standard error is a terminal)
  -sT, -n                accepted for nmap compatibility (connect scan; -n: no DNS, the default)
  -h, --help             this help
";

struct Options {
    targets: Vec<String>,
    target_files: Vec<PathBuf>,
    excludes: Vec<String>,
    exclude_files: Vec<PathBuf>,
    ports: Vec<u16>,
    profiles: Vec<(&'static AvProfile, Option<u16>)>,
    skip_discovery: bool,
    discovery_ports: Option<Vec<u16>>,
    template: TimingTemplate,
    max_rate: Option<f64>,
    max_retries: Option<u32>,
    min_rtt: Option<Duration>,
    max_rtt: Option<Duration>,
    initial_rtt: Option<Duration>,
    max_parallelism: Option<usize>,
    max_host_parallelism: Option<usize>,
    seed: Option<u64>,
    resume_from: u64,
    dns_servers: Vec<std::net::SocketAddr>,
    classify: bool,
    outputs: Vec<(OutputKind, String)>,
    open_only: bool,
    verbose: bool,
    progress: bool,
    help: bool,
    list_profiles: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutputKind {
    Xml,
    Grepable,
    JsonLines,
    Normal,
}

fn usage(message: impl Into<String>) -> Error {
    Error::Usage(message.into())
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, Error> {
    value
        .trim()
        .parse()
        .map_err(|_| usage(format!("{flag} needs a number, got {value:?}")))
}

/// nmap time specs: a number with an optional unit (ms, s, m, h); a bare number means seconds.
fn parse_time(flag: &str, value: &str) -> Result<Duration, Error> {
    let value = value.trim();
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().map_err(|_| {
        usage(format!(
            "{flag} needs a time such as 100ms or 2s, got {value:?}"
        ))
    })?;
    let seconds = match unit {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => {
            return Err(usage(format!(
                "{flag}: unknown time unit {unit:?} (use ms, s, m or h)"
            )));
        }
    };
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| usage(format!("{flag}: {value:?} is not a usable time")))
}

fn parse_args(args: Vec<String>) -> Result<Options, Error> {
    let mut options = Options {
        targets: Vec::new(),
        target_files: Vec::new(),
        excludes: Vec::new(),
        exclude_files: Vec::new(),
        ports: Vec::new(),
        profiles: Vec::new(),
        skip_discovery: false,
        discovery_ports: None,
        template: TimingTemplate::T3,
        max_rate: None,
        max_retries: None,
        min_rtt: None,
        max_rtt: None,
        initial_rtt: None,
        max_parallelism: None,
        max_host_parallelism: None,
        seed: None,
        resume_from: 0,
        dns_servers: Vec::new(),
        classify: false,
        outputs: Vec::new(),
        open_only: false,
        verbose: false,
        progress: true,
        help: false,
        list_profiles: false,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // `--flag=value` is the same as `--flag value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if arg.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, Error> {
            match inline.clone() {
                Some(value) => Ok(value),
                None => args
                    .next()
                    .ok_or_else(|| usage(format!("{name} needs a value"))),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => options.help = true,
            "--list-profiles" => options.list_profiles = true,
            "-Pn" | "-P0" => options.skip_discovery = true,
            "-sT" => {}
            // No reverse DNS is already the default; `-n` also drops servers given earlier.
            "-n" => options.dns_servers.clear(),
            "--dns-servers" => {
                for server in value(&flag)?.split(',').filter(|s| !s.trim().is_empty()) {
                    options.dns_servers.push(parse_dns_server(server.trim())?);
                }
            }
            "-v" => options.verbose = true,
            "--open" => options.open_only = true,
            "--classify" => options.classify = true,
            "--no-progress" => options.progress = false,
            "-p" | "--ports" => options.ports.extend(parse_ports(&value(&flag)?)?),
            "-PS" => options.discovery_ports = Some(parse_ports(&value(&flag)?)?),
            "-T" => options.template = parse_template(&value(&flag)?)?,
            "-iL" => options.target_files.push(PathBuf::from(value(&flag)?)),
            "--exclude" => options.excludes.push(value(&flag)?),
            "--excludefile" => options.exclude_files.push(PathBuf::from(value(&flag)?)),
            "--max-rate" => {
                let rate: f64 = parse_number(&flag, &value(&flag)?)?;
                if !(rate > 0.0 && rate.is_finite()) {
                    return Err(usage(
                        "--max-rate must be a positive number of probes per second",
                    ));
                }
                options.max_rate = Some(rate);
            }
            "--max-retries" => options.max_retries = Some(parse_number(&flag, &value(&flag)?)?),
            "--min-rtt-timeout" => options.min_rtt = Some(parse_time(&flag, &value(&flag)?)?),
            "--max-rtt-timeout" => options.max_rtt = Some(parse_time(&flag, &value(&flag)?)?),
            "--initial-rtt-timeout" => {
                options.initial_rtt = Some(parse_time(&flag, &value(&flag)?)?)
            }
            "--max-parallelism" => {
                options.max_parallelism = Some(parse_number::<usize>(&flag, &value(&flag)?)?.max(1))
            }
            "--max-host-parallelism" => {
                options.max_host_parallelism =
                    Some(parse_number::<usize>(&flag, &value(&flag)?)?.max(1))
            }
            "--seed" => options.seed = Some(parse_number(&flag, &value(&flag)?)?),
            "--resume-from" => options.resume_from = parse_number(&flag, &value(&flag)?)?,
            "--profile" => {
                let spec = value(&flag)?;
                let (key, port) = match spec.split_once(['=', ':']) {
                    Some((key, port)) => (key, Some(parse_number::<u16>("--profile PORT", port)?)),
                    None => (spec.as_str(), None),
                };
                let profile = catalogue::require(key)?;
                if profile.listens_on_nothing {
                    return Err(usage(format!(
                        "profile {} ({}) listens on no port: {} A port scan cannot find it",
                        profile.key, profile.product, profile.notes
                    )));
                }
                if profile.ports.is_empty() && port.is_none() {
                    return Err(usage(format!(
                        "profile {} needs its site-specific port: --profile {}=PORT ({})",
                        profile.key, profile.key, profile.notes
                    )));
                }
                options.profiles.push((profile, port));
            }
            "-oX" | "-oG" | "-oJ" | "-oN" => {
                let kind = match flag.as_str() {
                    "-oX" => OutputKind::Xml,
                    "-oG" => OutputKind::Grepable,
                    "-oJ" => OutputKind::JsonLines,
                    _ => OutputKind::Normal,
                };
                options.outputs.push((kind, value(&flag)?));
            }
            other => {
                if let Some(ports) = other
                    .strip_prefix("-p")
                    .filter(|rest| !rest.is_empty() && !rest.starts_with('-') || *rest == "-")
                {
                    options.ports.extend(parse_ports(ports)?);
                } else if let Some(template) =
                    other.strip_prefix("-T").filter(|rest| !rest.is_empty())
                {
                    options.template = parse_template(template)?;
                } else if let Some(ports) =
                    other.strip_prefix("-PS").filter(|rest| !rest.is_empty())
                {
                    options.discovery_ports = Some(parse_ports(ports)?);
                } else if let Some(file) = other.strip_prefix("-iL").filter(|rest| !rest.is_empty())
                {
                    options.target_files.push(PathBuf::from(file));
                } else if other.starts_with("-s") {
                    return Err(usage(format!(
                        "{other}: only the TCP connect scan (-sT) is supported; it needs no root"
                    )));
                } else if other.starts_with('-') && other.len() > 1 {
                    return Err(usage(format!("unknown option {other}")));
                } else {
                    options.targets.push(other.to_string());
                }
            }
        }
    }
    Ok(options)
}

fn parse_template(value: &str) -> Result<TimingTemplate, Error> {
    match value.trim() {
        "3" | "normal" => Ok(TimingTemplate::T3),
        "4" | "aggressive" => Ok(TimingTemplate::T4),
        "5" | "insane" => Ok(TimingTemplate::T5),
        "0" | "1" | "2" | "paranoid" | "sneaky" | "polite" => Err(usage(format!(
            "-T{value}: the slow templates are not supported; use -T3 with --max-rate to go slower"
        ))),
        other => Err(usage(format!("-T{other}: use -T3, -T4 or -T5"))),
    }
}

fn read_list(path: &PathBuf) -> Result<String, Error> {
    let read_error = |source| Error::ReadFile {
        path: path.clone(),
        source,
    };
    let mut text = String::new();
    if path.as_os_str() == "-" {
        io::stdin().read_to_string(&mut text).map_err(read_error)?;
    } else {
        text = std::fs::read_to_string(path).map_err(read_error)?;
    }
    // Comment lines are allowed in target files.
    Ok(text
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n"))
}

struct Plan {
    config: ScanConfig,
    products: Vec<ProductRule>,
}

fn plan(options: &Options) -> Result<Plan, Error> {
    let mut spec = options.targets.join(" ");
    for file in &options.target_files {
        spec.push('\n');
        spec.push_str(&read_list(file)?);
    }
    let mut exclude = options.excludes.join(",");
    for file in &options.exclude_files {
        exclude.push('\n');
        exclude.push_str(&read_list(file)?);
    }
    let targets = TargetSet::parse_with_exclusions(&spec, &exclude)?;
    if targets.is_empty() {
        return Err(usage(
            "no targets to scan: give addresses or blocks, or -iL FILE",
        ));
    }
    let mut ports = options.ports.clone();
    let mut banners = Vec::new();
    let mut products = Vec::new();
    for (profile, port) in &options.profiles {
        let profile_ports: Vec<u16> = match port {
            Some(port) => vec![*port],
            None => profile.ports.to_vec(),
        };
        for port in profile_ports {
            ports.push(port);
            if profile.probe.is_some() || profile.banner_regex.is_some() {
                let mut probe = BannerProbe::read(port);
                probe.send = profile.probe.map(<[u8]>::to_vec);
                banners.push(probe);
            }
            if let Some(regex) = profile.banner_regex {
                products.push(ProductRule::new(port, profile.product, regex)?);
            } else {
                products.push(ProductRule::port_only(port, profile.product));
            }
        }
    }
    ports.sort_unstable();
    ports.dedup();
    if ports.is_empty() {
        return Err(usage("no ports to scan: give -p PORTS or --profile NAME"));
    }
    let mut config = ScanConfig::new(targets, ports);
    config.skip_discovery = options.skip_discovery;
    if let Some(discovery) = &options.discovery_ports {
        config.discovery_ports = discovery.clone();
    }
    let mut timing = options.template.timing();
    if let Some(retries) = options.max_retries {
        timing.max_retries = retries;
    }
    if let Some(min) = options.min_rtt {
        timing.min_rtt_timeout = min;
    }
    if let Some(max) = options.max_rtt {
        timing.max_rtt_timeout = max;
    }
    if let Some(initial) = options.initial_rtt {
        timing.initial_rtt_timeout = initial;
    }
    if timing.min_rtt_timeout > timing.max_rtt_timeout {
        return Err(usage("--min-rtt-timeout is larger than --max-rtt-timeout"));
    }
    config.timing = timing;
    config.max_rate = options.max_rate;
    config.max_in_flight = options.max_parallelism;
    if let Some(per_host) = options.max_host_parallelism {
        config.max_in_flight_per_host = per_host;
    }
    config.banners = banners;
    config.classify_devices = options.classify;
    if let Some(seed) = options.seed {
        config.seed = seed;
    }
    config.start_position = options.resume_from;
    config.dns_servers = options.dns_servers.clone();
    Ok(Plan { config, products })
}

fn open_output(path: &str) -> Result<Box<dyn Write + Send>, Error> {
    if path == "-" {
        return Ok(Box::new(BufWriter::new(io::stdout())));
    }
    let file = File::create(path).map_err(|source| Error::ReadFile {
        path: PathBuf::from(path),
        source,
    })?;
    Ok(Box::new(BufWriter::new(file)))
}

fn make_writers(
    options: &Options,
    products: &[ProductRule],
) -> Result<Vec<Box<dyn ScanWriter + Send>>, Error> {
    let filter = OutputFilter {
        open_only: options.open_only,
        include_down: options.verbose,
    };
    let mut outputs = options.outputs.clone();
    if outputs.iter().all(|(_, path)| path != "-") {
        // Like nmap: human-readable output on the terminal unless a format claimed standard output.
        outputs.push((OutputKind::Normal, "-".to_string()));
    }
    outputs
        .into_iter()
        .map(|(kind, path)| {
            let out = open_output(&path)?;
            let writer: Box<dyn ScanWriter + Send> = match kind {
                OutputKind::Xml => {
                    Box::new(XmlWriter::new(out, filter).with_products(products.to_vec()))
                }
                OutputKind::Grepable => {
                    Box::new(GrepableWriter::new(out, filter).with_products(products.to_vec()))
                }
                OutputKind::JsonLines => {
                    Box::new(JsonLinesWriter::new(out, filter).with_products(products.to_vec()))
                }
                OutputKind::Normal => {
                    Box::new(NormalWriter::new(out, filter).with_products(products.to_vec()))
                }
            };
            Ok(writer)
        })
        .collect()
}

fn print_profiles() {
    let mut out = io::stdout().lock();
    for profile in catalogue::builtin() {
        let ports = if profile.listens_on_nothing {
            "listens on nothing".to_string()
        } else if profile.ports.is_empty() {
            "port chosen per site: NAME=PORT".to_string()
        } else {
            crate::output::port_list(profile.ports)
        };
        let _ = writeln!(
            out,
            "{:<20} {:<34} {}\n{:<20} {}",
            profile.key, ports, profile.product, "", profile.notes
        );
    }
}

/// Runs `avsweep scan` with `args` (without the program name and subcommand).
/// Creates its own tokio runtime: call it from synchronous code, not from inside a runtime.
pub fn run<I: IntoIterator<Item = OsString>>(args: I) -> ExitCode {
    let args: Result<Vec<String>, OsString> = args.into_iter().map(OsString::into_string).collect();
    let args = match args {
        Ok(args) => args,
        Err(bad) => {
            eprintln!("avsweep scan: argument {bad:?} is not valid UTF-8");
            return ExitCode::from(2);
        }
    };
    let command_line = format!("avsweep scan {}", args.join(" "));
    let options = match parse_args(args) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("avsweep scan: {error}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    if options.list_profiles {
        print_profiles();
        return ExitCode::SUCCESS;
    }
    let plan = match plan(&options) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("avsweep scan: {error}");
            return ExitCode::from(2);
        }
    };
    let writers = match make_writers(&options, &plan.products) {
        Ok(writers) => writers,
        Err(error) => {
            eprintln!("avsweep scan: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("avsweep scan: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let show_progress = options.progress && io::stderr().is_terminal();
    match runtime.block_on(scan(plan.config, writers, command_line, show_progress)) {
        Ok(outcome) => outcome,
        Err(error) => {
            eprintln!("avsweep scan: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn scan(
    config: ScanConfig,
    mut writers: Vec<Box<dyn ScanWriter + Send>>,
    args: String,
    show_progress: bool,
) -> Result<ExitCode, Error> {
    let run = RunInfo {
        args,
        ports: config.ports.clone(),
        started: SystemTime::now(),
    };
    let seed = config.seed;
    let total = config.targets.len();
    for writer in &mut writers {
        writer.header(&run)?;
    }
    let bar = show_progress.then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} hosts  {msg}  ETA {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_position(config.start_position.min(total));
        bar
    });
    let mut handle = crate::start(config);
    let cancel = handle.cancel_token();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });
    let mut resume_position = 0;
    let mut cancelled = false;
    while let Some(event) = handle.next().await {
        match event {
            ScanEvent::Host(host) => {
                for writer in &mut writers {
                    writer.host(&host)?;
                }
            }
            ScanEvent::Progress(progress) => {
                resume_position = progress.resume_position;
                if let Some(bar) = &bar {
                    bar.set_position(progress.done);
                    bar.set_message(format!("{:.0} probes/s", progress.probes_per_sec));
                }
            }
            ScanEvent::Finished(summary) => {
                cancelled = summary.cancelled;
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                for writer in &mut writers {
                    writer.footer(&run, &summary)?;
                }
            }
        }
    }
    if cancelled {
        eprintln!(
            "avsweep scan: interrupted; continue with --seed {seed} --resume-from {resume_position}"
        );
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}

/// `192.0.2.53`, `192.0.2.53:5353` or `[2001:db8::53]:53`.
fn parse_dns_server(text: &str) -> Result<std::net::SocketAddr, Error> {
    if let Ok(address) = text.parse::<std::net::SocketAddr>() {
        return Ok(address);
    }
    text.parse::<std::net::IpAddr>()
        .map(|ip| std::net::SocketAddr::new(ip, 53))
        .map_err(|_| {
            usage(format!(
                "--dns-servers: “{text}” is not an address or ADDRESS:PORT"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, Error> {
        parse_args(args.iter().map(|arg| arg.to_string()).collect())
    }

    #[test]
    fn name_servers_are_explicit_and_dash_n_drops_them() {
        let options =
            parse(&["--dns-servers", "127.0.0.53,127.0.0.54:5353", "127.0.0.1"]).expect("valid");
        assert_eq!(
            options.dns_servers,
            [
                "127.0.0.53:53".parse().unwrap(),
                "127.0.0.54:5353".parse().unwrap()
            ]
        );
        let quiet = parse(&["--dns-servers=127.0.0.53", "-n", "127.0.0.1"]).expect("valid");
        assert!(quiet.dns_servers.is_empty());
        assert!(parse(&["--dns-servers", "resolver.lab", "127.0.0.1"]).is_err());
        assert!(parse(&["127.0.0.1"]).expect("valid").dns_servers.is_empty());
    }

    #[test]
    fn nmap_shaped_flags() {
        let options = parse(&[
            "-p",
            "2967,8081",
            "-Pn",
            "-T4",
            "--max-rate=500",
            "-oG",
            "-",
            "--seed",
            "7",
            "--resume-from",
            "42",
            "127.0.0.0/24",
        ])
        .expect("valid");
        assert_eq!(options.ports, vec![2967, 8081]);
        assert!(options.skip_discovery);
        assert_eq!(options.template, TimingTemplate::T4);
        assert_eq!(options.max_rate, Some(500.0));
        assert_eq!(
            options.outputs,
            vec![(OutputKind::Grepable, "-".to_string())]
        );
        assert_eq!((options.seed, options.resume_from), (Some(7), 42));
        assert_eq!(options.targets, vec!["127.0.0.0/24"]);
        let glued = parse(&["-p8192-8194", "-P0", "-T5", "-PS22,80", "10.0.0.1"]).expect("valid");
        assert_eq!(glued.ports, vec![8192, 8193, 8194]);
        assert!(glued.skip_discovery);
        assert_eq!(glued.template, TimingTemplate::T5);
        assert_eq!(glued.discovery_ports, Some(vec![22, 80]));
    }

    #[test]
    fn clear_errors() {
        for (args, expected) in [
            (&["-sS", "10.0.0.1"][..], "only the TCP connect scan"),
            (&["-T2"][..], "slow templates"),
            (&["-p"][..], "-p needs a value"),
            (&["--bogus"][..], "unknown option --bogus"),
            (&["--profile", "eset-protect"][..], "listens on no port"),
            (&["--profile", "officescan"][..], "officescan=PORT"),
            (&["--profile", "nope"][..], "known profiles"),
            (&["--max-rate", "0"][..], "positive"),
            (&["--max-rtt-timeout", "5parsecs"][..], "unknown time unit"),
        ] {
            let error = parse(args).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(expected), "{args:?}: {error}");
        }
    }

    #[test]
    fn profiles_add_ports_banners_and_products() {
        let options = parse(&[
            "--profile",
            "mcafee-agent",
            "--profile",
            "officescan=4343",
            "-p",
            "2967",
            "127.0.0.1",
        ])
        .expect("valid");
        let plan = plan(&options).expect("plan");
        assert_eq!(plan.config.ports, vec![2967, 4343, 8081]);
        assert_eq!(plan.config.banners.len(), 2);
        assert!(
            plan.config
                .banners
                .iter()
                .all(|probe| probe.send.as_deref() == Some(&b"GET / HTTP/1.0\r\n\r\n"[..]))
        );
        assert_eq!(plan.products.len(), 2);
    }

    #[test]
    fn plan_applies_timing_overrides_and_exclusions() {
        let options = parse(&[
            "-p",
            "22",
            "-T4",
            "--max-retries",
            "2",
            "--min-rtt-timeout",
            "50ms",
            "--exclude",
            "127.0.0.0",
            "127.0.0.0/30",
        ])
        .expect("valid");
        let planned = plan(&options).expect("plan");
        assert_eq!(planned.config.timing.max_retries, 2);
        assert_eq!(
            planned.config.timing.min_rtt_timeout,
            Duration::from_millis(50)
        );
        assert_eq!(
            planned.config.timing.max_rtt_timeout,
            Duration::from_millis(1250)
        );
        assert_eq!(planned.config.targets.len(), 3);
        assert!(
            plan(&parse(&["127.0.0.1"]).expect("valid")).is_err(),
            "no ports"
        );
        assert!(
            plan(&parse(&["-p", "22"]).expect("valid")).is_err(),
            "no targets"
        );
    }
}
