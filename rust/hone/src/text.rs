// SPDX-License-Identifier: GPL-2.0

//! The line format of `/dev/honet`: one record per line, fields separated by one space,
//! timestamps as `seconds.nanoseconds` of the monotonic clock (HEAD gives the boot time).
//!
//! Compatible with the original sensor, except that paths and arguments are escaped so that a
//! line always splits unambiguously: in the quoted path, `"`, `\` and control bytes are written
//! as `\xHH`; in arguments also the space. Each argument is followed by one space, as before.

use super::container::Container;
use super::cursor::{Cursor, Full};
use super::params::HostId;
use super::ip::{self, Addrs, Summary};
use super::record::{Class, Counts, PacketRecord, Place, ProcessKind, ProcessRecord, SocketRecord};

fn escaped(c: &mut Cursor<'_>, bytes: &[u8], escape_space: bool) -> Result<(), Full> {
    for &b in bytes {
        if b < 0x20 || b == 0x7f || b == b'\\' || b == b'"' || (escape_space && b == b' ') {
            c.put(b"\\x")?;
            c.hex(b as u64, 2)?;
        } else {
            c.byte(b)?;
        }
    }
    Ok(())
}

/// `<open> HEAD <boot>`, with ` {guid}` when the host id is a GUID.
pub fn head(c: &mut Cursor<'_>, open_ns: u64, boot_wall_ns: u64, hostid: &HostId<'_>) -> Result<(), Full> {
    c.seconds_ns(open_ns)?;
    c.put(b" HEAD ")?;
    c.seconds_ns(boot_wall_ns)?;
    if let HostId::Guid(g) = hostid {
        c.put(b" {")?;
        c.hex(g.data1 as u64, 8)?;
        c.byte(b'-')?;
        c.hex(g.data2 as u64, 4)?;
        c.byte(b'-')?;
        c.hex(g.data3 as u64, 4)?;
        c.byte(b'-')?;
        for (i, b) in g.data4.iter().enumerate() {
            if i == 2 {
                c.byte(b'-')?;
            }
            c.hex(*b as u64, 2)?;
        }
        c.byte(b'}')?;
    }
    c.byte(b'\n')
}

/// A process record: `<ts> FORK|EXEC|EXIT|KTHD pid ppid euid egid`, then ` [name]` for a kernel
/// thread or ` "path" arg arg ` when the path is known; then, when its place is known, a second
/// line ([`place`]).
pub fn process(c: &mut Cursor<'_>, ts_ns: u64, rec: &ProcessRecord<'_>) -> Result<(), Full> {
    process_line(c, ts_ns, rec)?;
    match &rec.place {
        Some(place) => self::place(c, ts_ns, rec.pid, place),
        None => Ok(()),
    }
}

/// Where a process lives, a line of its own that follows its process line (so that the
/// original's lines keep their fields):
/// `<ts> CGNS pid cgroup-id nspid pidns netns "cgroup path" runtime:id`, the container `-`
/// when its cgroup names none, the path escaped as an executable's.
pub fn place(c: &mut Cursor<'_>, ts_ns: u64, pid: i32, place: &Place<'_>) -> Result<(), Full> {
    c.seconds_ns(ts_ns)?;
    c.put(b" CGNS ")?;
    c.dec_signed(i64::from(pid))?;
    c.byte(b' ')?;
    c.dec(place.cgroup_id)?;
    c.byte(b' ')?;
    c.dec_signed(i64::from(place.nspid))?;
    for ns in [place.pidns, place.netns] {
        c.byte(b' ')?;
        c.dec(u64::from(ns))?;
    }
    c.put(b" \"")?;
    escaped(c, place.cgroup_path, false)?;
    c.put(b"\" ")?;
    container_field(c, place.container().as_ref())?;
    c.byte(b'\n')
}

/// A container as `<runtime>:<id>` (the id escaped as an argument), `-` for none.
fn container_field(c: &mut Cursor<'_>, container: Option<&Container>) -> Result<(), Full> {
    match container {
        Some(container) => {
            c.put(container.runtime.name().as_bytes())?;
            c.byte(b':')?;
            escaped(c, container.id(), true)
        }
        None => c.byte(b'-'),
    }
}

fn process_line(c: &mut Cursor<'_>, ts_ns: u64, rec: &ProcessRecord<'_>) -> Result<(), Full> {
    c.seconds_ns(ts_ns)?;
    c.byte(b' ')?;
    c.put(rec.kind.tag())?;
    for v in [rec.pid as i64, rec.ppid as i64, rec.euid as i32 as i64, rec.egid as i32 as i64] {
        c.byte(b' ')?;
        c.dec_signed(v)?;
    }
    match (rec.kind, rec.path) {
        (ProcessKind::Kthread, Some(name)) => {
            c.put(b" [")?;
            escaped(c, name, true)?;
            c.byte(b']')?;
        }
        (_, Some(path)) => {
            c.put(b" \"")?;
            escaped(c, path, false)?;
            c.put(b"\" ")?;
            let argv = rec.argv.unwrap_or(&[]);
            let argv = argv.strip_suffix(&[0]).unwrap_or(argv);
            if !argv.is_empty() {
                for arg in argv.split(|&b| b == 0) {
                    escaped(c, arg, true)?;
                    c.byte(b' ')?;
                }
            }
        }
        _ => {}
    }
    c.byte(b'\n')
}

/// `<open> TAIL`: the end of a reader's section (the original's form: the reader's open time).
pub fn tail(c: &mut Cursor<'_>, open_ns: u64) -> Result<(), Full> {
    c.seconds_ns(open_ns)?;
    c.put(b" TAIL\n")
}

/// Writes `bytes` as printable ASCII: anything else, the space, `"` and `\` as `\xHH`.
pub fn escape_ascii(c: &mut Cursor<'_>, bytes: &[u8]) -> Result<(), Full> {
    escape(c, bytes, |b| b <= b' ' || b == b'"')
}

/// Writes a name as printable ASCII, spaces and quotes included: control characters, bytes
/// past ASCII and `\` as `\xHH`.
pub fn escape_name(c: &mut Cursor<'_>, bytes: &[u8]) -> Result<(), Full> {
    escape(c, bytes, |b| b < b' ')
}

/// Writes `bytes`, with `\`, bytes from 0x7f and those `also` picks as `\xHH`.
fn escape(c: &mut Cursor<'_>, bytes: &[u8], also: impl Fn(u8) -> bool) -> Result<(), Full> {
    for &b in bytes {
        if b >= 0x7f || b == b'\\' || also(b) {
            c.put(b"\\x")?;
            c.hex(u64::from(b), 2)?;
        } else {
            c.byte(b)?;
        }
    }
    Ok(())
}

/// `<ts> SOCK <O|C> pid ppid euid egid <connid>`.
pub fn socket(c: &mut Cursor<'_>, ts_ns: u64, rec: &SocketRecord) -> Result<(), Full> {
    c.seconds_ns(ts_ns)?;
    c.put(if rec.closed { b" SOCK C" } else { b" SOCK O" })?;
    let o = &rec.owner;
    for v in [o.pid as i64, o.ppid as i64, o.euid as i32 as i64, o.egid as i32 as i64] {
        c.byte(b' ')?;
        c.dec_signed(v)?;
    }
    c.byte(b' ')?;
    c.hex(u64::from(rec.conn), 8)?;
    c.byte(b'\n')
}

fn endpoint(c: &mut Cursor<'_>, addrs: &Addrs, src: bool, port: Option<u16>) -> Result<(), Full> {
    match (addrs, port) {
        (Addrs::V4(s, d), _) => {
            ip::write_v4(c, if src { s } else { d })?;
        }
        (Addrs::V6(s, d), Some(_)) => {
            c.byte(b'[')?;
            ip::write_v6(c, if src { s } else { d })?;
            c.byte(b']')?;
        }
        (Addrs::V6(s, d), None) => ip::write_v6(c, if src { s } else { d })?,
    }
    if let Some(p) = port {
        c.byte(b':')?;
        c.dec(u64::from(p))?;
    }
    Ok(())
}

/// `<proto> <src> -> <dst>` of a packet whose first bytes are `header`: `TCPv4`, `UDPv6`... or
/// the protocol number; ports after the addresses for TCP and UDP; `? ? -> ?` when too short.
pub fn summary(c: &mut Cursor<'_>, header: &[u8]) -> Result<(), Full> {
    match ip::summarize(header) {
        Summary::Short => c.put(b"? ? -> ?")?,
        Summary::OtherVersion(v) => {
            c.put(b"?.")?;
            c.dec(u64::from(v))?;
            c.put(b" ? -> ?")?;
        }
        Summary::Ip { protocol, addrs, ports, .. } => {
            let v = if matches!(addrs, Addrs::V4(..)) { b'4' } else { b'6' };
            match protocol {
                6 | 17 => {
                    c.put(if protocol == 6 { b"TCPv" } else { b"UDPv" })?;
                    c.byte(v)?;
                    c.byte(b' ')?;
                    match ports {
                        Some((sp, dp)) => {
                            endpoint(c, &addrs, true, Some(sp))?;
                            c.put(b" -> ")?;
                            endpoint(c, &addrs, false, Some(dp))?;
                        }
                        None => c.put(b"? -> ?")?,
                    }
                }
                p => {
                    c.dec(u64::from(p))?;
                    c.byte(b' ')?;
                    endpoint(c, &addrs, true, None)?;
                    c.put(b" -> ")?;
                    endpoint(c, &addrs, false, None)?;
                }
            }
        }
    }
    Ok(())
}

/// `<ts> PAKT <I|O> <connid> <pid> <proto> <src> -> <dst> <len>`: the connection id is
/// `00000000` and the pid 0 when unknown; `proto` is `TCPv4`, `UDPv6`... or the protocol number;
/// IPv6 addresses are in RFC 5952 form, in brackets when a port follows. `header` holds the
/// first bytes of the packet from its network header.
pub fn packet(c: &mut Cursor<'_>, ts_ns: u64, rec: &PacketRecord, header: &[u8]) -> Result<(), Full> {
    c.seconds_ns(ts_ns)?;
    c.put(if rec.inbound { b" PAKT I " } else { b" PAKT O " })?;
    c.hex(u64::from(rec.conn.unwrap_or(0)), 8)?;
    c.byte(b' ')?;
    c.dec(u64::from(rec.pid.unwrap_or(0)))?;
    c.byte(b' ')?;
    summary(c, header)?;
    c.byte(b' ')?;
    c.dec(u64::from(rec.len))?;
    c.byte(b'\n')
}

/// Where packets were seen: the network namespace of their hook, the cgroup of their socket and
/// the container of their process, each when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketPlace {
    netns: Option<u32>,
    cgroup: Option<u64>,
    container: Option<Container>,
}

impl PacketPlace {
    /// The place of the packet `rec`.
    pub fn of(rec: &PacketRecord) -> Self {
        PacketPlace { netns: rec.netns, cgroup: rec.cgroup, container: rec.container }
    }
}

/// `<ts> PKNS netns cgroup-id runtime:id`: where the packets of the `PAKT` lines that follow
/// were seen, until the next `PKNS` line (see [`PacketPlaces`]): the inode number of their hook's
/// network namespace, the id of their socket's cgroup, their process's container; `-` for one
/// not known.
pub fn packet_place(c: &mut Cursor<'_>, ts_ns: u64, place: &PacketPlace) -> Result<(), Full> {
    c.seconds_ns(ts_ns)?;
    c.put(b" PKNS ")?;
    match place.netns {
        Some(ns) => c.dec(u64::from(ns))?,
        None => c.byte(b'-')?,
    }
    c.byte(b' ')?;
    match place.cgroup {
        Some(id) => c.dec(id)?,
        None => c.byte(b'-')?,
    }
    c.byte(b' ')?;
    container_field(c, place.container.as_ref())?;
    c.byte(b'\n')
}

/// The place of the last packet a text stream showed in its section, so that a `PKNS` line is
/// written only where the place changes: the `PAKT` lines keep the original's fields, and a
/// stream whose packets are all seen in one place gets one line more, not one per packet.
#[derive(Debug, Default)]
pub struct PacketPlaces {
    shown: Option<PacketPlace>,
}

impl PacketPlaces {
    /// A new section starts: its first packet gets a `PKNS` line.
    pub fn new_section(&mut self) {
        self.shown = None;
    }

    /// Writes the `PAKT` line of `rec` (as [`packet`]), preceded by a `PKNS` line when its place
    /// is not that of the section's last packet shown. Nothing is remembered unless both fit: a
    /// record written again into a larger buffer comes out the same.
    pub fn packet(&mut self, c: &mut Cursor<'_>, ts_ns: u64, rec: &PacketRecord, header: &[u8]) -> Result<(), Full> {
        let place = PacketPlace::of(rec);
        if self.shown != Some(place) {
            packet_place(c, ts_ns, &place)?;
        }
        packet(c, ts_ns, rec, header)?;
        self.shown = Some(place);
        Ok(())
    }
}

/// `<ts> LOST <process> <socket> <packet>`: events this reader dropped at this point because its
/// ring was full.
pub fn lost(c: &mut Cursor<'_>, ts_ns: u64, gap: &Counts) -> Result<(), Full> {
    c.seconds_ns(ts_ns)?;
    c.put(b" LOST")?;
    for class in [Class::Process, Class::Socket, Class::Packet] {
        c.byte(b' ')?;
        c.dec(gap.get(class))?;
    }
    c.byte(b'\n')
}

/// Splits one argument list as [`process`] prints it back into the raw arguments (for tests and
/// tools that parse `/dev/honet`): undoes the `\xHH` escapes of one field.
#[cfg(not(hone_kernel))]
pub fn unescape_field<'o>(field: &[u8], out: &'o mut [u8]) -> Option<&'o [u8]> {
    let mut i = 0;
    let mut n = 0;
    while i < field.len() {
        let b = if field[i] == b'\\' {
            let h = field.get(i + 2..i + 4)?;
            let s = core::str::from_utf8(h).ok()?;
            i += 4;
            u8::from_str_radix(s, 16).ok()?
        } else {
            i += 1;
            field[i - 1]
        };
        *out.get_mut(n)? = b;
        n += 1;
    }
    Some(&out[..n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::parse_guid;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn render(f: impl FnOnce(&mut Cursor<'_>) -> Result<(), Full>) -> std::string::String {
        let mut buf = std::vec![0u8; 4096];
        let mut c = Cursor::new(&mut buf);
        f(&mut c).unwrap();
        let n = c.len();
        std::string::String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn lines_like_the_original() {
        let g = parse_guid(b"{0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f}").unwrap();
        assert_eq!(
            render(|c| head(c, 412_004_211_873, 1_436_812_345_123_456_789, &HostId::Guid(g))),
            "412.004211873 HEAD 1436812345.123456789 {0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f}\n"
        );
        assert_eq!(render(|c| head(c, 1, 2, &HostId::Text(b"x"))), "0.000000001 HEAD 0.000000002\n");
        let exec = ProcessRecord {
            kind: ProcessKind::Exec,
            pid: 2345,
            ppid: 2300,
            euid: 1000,
            egid: 1000,
            path: Some(b"/usr/bin/curl"),
            argv: Some(b"curl\0-s\0http://example.com/\0"),
            place: None,
        };
        assert_eq!(
            render(|c| process(c, 951_000_530_911, &exec)),
            "951.000530911 EXEC 2345 2300 1000 1000 \"/usr/bin/curl\" curl -s http://example.com/ \n"
        );
        let kthd = ProcessRecord { kind: ProcessKind::Kthread, pid: 2, ppid: 0, euid: 0, egid: 0, path: Some(b"kthreadd"), argv: None, place: None };
        assert_eq!(render(|c| process(c, 4_000_000, &kthd)), "0.004000000 KTHD 2 0 0 0 [kthreadd]\n");
        let exit = ProcessRecord { kind: ProcessKind::Exit, path: None, argv: None, ..exec };
        assert_eq!(render(|c| process(c, 952_500_000_000, &exit)), "952.500000000 EXIT 2345 2300 1000 1000\n");
        assert_eq!(render(|c| lost(c, 5, &Counts([3, 0, 9]))), "0.000000005 LOST 3 0 9\n");
    }

    #[test]
    fn socket_and_packet_lines() {
        use crate::record::Owner;
        let owner = Owner { pid: 2345, ppid: 2300, euid: 1000, egid: 1000, comm: Default::default() };
        let open = SocketRecord { closed: false, conn: 0x8f3a_2c40, owner };
        assert_eq!(render(|c| socket(c, 951_010_001_000, &open)), "951.010001000 SOCK O 2345 2300 1000 1000 8f3a2c40\n");
        let tcp = crate::ip::test_ipv4(6, [10, 0, 0, 5], [93, 184, 216, 34], &[0xc8, 0x22, 0, 80]);
        let rec = PacketRecord { inbound: false, conn: Some(0x8f3a_2c40), pid: Some(2345), thread: None, comm: Default::default(), basis: None, netns: None, cgroup: None, container: None, len: 60 };
        assert_eq!(
            render(|c| packet(c, 951_010_230_000, &rec, &tcp)),
            "951.010230000 PAKT O 8f3a2c40 2345 TCPv4 10.0.0.5:51234 -> 93.184.216.34:80 60\n"
        );
        let mut icmp = tcp.clone();
        icmp[9] = 1;
        let rec = PacketRecord { inbound: true, conn: None, pid: None, thread: None, comm: Default::default(), basis: None, netns: None, cgroup: None, container: None, len: 84 };
        assert_eq!(
            render(|c| packet(c, 951_100_000_000, &rec, &icmp)),
            "951.100000000 PAKT I 00000000 0 1 10.0.0.5 -> 93.184.216.34 84\n"
        );
        let mut udp6 = [0u8; 48];
        udp6[0] = 0x60;
        udp6[6] = 17;
        udp6[8..10].copy_from_slice(&[0x20, 0x01]);
        udp6[10..12].copy_from_slice(&[0x0d, 0xb8]);
        udp6[23] = 5;
        udp6[24..26].copy_from_slice(&[0x20, 0x01]);
        udp6[26..28].copy_from_slice(&[0x0d, 0xb8]);
        udp6[39] = 0x53;
        udp6[40..44].copy_from_slice(&[0x9c, 0x41, 0, 53]);
        let rec = PacketRecord { inbound: false, conn: Some(0x8f3a_2d80), pid: Some(2345), thread: None, comm: Default::default(), basis: None, netns: None, cgroup: None, container: None, len: 73 };
        assert_eq!(
            render(|c| packet(c, 951_200_000_000, &rec, &udp6)),
            "951.200000000 PAKT O 8f3a2d80 2345 UDPv6 [2001:db8::5]:40001 -> [2001:db8::53]:53 73\n"
        );
        let rec = PacketRecord { inbound: true, conn: None, pid: None, thread: None, comm: Default::default(), basis: None, netns: None, cgroup: None, container: None, len: 3 };
        assert_eq!(render(|c| packet(c, 0, &rec, &[0x45, 0, 0])), "0.000000000 PAKT I 00000000 0 ? ? -> ? 3\n");
    }

    #[test]
    fn a_place_line_comes_where_the_packets_place_changes() {
        use crate::container::Runtime;
        let udp = crate::ip::test_ipv4(17, [10, 0, 0, 5], [10, 0, 0, 6], &[0x30, 0x39, 0, 53]);
        let host = PacketRecord { inbound: false, conn: Some(1), pid: Some(40), thread: None, comm: Default::default(), basis: None, netns: Some(4026531840), cgroup: Some(7), container: None, len: 28 };
        let web = Container::new(Runtime::Docker, b"3f2a9c0d5e8b7a6f1c4d2e0b9a8f7e6d5c4b3a291807f6e5d4c3b2a19087f6e5").unwrap();
        let boxed = PacketRecord { netns: Some(4026532293), cgroup: Some(8), container: Some(web), ..host };
        let mut places = PacketPlaces::default();
        let mut out = std::string::String::new();
        for (ts, rec) in [(1, &host), (2, &host), (3, &boxed), (4, &boxed), (5, &host)] {
            out += &render(|c| places.packet(c, ts, rec, &udp));
        }
        let head = "PKNS 4026531840 7 -\n";
        let inner = "PKNS 4026532293 8 docker:3f2a9c0d5e8b7a6f1c4d2e0b9a8f7e6d5c4b3a291807f6e5d4c3b2a19087f6e5\n";
        let pakt = |ts: u32| std::format!("0.00000000{ts} PAKT O 00000001 40 UDPv4 10.0.0.5:12345 -> 10.0.0.6:53 28\n");
        let want = std::format!(
            "0.000000001 {head}{}{}0.000000003 {inner}{}{}0.000000005 {head}{}",
            pakt(1), pakt(2), pakt(3), pakt(4), pakt(5)
        );
        assert_eq!(out, want);
        // A new section shows its first packet's place; unknown fields are `-`.
        places.new_section();
        let bare = PacketRecord { netns: None, cgroup: None, ..host };
        assert!(render(|c| places.packet(c, 6, &bare, &udp)).starts_with("0.000000006 PKNS - - -\n0.000000006 PAKT"));
        // Nothing is remembered unless both lines fit: the retry shows the place again.
        places.new_section();
        let mut small = [0u8; 40];
        assert_eq!(places.packet(&mut Cursor::new(&mut small), 7, &host, &udp), Err(Full));
        assert!(render(|c| places.packet(c, 7, &host, &udp)).starts_with("0.000000007 PKNS 4026531840 7 -\n"));
        assert!(render(|c| places.packet(c, 8, &host, &udp)).starts_with("0.000000008 PAKT"));
    }

    #[test]
    fn escapes_keep_fields_apart() {
        let rec = ProcessRecord {
            kind: ProcessKind::Exec,
            pid: 1,
            ppid: 0,
            euid: u32::MAX,
            egid: 0,
            path: Some(b"/tmp/a \"b\"\\c"),
            argv: Some("x y\0z\nw\0ü\0".as_bytes()),
            place: None,
        };
        assert_eq!(
            render(|c| process(c, 0, &rec)),
            "0.000000000 EXEC 1 0 -1 0 \"/tmp/a \\x22b\\x22\\x5cc\" x\\x20y z\\x0aw ü \n"
        );
    }

    #[test]
    fn a_process_place_follows_its_line() {
        let id = "3f2a9c0d5e8b7a6f1c4d2e0b9a8f7e6d5c4b3a291807f6e5d4c3b2a19087f6e5";
        let path = std::format!("/system.slice/docker-{id}.scope");
        let place = Place { cgroup_id: 7341, cgroup_path: path.as_bytes(), nspid: 1, pidns: 4026532290, netns: 4026532293 };
        let exec = ProcessRecord {
            kind: ProcessKind::Exec,
            pid: 2345,
            ppid: 2300,
            euid: 0,
            egid: 0,
            path: Some(b"/usr/sbin/nginx"),
            argv: Some(b"nginx\0"),
            place: Some(place),
        };
        assert_eq!(
            render(|c| process(c, 951_000_530_911, &exec)),
            std::format!(
                "951.000530911 EXEC 2345 2300 0 0 \"/usr/sbin/nginx\" nginx \n\
                 951.000530911 CGNS 2345 7341 1 4026532290 4026532293 \"{path}\" docker:{id}\n"
            )
        );
        let host = Place { cgroup_path: b"/user.slice/a b\"c", ..place };
        assert_eq!(
            render(|c| super::place(c, 0, 7, &host)),
            "0.000000000 CGNS 7 7341 1 4026532290 4026532293 \"/user.slice/a b\\x22c\" -\n"
        );
    }

    #[test]
    fn names_keep_spaces_and_quotes() {
        assert_eq!(render(|c| escape_name(c, b"my \"app\"\\\n\x7f\xc3")), "my \"app\"\\x5c\\x0a\\x7f\\xc3");
    }

    proptest! {
        #[test]
        fn names_survive_escaping(name in proptest::collection::vec(any::<u8>(), 0..16)) {
            let escaped = render(|c| escape_name(c, &name));
            prop_assert!(escaped.bytes().all(|b| (b' '..0x7f).contains(&b)));
            let mut out = [0u8; 16];
            prop_assert_eq!(unescape_field(escaped.as_bytes(), &mut out), Some(&name[..]));
        }

        #[test]
        fn arguments_survive_escaping(args in proptest::collection::vec(proptest::collection::vec(1u8..=255, 1..20), 1..6)) {
            let mut argv = Vec::new();
            for a in &args { argv.extend_from_slice(a); argv.push(0); }
            let rec = ProcessRecord { kind: ProcessKind::Exec, pid: 1, ppid: 1, euid: 0, egid: 0, path: Some(b"/p"), argv: Some(&argv), place: None };
            let mut buf = std::vec![0u8; 8192];
            let mut c = Cursor::new(&mut buf);
            process(&mut c, 0, &rec).unwrap();
            let n = c.len();
            let line = &buf[..n];
            prop_assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
            let after = line.windows(2).position(|w| w == b"\" ").unwrap() + 2;
            let fields: Vec<&[u8]> = line[after..n - 1].split(|&b| b == b' ').filter(|f| !f.is_empty()).collect();
            prop_assert_eq!(fields.len(), args.len());
            for (f, a) in fields.iter().zip(&args) {
                let mut out = [0u8; 64];
                prop_assert_eq!(unescape_field(f, &mut out), Some(&a[..]));
            }
        }
    }
}
