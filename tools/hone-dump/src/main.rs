// SPDX-License-Identifier: GPL-2.0

//! hone-dump: prints a Hone PCAP-NG capture (from `/dev/hone`, a file or stdin) as the text
//! records of `/dev/honet`, or as JSON, optionally filtered by pid, process name, connection,
//! cgroup or container.

use clap::Parser;
use hone_dump::{dump, DumpError, Filter, Printer};
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    version = hone::VERSION,
    about = "Print a Hone PCAP-NG capture as /dev/honet text records, or as JSON",
    long_about = "Prints a Hone PCAP-NG capture (from hone-read, /dev/hone, or any file) as the text \
        records of /dev/honet, or with --json as one JSON object per record. A file holds wall-clock \
        times only, so each section starts with '0.000000000 HEAD 0.000000000' and times are \
        seconds since 1970. Filters keep the records that match all of those given.\n\n\
        A damaged or truncated file is reported with the offset of the first bad block, after the \
        records before it; the exit status is then 1."
)]
struct Args {
    /// Capture to read ("-" or nothing: standard input).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    read: Option<PathBuf>,
    /// Print one JSON object per record.
    #[arg(long)]
    json: bool,
    /// Keep only the records of this process id.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pid: Option<i64>,
    /// Keep only the records of processes with this name (an executable's file name, a command
    /// name, or a kernel thread's name).
    #[arg(short = 'n', long = "name", value_name = "NAME")]
    name: Option<String>,
    /// Keep only the records of this connection id (hex, as printed).
    #[arg(short = 'c', long = "conn", value_name = "ID", value_parser = parse_conn)]
    conn: Option<u32>,
    /// Keep only the records of processes in this cgroup and the packets of sockets opened in it:
    /// its id, the inode number of its directory under /sys/fs/cgroup (`stat -c %i
    /// /sys/fs/cgroup/system.slice/x.service`), as CGNS lines print it.
    #[arg(short = 'g', long = "cgroup", value_name = "ID")]
    cgroup: Option<u64>,
    /// Keep only the records of processes in this container, and their sockets and packets: its
    /// id as CGNS lines print it (`docker:3f2a…`), with or without the runtime, whole or its
    /// first 12 digits or more as `docker ps` shows them; an nspawn machine by its name.
    #[arg(long = "container", value_name = "ID")]
    container: Option<String>,
}

fn parse_conn(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|_| format!("'{s}' is not a hex connection id"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut data = Vec::new();
    let read = match args.read.as_deref() {
        None => io::stdin().lock().read_to_end(&mut data).map_err(|e| format!("cannot read standard input: {e}")),
        Some(p) if p.as_os_str() == "-" => {
            io::stdin().lock().read_to_end(&mut data).map_err(|e| format!("cannot read standard input: {e}"))
        }
        Some(p) => std::fs::read(p).map(|d| data = d).map(|_| 0).map_err(|e| format!("cannot read {}: {e}", p.display())),
    };
    let filter = Filter::new(args.pid, args.name.clone(), args.conn, args.cgroup, args.container.clone());
    let mut printer = Printer::new(args.json, filter);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = match read {
        Err(e) => Err(e),
        // The reader of the output went away (`hone-dump -r x | head`): nothing more is wanted.
        Ok(_) => match dump(&data, &mut printer, &mut out).and_then(|()| out.flush().map_err(DumpError::Output)) {
            Err(DumpError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            r => r.map_err(|e| e.to_string()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hone-dump: {e}");
            ExitCode::FAILURE
        }
    }
}
