// SPDX-License-Identifier: GPL-2.0

//! Validation of honeevent's module parameters.

/// A GUID as the PCAP-NG host-id option stores it: `data1` u32, `data2` u16, `data3` u16, then
/// eight bytes as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guid {
    /// First group (8 hex digits).
    pub data1: u32,
    /// Second group (4 hex digits).
    pub data2: u16,
    /// Third group (4 hex digits).
    pub data3: u16,
    /// Last two groups (4 + 12 hex digits), in written order.
    pub data4: [u8; 8],
}

/// The host identifier written in each section header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostId<'a> {
    /// No host identifier.
    None,
    /// A free-form name.
    Text(&'a [u8]),
    /// A GUID, given as `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`.
    Guid(Guid),
}

/// Why a parameter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamError {
    /// `hostid` starts with `{` but is not `{8-4-4-4-12 hex digits}`.
    BadGuid,
    /// `hostid` is longer than [`MAX_HOSTID`] bytes or holds a control character.
    BadHostId,
    /// `devname` is empty, too long, or holds `/`, whitespace or a control character.
    BadDevname,
    /// A number is outside its allowed range.
    OutOfRange,
}

/// Longest accepted free-form `hostid`.
pub const MAX_HOSTID: usize = 255;
/// Longest accepted `devname` (the text device adds one character).
pub const MAX_DEVNAME: usize = 30;
/// Largest accepted `pageorder` (4 MiB rings with 4 KiB pages).
pub const MAX_PAGEORDER: i32 = 10;
/// Largest accepted `snaplen` (0 means the whole packet).
pub const MAX_SNAPLEN: i32 = 65535;

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`.
pub fn parse_guid(s: &[u8]) -> Result<Guid, ParamError> {
    if s.len() != 38 || s[0] != b'{' || s[37] != b'}' {
        return Err(ParamError::BadGuid);
    }
    let inner = &s[1..37];
    let mut bytes = [0u8; 16];
    let mut n = 0;
    let mut hi: Option<u8> = None;
    for (i, &c) in inner.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return Err(ParamError::BadGuid);
            }
            continue;
        }
        let d = hex_digit(c).ok_or(ParamError::BadGuid)?;
        match hi.take() {
            None => hi = Some(d),
            Some(h) => {
                bytes[n] = h << 4 | d;
                n += 1;
            }
        }
    }
    let mut data4 = [0u8; 8];
    data4.copy_from_slice(&bytes[8..16]);
    Ok(Guid {
        data1: u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
        data2: u16::from_be_bytes([bytes[4], bytes[5]]),
        data3: u16::from_be_bytes([bytes[6], bytes[7]]),
        data4,
    })
}

/// Interprets the `hostid` parameter: empty, a GUID in braces, or a free-form name.
pub fn parse_hostid(s: &[u8]) -> Result<HostId<'_>, ParamError> {
    if s.is_empty() {
        return Ok(HostId::None);
    }
    if s[0] == b'{' {
        return parse_guid(s).map(HostId::Guid);
    }
    if s.len() > MAX_HOSTID || s.iter().any(|&c| c < 0x20 || c == 0x7f) {
        return Err(ParamError::BadHostId);
    }
    Ok(HostId::Text(s))
}

/// Checks `devname`: the device node names are `<devname>` and `<devname>t`.
pub fn check_devname(s: &[u8]) -> Result<(), ParamError> {
    if s.is_empty()
        || s.len() > MAX_DEVNAME
        || s.iter().any(|&c| c <= b' ' || c == b'/' || c == 0x7f)
        || s == b"."
        || s == b".."
    {
        return Err(ParamError::BadDevname);
    }
    Ok(())
}

/// Checks that `v` lies in `0..=max`.
pub fn check_range(v: i32, max: i32) -> Result<u32, ParamError> {
    if (0..=max).contains(&v) {
        Ok(v as u32)
    } else {
        Err(ParamError::OutOfRange)
    }
}

/// The `comment` parameter with each `\040` or `\x20` turned into a space (module parameters
/// cannot hold a literal space when given on a kernel command line). Returns the length written
/// to `out`, which must be at least as long as `s`.
pub fn unescape_comment(s: &[u8], out: &mut [u8]) -> usize {
    let mut i = 0;
    let mut n = 0;
    while i < s.len() && n < out.len() {
        let rest = &s[i..];
        if rest.starts_with(b"\\040") || rest.starts_with(b"\\x20") {
            out[n] = b' ';
            i += 4;
        } else {
            out[n] = s[i];
            i += 1;
        }
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid() {
        let g = parse_guid(b"{0fa1b2c3-d4e5-f607-1829-3A4B5C6D7E8F}").unwrap();
        assert_eq!(g.data1, 0x0fa1_b2c3);
        assert_eq!(g.data2, 0xd4e5);
        assert_eq!(g.data3, 0xf607);
        assert_eq!(g.data4, [0x18, 0x29, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e, 0x8f]);
        for bad in [
            &b"{0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8}"[..],
            b"{0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8fa}",
            b"{0fa1b2c3d4e5-f607-1829-3a4b5c6d7e8f0}",
            b"{0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8g}",
            b"0fa1b2c3-d4e5-f607-1829-3a4b5c6d7e8f",
        ] {
            assert_eq!(parse_guid(bad), Err(ParamError::BadGuid));
        }
        assert_eq!(parse_hostid(b"{nope}"), Err(ParamError::BadGuid));
        assert_eq!(parse_hostid(b"web-01"), Ok(HostId::Text(b"web-01")));
        assert_eq!(parse_hostid(b""), Ok(HostId::None));
        assert_eq!(parse_hostid(b"a\nb"), Err(ParamError::BadHostId));
    }

    #[test]
    fn devname_and_ranges() {
        assert!(check_devname(b"hone").is_ok());
        for bad in [&b""[..], b"a/b", b"a b", b"..", &[b'x'; 31]] {
            assert_eq!(check_devname(bad), Err(ParamError::BadDevname));
        }
        assert_eq!(check_range(-1, 10), Err(ParamError::OutOfRange));
        assert_eq!(check_range(11, 10), Err(ParamError::OutOfRange));
        assert_eq!(check_range(10, 10), Ok(10));
    }

    #[test]
    fn comment() {
        let mut out = [0u8; 32];
        let n = unescape_comment(br"lab\040rack\x207\041", &mut out);
        assert_eq!(&out[..n], br"lab rack 7\041");
    }
}
