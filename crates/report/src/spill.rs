//! What a streamed report keeps on disk until it can be written whole.
//!
//! A report starts with what the inputs gave (how many clusters and nodes,
//! the input errors and warnings), known only once every input is read, and
//! ends with the findings of every cluster in one sorted list. A streamed
//! check therefore writes each cluster's part to a temporary file as it is
//! judged ([`Segments`]) and each cluster's findings, rendered, to sorted
//! runs in another ([`FindingRuns`]); the report is then the head, the
//! parts in order and the findings merged from the runs. Memory holds one
//! run of findings at a time, whatever the size of the fleet.
//!
//! The temporary files have no name (they vanish with the process) and are
//! made where the report is written, or in the system's temporary folder.

use lockstep_check::{Finding, Severity};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

fn temporary(dir: Option<&Path>) -> io::Result<File> {
    match dir {
        Some(d) => tempfile::tempfile_in(d),
        None => tempfile::tempfile(),
    }
}

/// Parts of a report written in any order, each with its position, and
/// read back in the order of their positions.
pub struct Segments {
    file: File,
    len: u64,
    /// (position, offset, length), in the order written.
    index: Vec<(usize, u64, u64)>,
}

impl Segments {
    /// A temporary file in `dir` (the system's temporary folder when `None`).
    pub fn new(dir: Option<&Path>) -> io::Result<Segments> {
        Ok(Segments {
            file: temporary(dir)?,
            len: 0,
            index: Vec::new(),
        })
    }

    /// Adds the part at `position`.
    pub fn push(&mut self, position: usize, bytes: &[u8]) -> io::Result<()> {
        (&self.file).write_all(bytes)?;
        self.index.push((position, self.len, bytes.len() as u64));
        self.len += bytes.len() as u64;
        Ok(())
    }

    /// Writes every part to `w`, in the order of their positions (parts
    /// with one position in the order they were added), leaving out the
    /// first `skip` bytes of the first (a separator before it).
    pub fn write_in_order(&mut self, w: &mut dyn Write, skip: u64) -> io::Result<()> {
        self.index.sort_by_key(|(position, _, _)| *position);
        if let Some(first) = self.index.first_mut() {
            let cut = skip.min(first.2);
            first.1 += cut;
            first.2 -= cut;
        }
        let mut buf = vec![0u8; COPY_BUFFER];
        // Consecutive parts that lie one after the other are copied at once.
        let mut run: Option<(u64, u64)> = None;
        for &(_, at, len) in &self.index {
            run = match run {
                Some((start, end)) if end == at => Some((start, end + len)),
                Some((start, end)) => {
                    copy_range(&self.file, start, end, &mut buf, w)?;
                    Some((at, at + len))
                }
                None => Some((at, at + len)),
            };
        }
        if let Some((start, end)) = run {
            copy_range(&self.file, start, end, &mut buf, w)?;
        }
        Ok(())
    }
}

const COPY_BUFFER: usize = 1 << 20;

fn copy_range(
    file: &File,
    start: u64,
    end: u64,
    buf: &mut [u8],
    w: &mut dyn Write,
) -> io::Result<()> {
    let mut at = start;
    while at < end {
        let want = buf.len().min((end - at) as usize);
        let n = file.read_at(&mut buf[..want], at)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a temporary part of the report was cut short",
            ));
        }
        w.write_all(&buf[..n])?;
        at += n as u64;
    }
    Ok(())
}

/// One finding in a run: what it sorts by, where the check made it, and
/// its rendered bytes.
struct Entry {
    severity: Severity,
    code: String,
    cluster: Option<String>,
    nodes: Vec<String>,
    title: String,
    /// The check's order among findings that sort equal: (group, index).
    made: (u64, u64),
    /// Where its rendered bytes are in the payload file: (offset, length).
    payload: (u64, u64),
}

impl Entry {
    /// The entry of finding `f`: its sort key, `made` and `payload`.
    fn of(f: &Finding, made: (u64, u64), payload: (u64, u64)) -> Entry {
        Entry {
            severity: f.severity,
            code: f.code.to_string(),
            cluster: f.cluster.clone(),
            nodes: f.nodes.clone(),
            title: f.title.clone(),
            made,
            payload,
        }
    }

    fn key(&self) -> (crate::spill::KeyView<'_>, (u64, u64)) {
        (
            (
                Reverse(self.severity),
                &self.code,
                self.cluster.as_deref(),
                &self.nodes,
                &self.title,
            ),
            self.made,
        )
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.push(severity_byte(self.severity));
        put_str(out, &self.code);
        match &self.cluster {
            None => out.push(0),
            Some(c) => {
                out.push(1);
                put_str(out, c);
            }
        }
        put_u64(out, self.nodes.len() as u64);
        for n in &self.nodes {
            put_str(out, n);
        }
        put_str(out, &self.title);
        put_u64(out, self.made.0);
        put_u64(out, self.made.1);
        put_u64(out, self.payload.0);
        put_u64(out, self.payload.1);
    }
}

type KeyView<'e> = lockstep_check::run::FindingKey<'e>;

fn severity_byte(s: Severity) -> u8 {
    match s {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Error => 2,
    }
}

fn put_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Findings kept in sorted runs on disk and merged into the report's
/// order ([`lockstep_check::run::sort_findings`]: by severity, code,
/// cluster, nodes and title, and the order the check made them among
/// equals). The rendered bytes go to one file as they come, the sort keys
/// in sorted runs to another; the merge holds one key per run.
pub struct FindingRuns {
    /// Rendered findings, in the order they were added.
    payloads: File,
    payloads_len: u64,
    /// Sorted runs of keys.
    keys: File,
    keys_len: u64,
    /// (offset, length) of each run of keys.
    runs: Vec<(u64, u64)>,
    pending: Vec<Entry>,
    pending_bytes: usize,
    /// How many bytes of keys are held before they are written as a run.
    run_bytes: usize,
    count: usize,
    by_severity: [usize; 3],
}

/// How many bytes of keys are held before they are written as a run.
const RUN_BYTES: usize = 1 << 20;

impl FindingRuns {
    /// Temporary files in `dir` (the system's temporary folder when `None`).
    pub fn new(dir: Option<&Path>) -> io::Result<FindingRuns> {
        Ok(FindingRuns {
            payloads: temporary(dir)?,
            payloads_len: 0,
            keys: temporary(dir)?,
            keys_len: 0,
            runs: Vec::new(),
            pending: Vec::new(),
            pending_bytes: 0,
            run_bytes: RUN_BYTES,
            count: 0,
            by_severity: [0; 3],
        })
    }

    /// Adds a finding with its rendered bytes. `made` places it among
    /// findings that sort equal: the group it was made in (a cluster's
    /// position) and its index there.
    pub fn push(&mut self, f: &Finding, made: (u64, u64), bytes: &[u8]) -> io::Result<()> {
        (&self.payloads).write_all(bytes)?;
        let payload = (self.payloads_len, bytes.len() as u64);
        self.payloads_len += bytes.len() as u64;
        self.count += 1;
        self.by_severity[usize::from(2 - severity_byte(f.severity))] += 1;
        self.pending_bytes += f.code.as_str().len()
            + f.cluster.as_ref().map_or(0, String::len)
            + f.nodes.iter().map(|n| n.len() + 32).sum::<usize>()
            + f.title.len()
            + 160;
        self.pending.push(Entry::of(f, made, payload));
        if self.pending_bytes >= self.run_bytes {
            self.write_run()?;
        }
        Ok(())
    }

    /// How many findings were added.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// How many errors, warnings and infos.
    pub fn by_severity(&self) -> [usize; 3] {
        self.by_severity
    }

    /// The highest severity among the findings.
    pub fn max_severity(&self) -> Option<Severity> {
        match self.by_severity {
            [e, _, _] if e > 0 => Some(Severity::Error),
            [_, w, _] if w > 0 => Some(Severity::Warning),
            [_, _, i] if i > 0 => Some(Severity::Info),
            _ => None,
        }
    }

    fn sort_pending(&mut self) {
        self.pending.sort_by(|a, b| a.key().cmp(&b.key()));
    }

    fn write_run(&mut self) -> io::Result<()> {
        self.sort_pending();
        let mut buf = Vec::with_capacity(self.pending_bytes);
        for e in self.pending.drain(..) {
            e.encode(&mut buf);
        }
        self.pending_bytes = 0;
        (&self.keys).write_all(&buf)?;
        self.runs.push((self.keys_len, buf.len() as u64));
        self.keys_len += buf.len() as u64;
        Ok(())
    }

    /// Writes every finding's bytes to `w` in the report's order, with
    /// `separator` between two findings.
    pub fn write_sorted(mut self, w: &mut dyn Write, separator: &[u8]) -> io::Result<()> {
        self.sort_pending();
        let mut sources: Vec<Source> = self
            .runs
            .iter()
            .map(|&(at, len)| Source::Run(RunReader::new(&self.keys, at, at + len)))
            .collect();
        sources.push(Source::Memory(
            std::mem::take(&mut self.pending).into_iter(),
        ));
        let mut heap = BinaryHeap::with_capacity(sources.len());
        for (i, s) in sources.iter_mut().enumerate() {
            if let Some(e) = s.next()? {
                heap.push(Head(e, i));
            }
        }
        let mut buf = vec![0u8; COPY_BUFFER.min(self.payloads_len as usize).max(1)];
        let mut first = true;
        while let Some(Head(e, i)) = heap.pop() {
            if !first {
                w.write_all(separator)?;
            }
            first = false;
            let (at, len) = e.payload;
            copy_range(&self.payloads, at, at + len, &mut buf, w)?;
            if let Some(next) = sources[i].next()? {
                heap.push(Head(next, i));
            }
        }
        Ok(())
    }
}

/// The next finding of a run, in the merge's heap (smallest first).
struct Head(Entry, usize);

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        // `BinaryHeap` pops the greatest: the smallest key is the greatest.
        other.0.key().cmp(&self.0.key())
    }
}

enum Source<'f> {
    Run(RunReader<'f>),
    Memory(std::vec::IntoIter<Entry>),
}

impl Source<'_> {
    fn next(&mut self) -> io::Result<Option<Entry>> {
        match self {
            Source::Run(r) => r.next(),
            Source::Memory(m) => Ok(m.next()),
        }
    }
}

/// Reads one run back, a buffer at a time.
struct RunReader<'f> {
    file: &'f File,
    at: u64,
    end: u64,
    buf: Vec<u8>,
    pos: usize,
}

const RUN_READ: usize = 16 << 10;

impl<'f> RunReader<'f> {
    fn new(file: &'f File, at: u64, end: u64) -> Self {
        RunReader {
            file,
            at,
            end,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Makes `n` bytes available at `pos`.
    fn fill(&mut self, n: usize) -> io::Result<()> {
        if self.buf.len() - self.pos >= n {
            return Ok(());
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
        let want = n.max(RUN_READ) - self.buf.len();
        let want = want.min((self.end - self.at) as usize);
        let old = self.buf.len();
        self.buf.resize(old + want, 0);
        self.file.read_exact_at(&mut self.buf[old..], self.at)?;
        self.at += want as u64;
        if self.buf.len() < n {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "a temporary run of findings was cut short",
            ));
        }
        Ok(())
    }

    fn take(&mut self, n: usize) -> io::Result<&[u8]> {
        self.fill(n)?;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u64(&mut self) -> io::Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    fn string(&mut self) -> io::Result<String> {
        let n = usize::try_from(self.u64()?).map_err(io::Error::other)?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(io::Error::other)
    }

    fn next(&mut self) -> io::Result<Option<Entry>> {
        if self.pos == self.buf.len() && self.at == self.end {
            return Ok(None);
        }
        let severity = match self.take(1)?[0] {
            0 => Severity::Info,
            1 => Severity::Warning,
            _ => Severity::Error,
        };
        let code = self.string()?;
        let cluster = match self.take(1)?[0] {
            0 => None,
            _ => Some(self.string()?),
        };
        let nodes = (0..self.u64()?)
            .map(|_| self.string())
            .collect::<io::Result<Vec<_>>>()?;
        let title = self.string()?;
        let made = (self.u64()?, self.u64()?);
        let payload = (self.u64()?, self.u64()?);
        Ok(Some(Entry {
            severity,
            code,
            cluster,
            nodes,
            title,
            made,
            payload,
        }))
    }
}

/// The sort key of a finding as the runs keep it, checked against the
/// check's own key in the tests.
#[cfg(test)]
fn entry_of(f: &Finding, made: (u64, u64)) -> Entry {
    Entry::of(f, made, (0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockstep_check::FindingCode;
    use lockstep_check::run::finding_key;

    fn finding(
        sev: Severity,
        code: FindingCode,
        cluster: Option<&str>,
        nodes: &[&str],
        title: &str,
    ) -> Finding {
        Finding {
            code,
            severity: sev,
            cluster: cluster.map(str::to_string),
            nodes: nodes.iter().map(|n| n.to_string()).collect(),
            title: title.into(),
            detail: String::new(),
            evidence: Vec::new(),
            fix: None,
            known_issues: Vec::new(),
            items: Vec::new(),
        }
    }

    #[test]
    fn entry_key_is_the_checks_key() {
        let f = finding(
            Severity::Warning,
            FindingCode::UpdateDriftCovered,
            Some("X"),
            &["a", "b"],
            "t",
        );
        assert_eq!(entry_of(&f, (0, 0)).key().0, finding_key(&f));
    }

    /// Many runs on disk and the last in memory merge into exactly the
    /// stable sort of every finding in the order they were added.
    #[test]
    fn runs_merge_into_the_stable_sort() {
        let sevs = [Severity::Info, Severity::Warning, Severity::Error];
        let mut all = Vec::new();
        let mut runs = FindingRuns::new(None).unwrap();
        runs.run_bytes = 64 << 10;
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for i in 0..20_000u64 {
            let cluster = format!("C{}", next() % 50);
            let node = format!("N{}", next() % 3);
            let nodes: Vec<&str> = if next() % 4 == 0 {
                vec![]
            } else {
                vec![node.as_str()]
            };
            let f = finding(
                sevs[next() % 3],
                [
                    FindingCode::UpdateDriftMissing,
                    FindingCode::ClusterMixedOs,
                    FindingCode::UpdateDriftCovered,
                ][next() % 3],
                if next() % 10 == 0 {
                    None
                } else {
                    Some(cluster.as_str())
                },
                &nodes,
                ["x", "x\u{0}", ""][next() % 3],
            );
            // Bytes that say where the finding was added: the merge must
            // keep equal keys in that order.
            let bytes = format!("{i}\n{}", "p".repeat(next() % 300)).into_bytes();
            runs.push(&f, (i / 100, i % 100), &bytes).unwrap();
            all.push((f, bytes));
        }
        assert!(runs.runs.len() > 3, "{} runs", runs.runs.len());
        assert_eq!(runs.len(), 20_000);
        all.sort_by(|a, b| finding_key(&a.0).cmp(&finding_key(&b.0)));
        let mut expected = Vec::new();
        for (i, (_, b)) in all.iter().enumerate() {
            if i > 0 {
                expected.push(b',');
            }
            expected.extend_from_slice(b);
        }
        let mut out = Vec::new();
        runs.write_sorted(&mut out, b",").unwrap();
        assert!(
            out == expected,
            "merged findings differ from the stable sort"
        );
    }

    #[test]
    fn segments_come_back_in_position_order() {
        let mut s = Segments::new(None).unwrap();
        for (pos, text) in [(2, "c"), (0, "a"), (1, "b1"), (3, "d"), (1, "b2")] {
            s.push(pos, text.as_bytes()).unwrap();
        }
        let mut out = Vec::new();
        s.write_in_order(&mut out, 0).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "ab1b2cd");
        let mut out = Vec::new();
        s.write_in_order(&mut out, 1).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "b1b2cd");
    }
}
