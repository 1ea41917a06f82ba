// SPDX-License-Identifier: GPL-2.0

//! Bounded writing into a caller-provided byte buffer.

/// The buffer was too small for what was being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// Writes bytes, integers and decimal numbers into a fixed buffer, never past its end.
pub struct Cursor<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// Whether nothing has been written yet.
    #[cfg(not(hone_kernel))]
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// Bytes still free.
    #[cfg(not(hone_kernel))]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Appends `bytes`.
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.pos.checked_add(bytes.len()).ok_or(Full)?;
        let dst = self.buf.get_mut(self.pos..end).ok_or(Full)?;
        dst.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Appends one byte.
    pub fn byte(&mut self, b: u8) -> Result<(), Full> {
        self.put(&[b])
    }

    /// Appends `n` bytes for the caller to fill in, and returns them as the buffer holds them
    /// (not cleared: a whole packet's 64 KiB sent from elsewhere is not written twice).
    pub fn reserve(&mut self, n: usize) -> Result<&mut [u8], Full> {
        let start = self.pos;
        let end = start.checked_add(n).ok_or(Full)?;
        let bytes = self.buf.get_mut(start..end).ok_or(Full)?;
        self.pos = end;
        Ok(bytes)
    }

    /// Takes back what was written after `len` bytes (no more than [`Self::len`]).
    pub fn truncate(&mut self, len: usize) {
        self.pos = self.pos.min(len);
    }

    /// Appends `n` zero bytes.
    pub fn zeros(&mut self, n: usize) -> Result<(), Full> {
        let end = self.pos.checked_add(n).ok_or(Full)?;
        self.buf.get_mut(self.pos..end).ok_or(Full)?.fill(0);
        self.pos = end;
        Ok(())
    }

    /// Appends a `u16` in host byte order (PCAP-NG writes the host's order).
    pub fn u16(&mut self, v: u16) -> Result<(), Full> {
        self.put(&v.to_ne_bytes())
    }

    /// Appends a `u32` in host byte order.
    pub fn u32(&mut self, v: u32) -> Result<(), Full> {
        self.put(&v.to_ne_bytes())
    }

    /// Appends a `u64` in host byte order.
    pub fn u64(&mut self, v: u64) -> Result<(), Full> {
        self.put(&v.to_ne_bytes())
    }

    /// Overwrites bytes written earlier, at offset `at`.
    fn patch(&mut self, at: usize, bytes: &[u8]) -> Result<(), Full> {
        let end = at.checked_add(bytes.len()).ok_or(Full)?;
        if end > self.pos {
            return Err(Full);
        }
        self.buf[at..end].copy_from_slice(bytes);
        Ok(())
    }

    /// Overwrites a `u16` at an earlier offset (used for option lengths).
    pub fn patch_u16(&mut self, at: usize, v: u16) -> Result<(), Full> {
        self.patch(at, &v.to_ne_bytes())
    }

    /// Overwrites a `u32` at an earlier offset (used for block lengths).
    pub fn patch_u32(&mut self, at: usize, v: u32) -> Result<(), Full> {
        self.patch(at, &v.to_ne_bytes())
    }

    /// Appends the decimal form of an unsigned number.
    pub fn dec(&mut self, v: u64) -> Result<(), Full> {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut n = v;
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.put(&digits[i..])
    }

    /// Appends the decimal form of a signed number.
    pub fn dec_signed(&mut self, v: i64) -> Result<(), Full> {
        if v < 0 {
            self.byte(b'-')?;
        }
        self.dec(v.unsigned_abs())
    }

    /// Appends `v` as exactly `width` lower-case hex digits (the low bits of `v`).
    pub fn hex(&mut self, v: u64, width: usize) -> Result<(), Full> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for i in (0..width).rev() {
            let shift = i * 4;
            let nibble = if shift >= 64 { 0 } else { (v >> shift) & 0xf };
            self.byte(DIGITS[nibble as usize])?;
        }
        Ok(())
    }

    /// Appends nanoseconds as `seconds.nanoseconds` with nine digits after the point.
    pub fn seconds_ns(&mut self, ns: u64) -> Result<(), Full> {
        self.dec(ns / 1_000_000_000)?;
        self.byte(b'.')?;
        let frac = ns % 1_000_000_000;
        let mut digits = [b'0'; 9];
        let mut n = frac;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.put(&digits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut b = [0u8; 64];
        let mut c = Cursor::new(&mut b);
        c.dec(0).unwrap();
        c.byte(b' ').unwrap();
        c.dec_signed(-42).unwrap();
        c.byte(b' ').unwrap();
        c.dec(u64::MAX).unwrap();
        c.byte(b' ').unwrap();
        c.hex(0xdead_beef, 8).unwrap();
        c.byte(b' ').unwrap();
        c.seconds_ns(12_000_000_345).unwrap();
        let n = c.len();
        assert_eq!(&b[..n], b"0 -42 18446744073709551615 deadbeef 12.000000345");
    }

    #[test]
    fn never_writes_past_the_end() {
        let mut b = [0u8; 3];
        let mut c = Cursor::new(&mut b);
        assert_eq!(c.put(b"abcd"), Err(Full));
        assert_eq!(c.len(), 0);
        c.put(b"ab").unwrap();
        assert_eq!(c.dec(123), Err(Full));
        assert_eq!(c.remaining(), 1);
        assert_eq!(c.patch_u32(0, 1), Err(Full));
        assert_eq!(c.reserve(2), Err(Full));
        assert_eq!(c.patch_u16(1, 7), Err(Full), "only what was written can be patched");
    }

    #[test]
    fn reserve_leaves_the_bytes_and_truncate_takes_back() {
        let mut b = *b"xxxxxxxx";
        let mut c = Cursor::new(&mut b);
        c.put(b"ab").unwrap();
        assert_eq!(c.reserve(3).unwrap(), b"xxx", "reserved bytes are as the buffer held them");
        c.patch_u16(0, u16::from_ne_bytes(*b"AB")).unwrap();
        c.truncate(4);
        assert_eq!(c.len(), 4);
        c.truncate(9);
        assert_eq!(c.len(), 4, "truncate never lengthens");
        c.put(b"cd").unwrap();
        assert_eq!(&b[..6], b"ABxxcd");
    }
}
