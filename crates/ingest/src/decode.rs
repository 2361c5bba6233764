//! Bytes to text.
//!
//! Windows tools write text in whatever encoding the shell chose:
//!
//! * Windows PowerShell 5.1 `>` / `Out-File`: UTF-16LE with a BOM.
//! * PowerShell 7, `Set-Content -Encoding utf8`, most collectors: UTF-8,
//!   with or without a BOM.
//! * `cmd.exe` `>`: the console (OEM) code page: CP437/CP850 in Western
//!   Europe, CP866 in Russia, CP936 (GBK) in China; some tools and editors use
//!   the ANSI code page instead (CP1252, CP1251).
//! * Captures passed through other tools: UTF-16 without a BOM, UTF-16BE.
//!
//! The order of decisions:
//!
//! 1. A byte-order mark wins (UTF-8, UTF-16LE, UTF-16BE).
//! 2. ASCII text followed by UTF-16LE: `wmic` run for the first time on a
//!    host prints `Please wait while WMIC is being installed.` in ASCII where
//!    its BOM would be, and a line `cmd.exe` echoed into the file before
//!    `wmic ... >>` appended to it is ANSI. The ASCII part is kept as its own
//!    line(s), a BOM between the two parts is dropped, and the rest is
//!    decoded as UTF-16LE.
//! 3. UTF-16 without a BOM is recognised by its byte pattern: text written by
//!    these tools is mostly ASCII (labels, digits, padding spaces), so one byte
//!    of most code units is zero, always at the odd (LE) or the even (BE)
//!    offsets.
//! 4. Valid UTF-8 is UTF-8.
//! 5. Anything else is a legacy code page, guessed with `chardetng` and
//!    decoded with `encoding_rs`. `encoding_rs` has no CP850 (the Western
//!    European console code page), so when the guess is a Western single-byte
//!    encoding and the high bytes sit mostly in 0x80–0x9F (where CP850 keeps
//!    é, ü, à, ç … and CP1252 only punctuation), the text is decoded with
//!    the CP850 table below.
//!
//! Then the text is checked (NUL characters, control characters or
//! replacement characters in any quantity mean binary data or a wrong
//! encoding: an [`IngestError`], never garbage) and normalised: CRLF, and the
//! `CR CR LF` that `wmic` writes when redirected, become LF, and the
//! no-break spaces French formatting puts inside numbers and before colons
//! (U+00A0, U+202F) become plain spaces, so every parser sees one kind of
//! line end and one kind of space.

use crate::IngestError;
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE};
use std::borrow::Cow;

/// The text of a file, or an error naming the file when it is not text.
pub fn decode(bytes: &[u8], path: &str) -> Result<String, IngestError> {
    let text = decode_raw(bytes, path)?;
    check_text(&text, path)?;
    Ok(normalize(text))
}

/// Like [`decode`], taking the buffer: UTF-8 input (the common case for
/// large files) is checked and normalised in place, without a second buffer.
pub fn decode_owned(mut bytes: Vec<u8>, path: &str) -> Result<String, IngestError> {
    let bom = utf8_bom(&bytes);
    match (
        bom,
        std::str::from_utf8(bytes.get(bom.unwrap_or(0)..).unwrap_or(&[])),
    ) {
        (Some(_), Ok(text)) => check_text(text, path)?,
        _ => return decode(&bytes, path),
    }
    let bom = bom.unwrap_or(0);
    bytes.drain(..bom);
    normalize_in_place(&mut bytes);
    // Only ASCII bytes and whole multi-byte sequences were replaced, so this
    // is still UTF-8; the fallback never runs.
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// Whether `bytes` (a whole file, or its start) is to be read as UTF-8 if
/// it is valid UTF-8: the length of its UTF-8 byte-order mark (0 without
/// one), or `None` when it is UTF-16 (by its mark or its byte pattern) or
/// empty.
pub(crate) fn utf8_bom(bytes: &[u8]) -> Option<usize> {
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let maybe_utf8 = bytes.len() > bom
        && !bytes.starts_with(b"\xFF\xFE")
        && !bytes.starts_with(b"\xFE\xFF")
        && (bom == 3 || (sniff_utf16(bytes).is_none() && ascii_then_utf16le(bytes).is_none()));
    maybe_utf8.then_some(bom)
}

/// [`normalize`] inside the buffer: the output is never longer than the input.
pub(crate) fn normalize_in_place(b: &mut Vec<u8>) {
    if memchr::memchr3(b'\r', 0xC2, 0xE2, b).is_none() {
        return;
    }
    let (mut r, mut w) = (0usize, 0usize);
    let len = b.len();
    while r < len {
        let Some(off) = memchr::memchr3(b'\r', 0xC2, 0xE2, &b[r..]) else {
            b.copy_within(r..len, w);
            w += len - r;
            break;
        };
        let at = r + off;
        b.copy_within(r..at, w);
        w += at - r;
        let (repl, used) = if b[at] == b'\r' {
            let mut k = 1;
            while b.get(at + k) == Some(&b'\r') {
                k += 1;
            }
            if b.get(at + k) == Some(&b'\n') {
                k += 1;
            }
            (b'\n', k)
        } else if b[at..].starts_with("\u{A0}".as_bytes()) {
            (b' ', 2)
        } else if b[at..].starts_with("\u{202F}".as_bytes()) {
            (b' ', 3)
        } else {
            (b[at], 1)
        };
        b[w] = repl;
        w += 1;
        r = at + used;
    }
    b.truncate(w);
}

/// Which encoding [`decode`] would use, for diagnostics and tests.
pub fn sniff(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return "UTF-8";
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return "UTF-16LE";
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return "UTF-16BE";
    }
    if let Some(e) = sniff_utf16(bytes) {
        return e.name();
    }
    if utf8_prefix(bytes).is_some() {
        return "UTF-8";
    }
    match legacy_guess(bytes) {
        Legacy::Cp850 => "IBM850",
        Legacy::Other(e) => e.name(),
    }
}

fn decode_raw<'a>(bytes: &'a [u8], path: &str) -> Result<Cow<'a, str>, IngestError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match utf8_prefix(rest) {
            Some(s) => Ok(Cow::Borrowed(s)),
            None => Err(invalid_utf8(rest, path)),
        };
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return Ok(Cow::Owned(decode_utf16(rest, UTF_16LE)));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return Ok(Cow::Owned(decode_utf16(rest, UTF_16BE)));
    }
    if let Some((ascii, body)) = ascii_then_utf16le(bytes) {
        let rest = decode_utf16(body, UTF_16LE);
        // The ASCII part ends its own line even when nothing separated it
        // from the UTF-16 part (wmic's banner has no line end).
        let sep = if ascii.ends_with(['\r', '\n']) || rest.starts_with(['\r', '\n']) {
            ""
        } else {
            "\r\n"
        };
        return Ok(Cow::Owned(format!("{ascii}{sep}{rest}")));
    }
    if let Some(enc) = sniff_utf16(bytes) {
        return Ok(Cow::Owned(decode_utf16(bytes, enc)));
    }
    if let Some(s) = utf8_prefix(bytes) {
        return Ok(Cow::Borrowed(s));
    }
    Ok(Cow::Owned(match legacy_guess(bytes) {
        Legacy::Cp850 => decode_cp850(bytes),
        Legacy::Other(enc) => enc.decode_without_bom_handling(bytes).0.into_owned(),
    }))
}

/// Valid UTF-8, allowing a sequence cut off at the very end (a truncated file).
fn utf8_prefix(bytes: &[u8]) -> Option<&str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Some(s),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&bytes[..e.valid_up_to()]).ok(),
        Err(_) => None,
    }
}

fn invalid_utf8(bytes: &[u8], path: &str) -> IngestError {
    let at = std::str::from_utf8(bytes)
        .err()
        .map_or(0, |e| e.valid_up_to());
    IngestError::new(
        path,
        0,
        format!(
            "UTF-8 text after the UTF-8 byte-order mark, found an invalid byte sequence at byte {}",
            at + 3
        ),
    )
}

fn decode_utf16(bytes: &[u8], enc: &'static Encoding) -> String {
    // An odd trailing byte is half a code unit of a truncated file: drop it.
    let even = bytes.len() & !1;
    let body = bytes.get(..even).unwrap_or(bytes);
    enc.decode_without_bom_handling(body).0.into_owned()
}

/// ASCII text (printable, tabs, line ends) followed by UTF-16LE text, with or
/// without a BOM between them: the two parts. Only the first 4 KiB are
/// searched for the first zero byte, the high byte of the first UTF-16 code
/// unit; the ASCII part is a banner or an echoed line, never long.
fn ascii_then_utf16le(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let zero = memchr::memchr(0, bytes.get(..4096).unwrap_or(bytes))?;
    let start = zero.checked_sub(1)?;
    let (head, body) = bytes.split_at(start);
    let ascii = head.strip_suffix(b"\xFF\xFE").unwrap_or(head);
    let is_text = |b: &u8| matches!(b, b' '..=b'~' | b'\t' | b'\r' | b'\n');
    if ascii.is_empty() || !ascii.iter().all(is_text) || sniff_utf16(body) != Some(UTF_16LE) {
        return None;
    }
    Some((std::str::from_utf8(ascii).ok()?, body))
}

/// UTF-16 without a BOM: zero bytes on one side of most code units and almost
/// none on the other. Looks at the first 8 KiB.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(8192)];
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let (mut zero_even, mut zero_odd) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        if pair[0] == 0 {
            zero_even += 1;
        }
        if pair[1] == 0 {
            zero_odd += 1;
        }
    }
    // Text in these files is mostly ASCII (padding spaces, digits, labels);
    // require a clear majority of zeros on one side and next to none on the other.
    if zero_odd * 10 >= pairs * 3 && zero_even * 20 <= pairs {
        Some(UTF_16LE)
    } else if zero_even * 10 >= pairs * 3 && zero_odd * 20 <= pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

enum Legacy {
    Cp850,
    Other(&'static Encoding),
}

fn legacy_guess(bytes: &[u8]) -> Legacy {
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    // A megabyte is plenty to tell code pages apart and keeps detection cheap.
    let sample = &bytes[..bytes.len().min(1 << 20)];
    det.feed(sample, sample.len() == bytes.len());
    let enc = det.guess(None, chardetng::Utf8Detection::Deny);
    let western = enc == encoding_rs::WINDOWS_1252
        || enc == encoding_rs::ISO_8859_15
        || enc == encoding_rs::ISO_8859_2
        || enc == encoding_rs::WINDOWS_1250;
    if western && looks_like_cp850(sample) {
        Legacy::Cp850
    } else {
        Legacy::Other(enc)
    }
}

/// CP850 keeps most accented lower-case letters in 0x80–0xA5, where CP1252
/// has punctuation (0x80–0x9F) and rarely used symbols; CP1252 keeps them in
/// 0xC0–0xFF. Whichever range holds most of the high bytes decides.
fn looks_like_cp850(bytes: &[u8]) -> bool {
    let (mut low, mut high) = (0usize, 0usize);
    for &b in bytes {
        match b {
            0x80..=0xA5 => low += 1,
            0xC0..=0xFF => high += 1,
            _ => {}
        }
    }
    low > high
}

/// Code page 850 (DOS Latin-1), bytes 0x80–0xFF.
const CP850_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', 'É', 'æ', 'Æ',
    'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', 'ø', '£', 'Ø', '×', 'ƒ', 'á', 'í', 'ó', 'ú', 'ñ', 'Ñ',
    'ª', 'º', '¿', '®', '¬', '½', '¼', '¡', '«', '»', '░', '▒', '▓', '│', '┤', 'Á', 'Â', 'À', '©',
    '╣', '║', '╗', '╝', '¢', '¥', '┐', '└', '┴', '┬', '├', '─', '┼', 'ã', 'Ã', '╚', '╔', '╩', '╦',
    '╠', '═', '╬', '¤', 'ð', 'Ð', 'Ê', 'Ë', 'È', 'ı', 'Í', 'Î', 'Ï', '┘', '┌', '█', '▄', '¦', 'Ì',
    '▀', 'Ó', 'ß', 'Ô', 'Ò', 'õ', 'Õ', 'µ', 'þ', 'Þ', 'Ú', 'Û', 'Ù', 'ý', 'Ý', '¯', '´', '\u{AD}',
    '±', '‗', '¾', '¶', '§', '÷', '¸', '°', '¨', '·', '¹', '³', '²', '■', '\u{A0}',
];

fn decode_cp850(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 4);
    for &b in bytes {
        if b < 0x80 {
            out.push(b as char);
        } else {
            out.push(CP850_HIGH[(b - 0x80) as usize]);
        }
    }
    out
}

/// Rejects binary data and text decoded with the wrong encoding.
fn check_text(text: &str, path: &str) -> Result<(), IngestError> {
    if let Some(at) = memchr::memchr(0, text.as_bytes()) {
        return Err(IngestError::new(
            path,
            crate::util::line_at(text, at),
            format!("text, found binary data (a NUL byte at offset {at})"),
        ));
    }
    let mut stats = TextStats::default();
    stats.add(text);
    stats.verdict(path)
}

/// What [`check_text`] counts in a text: added up piece by piece for a
/// file read in pieces (which are cut between characters).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TextStats {
    controls: usize,
    replacements: usize,
    chars: usize,
}

impl TextStats {
    pub(crate) fn add(&mut self, text: &str) {
        let bytes = text.as_bytes();
        // Counting over bytes is enough for control characters (ASCII) and
        // fast; replacement characters are looked for only when the text is
        // not ASCII. Branch-free so that it vectorizes: this runs over every
        // input byte. Counting in u8 lanes over 255-byte chunks cannot
        // overflow.
        for chunk in bytes.chunks(255) {
            let n = chunk.iter().fold(0u8, |acc, &b| {
                let allowed = (b == b'\t')
                    | (b == b'\n')
                    | (b == b'\r')
                    | (b == 0x0c)
                    | (b == 0x1a)
                    | (b == 0x1b);
                acc.wrapping_add(u8::from((b < 0x20) & !allowed))
            });
            self.controls += usize::from(n);
        }
        if !text.is_ascii() {
            for c in text.chars() {
                self.chars += 1;
                if c == '\u{FFFD}' {
                    self.replacements += 1;
                }
            }
        } else {
            self.chars += bytes.len();
        }
    }

    /// Whether the text counted is text (see [`check_text`]).
    pub(crate) fn verdict(&self, path: &str) -> Result<(), IngestError> {
        let limit = 4 + self.chars / 200;
        if self.controls > limit {
            return Err(IngestError::new(
                path,
                0,
                format!(
                    "text, found binary data ({} control characters)",
                    self.controls
                ),
            ));
        }
        if self.replacements > limit {
            return Err(IngestError::new(
                path,
                0,
                format!(
                    "text in UTF-8, UTF-16 or a Windows code page, found {} undecodable byte sequences",
                    self.replacements
                ),
            ));
        }
        Ok(())
    }
}

/// CR LF (and wmic's CR CR LF) to LF, lone CR to LF, no-break spaces to
/// spaces. Works on bytes between the rare special ones (memchr), so large
/// CRLF files are copied in chunks, not character by character.
fn normalize(text: Cow<'_, str>) -> String {
    let b = text.as_bytes();
    if memchr::memchr3(b'\r', 0xC2, 0xE2, b).is_none() {
        return text.into_owned();
    }
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0usize;
    while i < b.len() {
        let Some(off) = memchr::memchr3(b'\r', 0xC2, 0xE2, &b[i..]) else {
            out.extend_from_slice(&b[i..]);
            break;
        };
        let at = i + off;
        out.extend_from_slice(&b[i..at]);
        let rest = &b[at..];
        if rest[0] == b'\r' {
            let mut k = 1;
            while rest.get(k) == Some(&b'\r') {
                k += 1;
            }
            if rest.get(k) == Some(&b'\n') {
                k += 1;
            }
            out.push(b'\n');
            i = at + k;
        } else if rest.starts_with("\u{A0}".as_bytes()) {
            out.push(b' ');
            i = at + 2;
        } else if rest.starts_with("\u{202F}".as_bytes()) {
            out.push(b' ');
            i = at + 3;
        } else {
            out.push(rest[0]);
            i = at + 1;
        }
    }
    // Only ASCII bytes and whole multi-byte sequences were replaced, so the
    // result is still UTF-8; the fallback never runs.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = Vec::new();
        if bom {
            v.extend_from_slice(&[0xFF, 0xFE]);
        }
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    fn utf16be(s: &str) -> Vec<u8> {
        let mut v = vec![0xFE, 0xFF];
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_be_bytes());
        }
        v
    }

    #[test]
    fn boms() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFHost Name: A\r\n", "f").unwrap(),
            "Host Name: A\n"
        );
        assert_eq!(
            decode(&utf16le("Host Name: Ä\r\n", true), "f").unwrap(),
            "Host Name: Ä\n"
        );
        assert_eq!(
            decode(&utf16be("Host Name: Ä\r\n"), "f").unwrap(),
            "Host Name: Ä\n"
        );
    }

    #[test]
    fn utf16_without_bom() {
        let bytes = utf16le(
            "Host Name:                 HV01\r\nOS Name: Windows\r\n",
            false,
        );
        assert_eq!(sniff(&bytes), "UTF-16LE");
        assert_eq!(
            decode(&bytes, "f").unwrap(),
            "Host Name:                 HV01\nOS Name: Windows\n"
        );
        let mut be = utf16be("Host Name:                 HV01\r\n");
        be.drain(..2);
        assert_eq!(sniff(&be), "UTF-16BE");
        assert_eq!(
            decode(&be, "f").unwrap(),
            "Host Name:                 HV01\n"
        );
    }

    #[test]
    fn ascii_line_then_utf16le() {
        let table =
            "Description  HotFixID   InstalledOn  \r\nUpdate       KB5005039  8/10/2021    \r\n";
        // wmic's first run: its banner instead of the BOM, no line end.
        let mut first_run = b"Please wait while WMIC is being installed.".to_vec();
        first_run.extend(utf16le(table, false));
        assert_eq!(sniff(&first_run), "UTF-16LE");
        let want = "Please wait while WMIC is being installed.\nDescription  HotFixID   InstalledOn  \nUpdate       KB5005039  8/10/2021    \n";
        assert_eq!(decode(&first_run, "f").unwrap(), want);
        assert_eq!(decode_owned(first_run, "f").unwrap(), want);
        // `echo %COMPUTERNAME% > f` then `wmic qfe list brief >> f`, with and
        // without wmic's BOM, and an odd-length echoed line.
        for (line, bom) in [
            ("HV13 \r\n", false),
            ("HV13 \r\n", true),
            ("HV1 \r\n", true),
        ] {
            let mut bytes = line.as_bytes().to_vec();
            bytes.extend(utf16le(table, bom));
            let want = format!(
                "{}{}",
                line.replace("\r\n", "\n"),
                table.replace("\r\n", "\n")
            );
            assert_eq!(decode(&bytes, "f").unwrap(), want, "{line:?} {bom}");
            assert_eq!(decode_owned(bytes, "f").unwrap(), want);
        }
        // Text that merely contains a NUL is still binary.
        assert!(decode(b"Host Name: A\n\0\0\x01\x02", "f").is_err());
    }

    #[test]
    fn truncated_utf16_and_utf8_are_tolerated() {
        let mut bytes = utf16le("Host Name: HV01", true);
        bytes.push(0x41);
        assert_eq!(decode(&bytes, "f").unwrap(), "Host Name: HV01");
        let mut u8 = "Domäne: X ä".as_bytes().to_vec();
        u8.pop();
        assert_eq!(decode(&u8, "f").unwrap(), "Domäne: X ");
    }

    #[test]
    fn wmic_cr_cr_lf_and_nbsp() {
        assert_eq!(decode(b"a\r\r\nb\rc", "f").unwrap(), "a\nb\nc");
        assert_eq!(
            decode("Mémoire\u{A0}: 4\u{202F}096\u{A0}Mo".as_bytes(), "f").unwrap(),
            "Mémoire : 4 096 Mo"
        );
    }

    #[test]
    fn legacy_code_pages() {
        let text = "Имя узла:                         DC\r\nНазвание ОС:                      Майкрософт Windows Server 2012 R2 Standard\r\nВерсия ОС:                        6.3.9600 Н/Д построение 9600\r\n";
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(text);
        assert_eq!(sniff(&cp1251), "windows-1251");
        assert_eq!(decode(&cp1251, "f").unwrap(), text.replace("\r\n", "\n"));
        let (cp866, _, _) = encoding_rs::IBM866.encode(text);
        assert_eq!(sniff(&cp866), "IBM866");
        assert_eq!(decode(&cp866, "f").unwrap(), text.replace("\r\n", "\n"));
        let zh = "主机名:           WIN-SRV01\r\nOS 名称:          Microsoft Windows Server 2019 Datacenter\r\nOS 版本:          10.0.17763 暂缺 Build 17763\r\nOS 制造商:        Microsoft Corporation\r\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(zh);
        assert_eq!(sniff(&gbk), "GBK");
        assert_eq!(decode(&gbk, "f").unwrap(), zh.replace("\r\n", "\n"));
    }

    #[test]
    fn cp850_and_cp1252() {
        let de = "Ursprüngliches Installationsdatum: 15.06.2016\r\nSystemstartzeit: 04.03.2019\r\nDomäne: WORKGROUP\r\nVerfügbarer physikalischer Speicher: 12.840 MB\r\n";
        let cp850: Vec<u8> = de
            .chars()
            .map(|c| {
                if c.is_ascii() {
                    c as u8
                } else {
                    0x80 + CP850_HIGH.iter().position(|&h| h == c).unwrap() as u8
                }
            })
            .collect();
        assert_eq!(sniff(&cp850), "IBM850");
        assert_eq!(decode(&cp850, "f").unwrap(), de.replace("\r\n", "\n"));
        let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(de);
        assert_eq!(decode(&cp1252, "f").unwrap(), de.replace("\r\n", "\n"));
    }

    #[test]
    fn binary_is_an_error() {
        let e = decode(b"Host Name: A\n\0\0\x01\x02", "bin.txt").unwrap_err();
        assert_eq!(e.path, "bin.txt");
        assert_eq!(e.line, 2);
        assert!(e.expected.starts_with("text, found binary data"), "{e}");
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 1)
            .collect();
        assert!(decode(&noise, "noise").is_err());
        assert!(decode(b"\xEF\xBB\xBFok\xFF\xFEbad", "x").is_err());
    }

    #[test]
    fn owned_and_borrowed_agree() {
        for input in [
            &b"a\r\r\nb\rc\r\n"[..],
            "Mémoire\u{A0}: 4\u{202F}096\u{A0}Mo\r\n".as_bytes(),
            b"\xEF\xBB\xBFHost Name: A\r\n",
            b"\xFF\xFEH\x00i\x00",
            b"plain",
            b"",
            b"\r",
            "é\r\n’".as_bytes(),
        ] {
            assert_eq!(
                decode_owned(input.to_vec(), "f").ok(),
                decode(input, "f").ok(),
                "{input:?}"
            );
        }
        assert!(decode_owned(b"a\0b".to_vec(), "f").is_err());
    }

    #[test]
    fn empty_and_bom_only() {
        assert_eq!(decode(b"", "f").unwrap(), "");
        assert_eq!(decode(b"\xFF\xFE\r\x00\n\x00", "f").unwrap(), "\n");
    }
}
