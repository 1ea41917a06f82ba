// SPDX-License-Identifier: GPL-2.0

//! hone-stats: prints Hone's counters (the `GET_STATS` ioctl of `/dev/hone`).

use clap::Parser;
use hone::ioctl::{self, DeviceStats};
use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    version = hone::VERSION,
    about = "Print Hone's counters: readers, and events received, lost, dropped and delivered by class",
    long_about = "Prints Hone's counters since the modules were loaded, by event class (process, \
        socket, packet): events Hone received, events it lost for want of memory, events readers \
        dropped because their ring was full, events readers delivered (all readers together), \
        and packets readers' filters hid. hone-stats opens the device for this, so it counts \
        itself among the readers; it reports the others.\n\n\
        Exit status: 0 done, 66 cannot open the device, 74 the device has no statistics."
)]
struct Args {
    /// The device to ask.
    #[arg(short = 'd', long = "device", value_name = "DEVICE", default_value = "/dev/hone")]
    device: PathBuf,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

fn table(st: &DeviceStats) -> String {
    let mut out = format!("readers: {}\n{:<28}{:>14}{:>14}{:>14}\n", st.readers.saturating_sub(1), "", "process", "socket", "packet");
    for (name, row) in [
        ("received", &st.received),
        ("lost (no memory)", &st.lost),
        ("dropped (reader ring full)", &st.dropped),
        ("delivered to readers", &st.delivered),
    ] {
        out += &format!("{name:<28}{:>14}{:>14}{:>14}\n", row[0], row[1], row[2]);
    }
    out + &format!("packets hidden by filters: {}\n", st.filtered)
}

fn json(st: &DeviceStats) -> String {
    let obj = |a: &[u64; 3]| format!("{{\"process\":{},\"socket\":{},\"packet\":{}}}", a[0], a[1], a[2]);
    format!(
        "{{\"readers\":{},\"received\":{},\"lost\":{},\"dropped\":{},\"delivered\":{},\"filtered\":{}}}\n",
        st.readers.saturating_sub(1),
        obj(&st.received),
        obj(&st.lost),
        obj(&st.dropped),
        obj(&st.delivered),
        st.filtered
    )
}

fn main() -> ExitCode {
    let args = Args::parse();
    let dev = match OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(&args.device) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("hone-stats: cannot open {}: {e}", args.device.display());
            return ExitCode::from(66);
        }
    };
    let mut raw = [0u8; DeviceStats::SIZE];
    // SAFETY: GET_STATS writes DeviceStats::SIZE bytes at the pointer, which `raw` holds.
    let r = unsafe { libc::ioctl(dev.as_raw_fd(), ioctl::GET_STATS as libc::c_ulong, raw.as_mut_ptr()) };
    if r < 0 {
        eprintln!("hone-stats: {} gives no statistics: {}", args.device.display(), std::io::Error::last_os_error());
        return ExitCode::from(74);
    }
    let st = DeviceStats::from_bytes(&raw);
    print!("{}", if args.json { json(&st) } else { table(&st) });
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let st = DeviceStats { readers: 3, received: [1, 2, 3], filtered: 4, ..Default::default() };
        assert!(table(&st).starts_with("readers: 2\n"));
        assert!(table(&st).contains("received                                 1             2             3"));
        assert_eq!(
            json(&st),
            "{\"readers\":2,\"received\":{\"process\":1,\"socket\":2,\"packet\":3},\"lost\":{\"process\":0,\"socket\":0,\
             \"packet\":0},\"dropped\":{\"process\":0,\"socket\":0,\"packet\":0},\"delivered\":{\"process\":0,\"socket\":0,\
             \"packet\":0},\"filtered\":4}\n"
        );
    }
}
