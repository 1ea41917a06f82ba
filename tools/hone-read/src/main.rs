// SPDX-License-Identifier: GPL-2.0

//! hone-read: copies Hone's PCAP-NG stream (`/dev/hone`) into files or to standard output.
//!
//! Every file it closes is a complete capture: it asks the device to end the section
//! (`HEIO_RESTART`), copies up to the end of section (the statistics block, then a 0-byte read),
//! and only then opens the next file, which starts with a new section header and snapshot. So
//! no block is lost or split between files. Rotation follows tcpdump: `-C` (size), `-G` (time,
//! with strftime names), `-W` (file count), and SIGHUP; SIGINT/SIGTERM end the file cleanly.

use clap::Parser;
use hone::ioctl;
use hone_dump::keep::{Keep, Want};
use hone::tally::Tally;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes asked for by one read: under load, one read takes a whole batch of records (the device
/// wakes its reader once per batch), and the reader polls only once the device has nothing.
const READ_SIZE: usize = 1 << 20;

/// Exit codes (sysexits, as the original honeread).
mod exit {
    pub const USAGE: u8 = 64;
    pub const NO_INPUT: u8 = 66;
    pub const OS_ERROR: u8 = 71;
    pub const CANT_CREATE: u8 = 73;
    pub const IO_ERROR: u8 = 74;
}

#[derive(Parser)]
#[command(
    version = hone::VERSION,
    about = "Copy Hone's PCAP-NG stream into files (with rotation) or to standard output",
    long_about = "Copies Hone's PCAP-NG stream (/dev/hone) into files or to standard output.\n\n\
        Each file hone-read closes is a complete capture that ends with its statistics block: \
        at a rotation it asks the device to end the section, copies up to its end, and only then \
        opens the next file, which starts with a new section header and a snapshot of the running \
        processes and sockets. No block is lost or split between files.\n\n\
        Signals: SIGHUP rotates now; SIGINT or SIGTERM end the current file cleanly and exit (a \
        second one exits at once).\n\n\
        Live view: hone-read -w - | wireshark -k -i -\n\n\
        Exit status: 0 done, 64 bad usage, 66 cannot open the device, 73 cannot create an output \
        file, 74 the device refused a setting, 71 other system errors.",
    after_help = "Examples:\n  hone-read -w /var/log/hone/hone.pcapng -s 96\n  \
        hone-read -w hone.pcapng -C 100 -W 10     ten rotating files of about 100 MB\n  \
        hone-read -w 'hone-%Y%m%d-%H%M.pcapng' -G 3600   one file an hour\n  \
        hone-read -w web.pcapng --container 3f2a9c0d5e8b   one docker container's part"
)]
struct Args {
    /// Write to FILE ("-" for standard output, the default). With -G, FILE is a strftime(3)
    /// pattern.
    #[arg(short = 'w', value_name = "FILE", default_value = "-")]
    write: String,
    /// Capture at most SNAPLEN bytes of each packet (0: whole packets; default: the module's).
    #[arg(short = 's', value_name = "SNAPLEN", value_parser = clap::value_parser!(u32).range(0..=65535))]
    snaplen: Option<u32>,
    /// Start a new file when the current one exceeds SIZE million bytes (fractions allowed).
    #[arg(short = 'C', value_name = "SIZE", value_parser = parse_size)]
    size: Option<u64>,
    /// Start a new file every SECONDS seconds.
    #[arg(short = 'G', value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    seconds: Option<u64>,
    /// With -C: keep COUNT files, numbered 0 to COUNT-1, overwriting the oldest; with -G alone:
    /// stop after COUNT files.
    #[arg(short = 'W', value_name = "COUNT", value_parser = clap::value_parser!(u32).range(1..))]
    count: Option<u32>,
    /// Append to existing files instead of truncating them.
    #[arg(short = 'a')]
    append: bool,
    /// The device to read.
    #[arg(short = 'd', long = "device", value_name = "DEVICE", default_value = "/dev/hone")]
    device: PathBuf,
    /// Print a status line on stderr every 10 seconds, not only at each file's end.
    #[arg(short = 'v')]
    verbose: bool,
    /// Print nothing on stderr but errors.
    #[arg(short = 'q', conflicts_with = "verbose")]
    quiet: bool,
    /// Keep only this container's part of the stream: the records of its processes, their
    /// sockets and packets (and every section header and statistics block). `[RUNTIME:]ID`, the
    /// id whole or its first 12 or more digits, as `docker ps` and `machinectl` show it.
    #[arg(long = "container", value_name = "ID", conflicts_with = "cgroup")]
    container: Option<String>,
    /// Keep only this cgroup's part of the stream: the records of the processes in it, their
    /// sockets, and the packets of sockets opened in it. ID is the inode number of its directory
    /// (`stat -c %i /sys/fs/cgroup/system.slice/x.service`), as hone-dump's CGNS lines print it.
    #[arg(long = "cgroup", value_name = "ID")]
    cgroup: Option<u64>,
}

impl Args {
    /// The part of the stream to keep, when not all of it.
    fn keep(&self) -> Option<Want> {
        match (&self.container, self.cgroup) {
            (Some(id), _) => Some(Want::Container(id.clone())),
            (None, Some(id)) => Some(Want::Cgroup(id)),
            (None, None) => None,
        }
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    let mb: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if !(mb > 0.0) || mb > 1e9 {
        return Err(format!("{s}: the size must be more than 0"));
    }
    Ok((mb * 1e6) as u64)
}

/// A failure and the exit code it means.
struct Failure(u8, String);

fn fail<T>(code: u8, msg: impl Into<String>) -> Result<T, Failure> {
    Err(Failure(code, msg.into()))
}

/// Where the stream goes.
enum Output {
    Stdout(io::Stdout),
    File(File, String),
}

impl Output {
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout(s) => {
                s.write_all(data)?;
                s.flush()
            }
            Output::File(f, _) => f.write_all(data),
        }
    }

    fn name(&self) -> &str {
        match self {
            Output::Stdout(_) => "standard output",
            Output::File(_, n) => n,
        }
    }
}

/// The file name `pattern` gives for the current local time, as strftime(3) would.
fn strftime(pattern: &str) -> Result<String, Failure> {
    strftime_at(pattern, &jiff::ZonedDateTime::now())
}

fn strftime_at(pattern: &str, time: &jiff::ZonedDateTime) -> Result<String, Failure> {
    let name = jiff::fmt::strtime::format(pattern, time)
        .map_err(|e| Failure(exit::USAGE, format!("'{pattern}' is not a strftime pattern: {e}")))?;
    if name.is_empty() {
        return fail(exit::USAGE, format!("'{pattern}' makes an empty file name"));
    }
    Ok(name)
}

/// Names the files as tcpdump does.
fn file_name(args: &Args, index: u64) -> Result<String, Failure> {
    let base = if args.seconds.is_some() { strftime(&args.write)? } else { args.write.clone() };
    Ok(match (args.size, args.count) {
        (Some(_), Some(count)) => {
            let width = (count - 1).to_string().len();
            format!("{base}{:0width$}", index % u64::from(count))
        }
        (Some(_), None) if index > 0 => format!("{base}{index}"),
        _ => base,
    })
}

fn open_output(args: &Args, index: u64) -> Result<Output, Failure> {
    if args.write == "-" {
        return Ok(Output::Stdout(io::stdout()));
    }
    let name = file_name(args, index)?;
    let mut opts = OpenOptions::new();
    opts.create(true);
    if args.append {
        opts.append(true);
    } else {
        opts.write(true).truncate(true);
    }
    match opts.open(&name) {
        Ok(f) => Ok(Output::File(f, name)),
        Err(e) => fail(exit::CANT_CREATE, format!("cannot create {name}: {e}")),
    }
}

fn device_ioctl(fd: &File, cmd: u32, arg: libc::c_ulong) -> io::Result<i32> {
    // SAFETY: the commands used here take no argument or an integer value.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), cmd as libc::c_ulong, arg) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

struct Signals {
    rotate: Arc<AtomicBool>,
    stop: Arc<AtomicUsize>,
}

impl Signals {
    fn install() -> io::Result<Self> {
        let rotate = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicUsize::new(0));
        signal_hook::flag::register(signal_hook::consts::SIGHUP, rotate.clone())?;
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            let stop = stop.clone();
            // The handler only touches an atomic; a second signal exits at once with _exit.
            // SAFETY: both are async-signal-safe.
            unsafe {
                signal_hook::low_level::register(sig, move || {
                    if stop.fetch_add(1, Ordering::SeqCst) >= 1 {
                        libc::_exit(128 + sig);
                    }
                })?;
            }
        }
        Ok(Signals { rotate, stop })
    }
}

fn status(args: &Args, out: &Output, bytes: u64, tally: &Tally, what: &str) {
    if !args.quiet {
        let [p, s, k] = tally.dropped;
        eprintln!(
            "hone-read: {what} {}: {bytes} bytes, {} packets; dropped by the device so far: {p} process, {s} socket, {k} packet events",
            out.name(),
            tally.packets
        );
    }
}

fn run(args: &Args) -> Result<(), Failure> {
    if args.write == "-" && (args.size.is_some() || args.seconds.is_some() || args.count.is_some()) {
        return fail(exit::USAGE, "-C, -G and -W need -w FILE");
    }
    if args.count.is_some() && args.size.is_none() && args.seconds.is_none() {
        return fail(exit::USAGE, "-W needs -C or -G");
    }
    let mut dev = match OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&args.device) {
        Ok(f) => f,
        Err(e) => return fail(exit::NO_INPUT, format!("cannot open {}: {e}", args.device.display())),
    };
    if let Some(s) = args.snaplen {
        if let Err(e) = device_ioctl(&dev, ioctl::SET_SNAPLEN, libc::c_ulong::from(s)) {
            return fail(exit::IO_ERROR, format!("cannot set the snaplen to {s}: {e}"));
        }
    }
    let signals = Signals::install().map_err(|e| Failure(exit::OS_ERROR, format!("cannot handle signals: {e}")))?;
    let mut index = 0u64;
    let mut out = open_output(args, index)?;
    if !args.quiet && args.write != "-" {
        eprintln!("hone-read: writing {}", out.name());
    }
    let mut bytes = 0u64;
    let mut tally = Tally::default();
    let mut buf = vec![0u8; READ_SIZE];
    let mut keep = args.keep().map(Keep::new);
    let mut kept = Vec::new();
    let mut drained = true; // the last read found nothing: wait for the device before the next
    let mut file_started = Instant::now();
    let mut last_status = Instant::now();
    let mut ending = false; // a restart was asked for: copy up to the end of the section
    let mut stopping = false;
    loop {
        let want_rotation = signals.rotate.swap(false, Ordering::SeqCst)
            || args.size.is_some_and(|s| bytes > s)
            || args.seconds.is_some_and(|s| file_started.elapsed() >= Duration::from_secs(s));
        if signals.stop.load(Ordering::SeqCst) > 0 && !stopping {
            stopping = true;
            want_restart(&dev, &mut ending)?;
        } else if want_rotation && !stopping {
            want_restart(&dev, &mut ending)?;
        }
        if args.verbose && last_status.elapsed() >= Duration::from_secs(10) {
            status(args, &out, bytes, &tally, "writing");
            last_status = Instant::now();
        }
        if drained {
            let mut pfd = libc::pollfd { fd: dev.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut pfd, 1, 200) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return fail(exit::OS_ERROR, format!("poll: {e}"));
            }
            if r == 0 && !ending {
                continue;
            }
        }
        let n = match io::Read::read(&mut dev, &mut buf) {
            Ok(n) => {
                drained = false;
                n
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                drained = true;
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return fail(exit::OS_ERROR, format!("reading {}: {e}", args.device.display())),
        };
        if n == 0 {
            // The end of the section: the file is complete.
            ending = false;
            status(args, &out, bytes, &tally, if stopping { "closed" } else { "rotated" });
            if let Output::File(f, name) = &out {
                f.sync_all().map_err(|e| Failure(exit::OS_ERROR, format!("{name}: {e}")))?;
            }
            if stopping {
                return Ok(());
            }
            index += 1;
            if args.seconds.is_some() && args.size.is_none() && args.count.is_some_and(|c| index >= u64::from(c)) {
                return Ok(());
            }
            out = open_output(args, index)?;
            bytes = 0;
            file_started = Instant::now();
            continue;
        }
        let data = match &mut keep {
            Some(keep) => {
                kept.clear();
                keep.feed(&buf[..n], &mut kept)
                    .map_err(|e| Failure(exit::OS_ERROR, format!("{}: {e}", args.device.display())))?;
                &kept[..]
            }
            None => &buf[..n],
        };
        if let Err(e) = out.write_all(data) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return fail(exit::OS_ERROR, format!("writing {}: {e}", out.name()));
        }
        tally.feed(data);
        bytes += data.len() as u64;
    }
}

/// Asks the device to end the section (once per rotation).
fn want_restart(dev: &File, ending: &mut bool) -> Result<(), Failure> {
    if !*ending {
        device_ioctl(dev, ioctl::RESTART, 0).map_err(|e| Failure(exit::IO_ERROR, format!("cannot restart the section: {e}")))?;
        *ending = true;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { exit::USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(code, msg)) => {
            eprintln!("hone-read: {msg}");
            ExitCode::from(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut v = vec!["hone-read"];
        v.extend_from_slice(extra);
        Args::try_parse_from(v).unwrap()
    }

    #[test]
    fn names_files_as_tcpdump() {
        let a = args(&["-w", "cap", "-C", "1"]);
        assert_eq!(file_name(&a, 0).ok().unwrap(), "cap");
        assert_eq!(file_name(&a, 2).ok().unwrap(), "cap2");
        let a = args(&["-w", "cap", "-C", "1", "-W", "12"]);
        assert_eq!(file_name(&a, 3).ok().unwrap(), "cap03");
        assert_eq!(file_name(&a, 13).ok().unwrap(), "cap01");
        let a = args(&["-w", "cap-%%", "-G", "5"]);
        assert_eq!(file_name(&a, 7).ok().unwrap(), "cap-%");
    }

    #[test]
    fn names_files_by_time_as_strftime() {
        let t = jiff::civil::date(2024, 7, 15).at(16, 24, 59, 0).in_tz("UTC").unwrap();
        let name = |p: &str| strftime_at(p, &t).map_err(|f| f.0);
        assert_eq!(name("cap-%Y%m%d-%H%M%S.pcapng"), Ok("cap-20240715-162459.pcapng".into()));
        assert_eq!(name("cap-%s"), Ok("cap-1721060699".into()));
        assert_eq!(name("%%"), Ok("%".into()));
        assert_eq!(name("cap-%!"), Err(exit::USAGE));
        assert_eq!(name(""), Err(exit::USAGE));
    }

    #[test]
    fn refuses_bad_usage() {
        for bad in [&["-C", "0"][..], &["-C", "x"], &["-s", "70000"], &["-G", "0"], &["-W", "0"]] {
            let mut v = vec!["hone-read", "-w", "f"];
            v.extend_from_slice(bad);
            assert!(Args::try_parse_from(v).is_err(), "{bad:?}");
        }
        assert_eq!(run(&args(&["-C", "1"])).err().map(|f| f.0), Some(exit::USAGE));
        assert_eq!(run(&args(&["-w", "f", "-W", "3"])).err().map(|f| f.0), Some(exit::USAGE));
        assert_eq!(run(&args(&["-d", "/nonexistent/hone"])).err().map(|f| f.0), Some(exit::NO_INPUT));
    }
}
