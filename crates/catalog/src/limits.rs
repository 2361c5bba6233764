//! Bounds on what a catalog source can make lockstep hold in memory.
//!
//! A zip entry or a CSV is read as a stream, but a hostile one can still
//! make a reader grow without end: a 4 MB zip inflating to gigabytes, or a
//! CSV record that never ends (the csv reader keeps a record whole). Every
//! WES-NG CSV is read through [`Bounded`], which fails the read with a clear
//! error instead.

use std::io::{self, Read};

/// The largest zip entry read, decompressed: the real `CVEs_*.csv`
/// (2026-06) is 136 MB.
pub const MAX_ZIP_ENTRY_BYTES: u64 = 1 << 30;

/// The longest CSV record (a row, with its quoted line breaks): the longest
/// real WES-NG row is about 1.2 KB.
pub const MAX_CSV_RECORD_BYTES: usize = 1 << 20;

/// A reader that fails once more than `total` bytes came through, or once a
/// CSV record (RFC 4180: a line break outside quotes ends it; `#` comment
/// lines as WES-NG's Custom CSV has) grows past `record` bytes.
pub struct Bounded<R> {
    inner: R,
    total: u64,
    record: usize,
    read: u64,
    in_record: usize,
    quoted: bool,
    line_start: bool,
    comment: bool,
}

impl<R: Read> Bounded<R> {
    pub fn new(inner: R, total: u64, record: usize) -> Self {
        Self {
            inner,
            total,
            record,
            read: 0,
            in_record: 0,
            quoted: false,
            line_start: true,
            comment: false,
        }
    }

    fn scan(&mut self, bytes: &[u8]) -> io::Result<()> {
        for &b in bytes {
            if self.line_start && !self.quoted && b == b'#' {
                self.comment = true;
            }
            if b == b'"' && !self.comment {
                self.quoted = !self.quoted;
            }
            if b == b'\n' && !self.quoted {
                self.in_record = 0;
                self.comment = false;
                self.line_start = true;
                continue;
            }
            self.line_start = false;
            self.in_record += 1;
            if self.in_record > self.record {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "a CSV record longer than {} bytes (no WES-NG row is); reading stopped",
                        self.record
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.total {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "more than {} MiB after decompression (no WES-NG file is that large); reading stopped",
                    self.total >> 20
                ),
            ));
        }
        self.scan(buf.get(..n).unwrap_or(&[]))?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(data: &[u8], total: u64, record: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Bounded::new(data, total, record)
            .read_to_end(&mut out)
            .map(|_| out)
    }

    #[test]
    fn records_and_totals() {
        let csv = b"\"a\",\"b\"\n\"multi\nline\",\"x\"\"y\"\n# comment with \" quote\n1,2\n";
        // The longest record is the comment line (22 bytes); the quoted
        // field with a line break makes one record of 19.
        assert_eq!(read_all(csv, 1000, 22).unwrap(), csv);
        let e = read_all(csv, 1000, 16).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("a CSV record longer than 16 bytes"),
            "{e}"
        );
        let e = read_all(csv, 10, 1000).unwrap_err();
        assert!(e.to_string().starts_with("more than 0 MiB"), "{e}");
        // A row that never ends.
        let endless = vec![b'x'; 5000];
        assert!(read_all(&endless, 1 << 20, 4096).is_err());
    }
}
