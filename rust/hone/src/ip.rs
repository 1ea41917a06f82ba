// SPDX-License-Identifier: GPL-2.0

//! What `/dev/honet` says about a packet: protocol, addresses and ports, read from the start of
//! its IPv4 or IPv6 header.

#[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
use super::cursor::{Cursor, Full};

/// Transport protocol numbers Hone names.
const TCP: u8 = 6;
const UDP: u8 = 17;

/// The addresses of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addrs {
    /// IPv4 source and destination.
    V4([u8; 4], [u8; 4]),
    /// IPv6 source and destination.
    V6([u8; 16], [u8; 16]),
}

/// A packet's network and transport summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// Fewer bytes than an IP header.
    Short,
    /// An IP version other than 4 or 6.
    OtherVersion(u8),
    /// An IP packet: its protocol (after IPv6 extension headers), addresses and, for TCP and
    /// UDP with a readable transport header, ports.
    Ip {
        /// Transport protocol number.
        protocol: u8,
        /// Source and destination.
        addrs: Addrs,
        /// Source and destination ports.
        ports: Option<(u16, u16)>,
        /// Offset of the transport header, when it was reached.
        transport: Option<usize>,
    },
}

/// An ICMP or ICMPv6 echo request or reply.
#[cfg(any(not(hone_kernel), hone_crate = "hone_notify"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo {
    /// A reply (else a request).
    pub reply: bool,
    /// ICMPv6 (else ICMP).
    pub v6: bool,
    /// The echo identifier (a ping socket's local "port").
    pub id: u16,
}

/// The echo request or reply a packet carries, if it is one.
#[cfg(any(not(hone_kernel), hone_crate = "hone_notify"))]
pub fn echo(h: &[u8]) -> Option<Echo> {
    let Summary::Ip { protocol, addrs, transport: Some(off), .. } = summarize(h) else { return None };
    let icmp = h.get(off..off.checked_add(6)?)?;
    let v6 = matches!(addrs, Addrs::V6(..));
    let reply = match (v6, protocol, icmp[0], icmp[1]) {
        (false, 1, 0, 0) | (true, 58, 129, 0) => true,
        (false, 1, 8, 0) | (true, 58, 128, 0) => false,
        _ => return None,
    };
    Some(Echo { reply, v6, id: u16::from_be_bytes([icmp[4], icmp[5]]) })
}

fn ports(h: &[u8], off: usize) -> Option<(u16, u16)> {
    let p = h.get(off..off.checked_add(4)?)?;
    Some((u16::from_be_bytes([p[0], p[1]]), u16::from_be_bytes([p[2], p[3]])))
}

/// Reads the summary from the first bytes of a packet (its network header onwards).
pub fn summarize(h: &[u8]) -> Summary {
    let Some(&first) = h.first() else { return Summary::Short };
    match first >> 4 {
        4 => {
            if h.len() < 20 {
                return Summary::Short;
            }
            let ihl = usize::from(first & 0xf) * 4;
            let protocol = h[9];
            let mut src = [0u8; 4];
            let mut dst = [0u8; 4];
            src.copy_from_slice(&h[12..16]);
            dst.copy_from_slice(&h[16..20]);
            // Only the first fragment holds the transport header.
            let first_fragment = u16::from_be_bytes([h[6], h[7]]) & 0x1fff == 0;
            let transport = (ihl >= 20 && first_fragment).then_some(ihl);
            let ports = match transport {
                Some(off) if protocol == TCP || protocol == UDP => ports(h, off),
                _ => None,
            };
            Summary::Ip { protocol, addrs: Addrs::V4(src, dst), ports, transport }
        }
        6 => {
            if h.len() < 40 {
                return Summary::Short;
            }
            let mut src = [0u8; 16];
            let mut dst = [0u8; 16];
            src.copy_from_slice(&h[8..24]);
            dst.copy_from_slice(&h[24..40]);
            let mut next = h[6];
            let mut off = 40usize;
            let mut readable = true;
            // Hop-by-hop, routing, destination options, AH; a non-first fragment ends the walk.
            loop {
                match next {
                    0 | 43 | 60 | 51 => {
                        let (Some(&n), Some(&l)) = (h.get(off), h.get(off + 1)) else {
                            readable = false;
                            break;
                        };
                        next = n;
                        off += if next == 51 { (usize::from(l) + 2) * 4 } else { (usize::from(l) + 1) * 8 };
                    }
                    44 => {
                        let (Some(&n), Some(f)) = (h.get(off), h.get(off + 2..off + 4)) else {
                            readable = false;
                            break;
                        };
                        next = n;
                        if u16::from_be_bytes([f[0], f[1]]) & 0xfff8 != 0 {
                            readable = false;
                        }
                        off += 8;
                    }
                    _ => break,
                }
                if !readable {
                    break;
                }
            }
            let transport = readable.then_some(off);
            let ports = if readable && (next == TCP || next == UDP) { ports(h, off) } else { None };
            Summary::Ip { protocol: next, addrs: Addrs::V6(src, dst), ports, transport }
        }
        v => Summary::OtherVersion(v),
    }
}

/// Writes an IPv6 address in RFC 5952 form: lower-case hex, no leading zeros, the longest run
/// of two or more zero groups (the first, on a tie) as `::`.
#[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
pub fn write_v6(c: &mut Cursor<'_>, a: &[u8; 16]) -> Result<(), Full> {
    let mut groups = [0u16; 8];
    for (i, g) in groups.iter_mut().enumerate() {
        *g = u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
    }
    // An IPv4-mapped address is written with its IPv4 part in dotted form.
    if groups[..5] == [0; 5] && groups[5] == 0xffff {
        c.put(b"::ffff:")?;
        return write_v4(c, &[a[12], a[13], a[14], a[15]]);
    }
    let (mut best, mut best_len) = (8usize, 1usize);
    let mut i = 0;
    while i < 8 {
        if groups[i] == 0 {
            let start = i;
            while i < 8 && groups[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    let mut i = 0;
    while i < 8 {
        if i == best {
            c.put(b"::")?;
            i += best_len;
            continue;
        }
        if i > 0 && i != best + best_len {
            c.byte(b':')?;
        }
        let g = groups[i] as u64;
        let width = if g >= 0x1000 { 4 } else if g >= 0x100 { 3 } else if g >= 0x10 { 2 } else { 1 };
        c.hex(g, width)?;
        i += 1;
    }
    Ok(())
}

/// Writes a dotted IPv4 address.
#[cfg(any(not(hone_kernel), hone_crate = "honeevent"))]
pub fn write_v4(c: &mut Cursor<'_>, a: &[u8; 4]) -> Result<(), Full> {
    for (i, b) in a.iter().enumerate() {
        if i > 0 {
            c.byte(b'.')?;
        }
        c.dec(u64::from(*b))?;
    }
    Ok(())
}

/// A minimal IPv4 header (20 bytes, `protocol`, `src` -> `dst`) followed by `transport`, for tests.
#[cfg(test)]
pub(crate) fn test_ipv4(protocol: u8, src: [u8; 4], dst: [u8; 4], transport: &[u8]) -> std::vec::Vec<u8> {
    let mut h = std::vec![0u8; 20];
    h[0] = 0x45;
    h[9] = protocol;
    h[12..16].copy_from_slice(&src);
    h[16..20].copy_from_slice(&dst);
    h.extend_from_slice(transport);
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv6Addr;
    use std::string::{String, ToString};

    fn v6(a: [u8; 16]) -> String {
        let mut b = [0u8; 64];
        let mut c = Cursor::new(&mut b);
        write_v6(&mut c, &a).unwrap();
        let n = c.len();
        String::from_utf8(b[..n].to_vec()).unwrap()
    }

    #[test]
    fn rfc5952_examples() {
        let p = |s: &str| s.parse::<Ipv6Addr>().unwrap().octets();
        assert_eq!(v6(p("2001:0db8:0000:0000:0000:0000:0000:0005")), "2001:db8::5");
        assert_eq!(v6(p("2001:db8:0:1:1:1:1:1")), "2001:db8:0:1:1:1:1:1");
        assert_eq!(v6(p("2001:0:0:1:0:0:0:1")), "2001:0:0:1::1");
        assert_eq!(v6(p("2001:db8:0:0:1:0:0:1")), "2001:db8::1:0:0:1");
        assert_eq!(v6(p("::1")), "::1");
        assert_eq!(v6(p("::")), "::");
        assert_eq!(v6(p("fe80::")), "fe80::");
        assert_eq!(v6(p("::ffff:10.0.0.1")), "::ffff:10.0.0.1");
    }

    proptest! {
        /// Rust's standard library writes RFC 5952 form too: use it as the oracle.
        #[test]
        fn matches_std(groups in proptest::collection::vec(prop_oneof![Just(0u16), Just(1u16), any::<u16>()], 8)) {
            let mut a = [0u8; 16];
            for (i, g) in groups.iter().enumerate() {
                a[2 * i..2 * i + 2].copy_from_slice(&g.to_be_bytes());
            }
            prop_assert_eq!(v6(a), Ipv6Addr::from(a).to_string());
        }

        #[test]
        fn never_panics(h in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = summarize(&h);
            let _ = echo(&h);
        }
    }

    #[test]
    fn headers() {
        let v4 = test_ipv4(6, [10, 0, 0, 1], [10, 0, 0, 2], &[0x1f, 0x90, 0x00, 0x50]);
        assert_eq!(
            summarize(&v4),
            Summary::Ip {
                protocol: 6,
                addrs: Addrs::V4([10, 0, 0, 1], [10, 0, 0, 2]),
                ports: Some((8080, 80)),
                transport: Some(20)
            }
        );
        assert!(matches!(summarize(&v4[..22]), Summary::Ip { ports: None, .. }));
        assert_eq!(summarize(&v4[..19]), Summary::Short);
        // IPv6 with a hop-by-hop header before UDP.
        let mut v6h = [0u8; 52];
        v6h[0] = 0x60;
        v6h[6] = 0;
        v6h[40] = 17;
        v6h[41] = 0;
        v6h[48..52].copy_from_slice(&[0, 53, 0x9c, 0x41]);
        assert!(matches!(summarize(&v6h), Summary::Ip { protocol: 17, ports: Some((53, 40001)), .. }));
        assert_eq!(summarize(&[0x20; 30]), Summary::OtherVersion(2));
    }

    #[test]
    fn echoes() {
        let mut v4 = test_ipv4(1, [10, 0, 0, 1], [10, 0, 0, 2], &[8, 0, 0, 0, 0x12, 0x34, 0, 1]);
        assert_eq!(echo(&v4), Some(Echo { reply: false, v6: false, id: 0x1234 }));
        v4[20] = 0;
        assert_eq!(echo(&v4), Some(Echo { reply: true, v6: false, id: 0x1234 }));
        v4[20] = 3;
        assert_eq!(echo(&v4), None);
        assert_eq!(echo(&v4[..25]), None);
        let mut v6 = [0u8; 48];
        v6[0] = 0x60;
        v6[6] = 58;
        v6[40] = 129;
        v6[44..46].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(echo(&v6), Some(Echo { reply: true, v6: true, id: 7 }));
    }
}
