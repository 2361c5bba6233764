//! Where a command's output goes: the one writer behind every `-o` and
//! every command that prints to standard output.
//!
//! lockstep runs as root next to production clusters, so `-o PATH` must
//! never harm what PATH is:
//!
//! * `-` (or no `-o`) is standard output.
//! * A character device or a FIFO (`/dev/null`, `/dev/tty`, a named pipe) is
//!   written through, never replaced.
//! * A symbolic link is followed to its target, which must exist; the target
//!   is then treated as below (the link stays a link).
//! * A regular file is replaced atomically: the output is written to a
//!   temporary file in the same folder, flushed to disk (`fsync`) and renamed
//!   over the old file, so a reader or a crash sees the old file or the whole
//!   new one. The new file keeps the old one's permissions (and owner, where
//!   the process may set it). A new file gets `0666` less the umask, as the
//!   shell's `>` would create it.
//! * Anything else (a directory, a block device, a socket) is refused.
//!
//! A write error (a full disk: ENOSPC) is an error and exit code 2; the old
//! file stays as it was. A closed pipe (`| head`) is not an error: the
//! command ends quietly with the exit code its run had.

use anyhow::Context;
use lockstep_model::input_file::{FileKey, file_key, kind_of};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A resolved output.
#[derive(Debug)]
pub struct Output {
    target: Target,
}

#[derive(Debug)]
enum Target {
    Stdout,
    /// A character device or FIFO, opened for writing as it is.
    Through {
        path: PathBuf,
        key: FileKey,
    },
    /// A regular file (after symlinks), or a new file, replaced atomically.
    Replace {
        path: PathBuf,
        existing: Option<std::fs::Metadata>,
    },
}

/// The result of writing: `None` when standard output (or a FIFO) was closed
/// early, which is not an error.
pub type Written<R> = Option<R>;

impl Output {
    /// Standard output.
    pub fn stdout() -> Output {
        Output {
            target: Target::Stdout,
        }
    }

    /// What `-o PATH` names (see the module documentation); an error when it
    /// names something lockstep must not write.
    pub fn resolve(path: Option<&Path>) -> anyhow::Result<Output> {
        let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
            return Ok(Output::stdout());
        };
        let shown = shown(path);
        let link = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Output {
                    target: Target::Replace {
                        path: path.to_path_buf(),
                        existing: None,
                    },
                });
            }
            Err(e) => return Err(e).with_context(|| format!("cannot write {shown}")),
            Ok(m) => m,
        };
        let (real, meta) = if link.file_type().is_symlink() {
            let real = std::fs::canonicalize(path).map_err(|e| {
                anyhow::anyhow!(
                    "cannot write {shown}: it is a symbolic link whose target cannot be reached ({e}); lockstep writes through a link only to an existing file"
                )
            })?;
            let meta = std::fs::metadata(&real).with_context(|| format!("cannot write {shown}"))?;
            (real, meta)
        } else {
            (path.to_path_buf(), link)
        };
        let ft = meta.file_type();
        if ft.is_file() {
            return Ok(Output {
                target: Target::Replace {
                    path: real,
                    existing: Some(meta),
                },
            });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if ft.is_char_device() || ft.is_fifo() {
                let key = file_key(&real, &meta);
                return Ok(Output {
                    target: Target::Through { path: real, key },
                });
            }
        }
        anyhow::bail!(
            "cannot write {shown}: it is {}; lockstep writes only to regular files, character devices, FIFOs and standard output (-)",
            kind_of(&ft)
        )
    }

    /// The file this output would overwrite, if any.
    fn key(&self) -> Option<FileKey> {
        match &self.target {
            Target::Stdout => None,
            Target::Through { key, .. } => Some(key.clone()),
            Target::Replace { path, existing } => existing.as_ref().map(|m| file_key(path, m)),
        }
    }

    /// Refuses an output that is one of the files the run reads: writing the
    /// report over its own input destroys the input.
    pub fn refuse_inputs<'a>(
        &self,
        inputs: impl IntoIterator<Item = &'a Path>,
    ) -> anyhow::Result<()> {
        let Some(out) = self.key() else {
            return Ok(());
        };
        // Character devices (`/dev/null`) are read-only sinks here, never inputs.
        if matches!(self.target, Target::Through { .. }) {
            return Ok(());
        }
        for input in inputs {
            if let Ok(meta) = std::fs::metadata(input)
                && file_key(input, &meta) == out
            {
                anyhow::bail!(
                    "the output {} is the input {}: lockstep never writes over what it reads; choose another -o",
                    self.shown(),
                    shown(input)
                );
            }
        }
        Ok(())
    }

    /// The path for messages (`-` for standard output).
    pub fn shown(&self) -> String {
        match &self.target {
            Target::Stdout => "-".into(),
            Target::Through { path, .. } | Target::Replace { path, .. } => shown(path),
        }
    }

    /// Where a command writing here keeps its temporary files: beside a
    /// file it replaces (the same file system), else in the system's
    /// temporary folder (`None`).
    pub fn spill_dir(&self) -> Option<PathBuf> {
        match &self.target {
            Target::Replace { path, .. } => Some(match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            }),
            Target::Stdout | Target::Through { .. } => None,
        }
    }

    pub fn is_stdout(&self) -> bool {
        matches!(self.target, Target::Stdout)
    }

    /// Writes `bytes` (see [`Output::write_with`]).
    pub fn write(&self, bytes: &[u8]) -> anyhow::Result<Written<()>> {
        self.write_with(|w| w.write_all(bytes))
    }

    /// Streams the output through `render` into the target. `render`
    /// returns what the caller needs afterwards (the check's findings).
    pub fn write_with<R>(
        &self,
        render: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<R>,
    ) -> anyhow::Result<Written<R>> {
        match &self.target {
            Target::Stdout => {
                // Unlocked `Stdout` (it is `Send`): a report may be written
                // from a writer thread.
                let mut out = io::BufWriter::with_capacity(1 << 20, io::stdout());
                closed_is_none(
                    render(&mut out).and_then(|r| out.flush().map(|()| r)),
                    "standard output",
                )
            }
            Target::Through { path, .. } => {
                let shown = shown(path);
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("cannot write {shown}"))?;
                let mut out = io::BufWriter::with_capacity(1 << 20, file);
                closed_is_none(
                    render(&mut out).and_then(|r| out.flush().map(|()| r)),
                    &shown,
                )
            }
            Target::Replace { path, existing } => {
                replace(path, existing.as_ref(), render).map(Some)
            }
        }
    }
}

fn closed_is_none<R>(result: io::Result<R>, what: &str) -> anyhow::Result<Written<R>> {
    match result {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(None),
        Err(e) => Err(anyhow::Error::new(e).context(format!("writing {what}"))),
    }
}

/// Writes a new version of the regular file `path` beside it and renames it
/// over the old one (see the module documentation).
fn replace<R>(
    path: &Path,
    existing: Option<&std::fs::Metadata>,
    render: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<R>,
) -> anyhow::Result<R> {
    let shown = shown(path);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("cannot write {shown}: not a file path"))?;
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{}.", name.to_string_lossy());
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Created with 0666 less the umask; an old file's mode is set
        // exactly below.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot write {shown}"))?;
    if let Some(old) = existing {
        keep_mode_and_owner(tmp.as_file(), old);
    }
    let written = {
        let mut w = io::BufWriter::with_capacity(1 << 20, tmp.as_file());
        render(&mut w)
            .and_then(|r| w.flush().map(|()| r))
            .and_then(|r| tmp.as_file().sync_all().map(|()| r))
    };
    // On an error the temporary file is removed when `tmp` is dropped.
    let r = written.with_context(|| format!("writing {shown} (the old file is unchanged)"))?;
    tmp.persist(path)
        .map_err(|e| anyhow::Error::new(e.error))
        .with_context(|| format!("writing {shown} (the old file is unchanged)"))?;
    // The rename is durable once the folder is.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(r)
}

/// Gives the new file the old one's permissions, and its owner and group
/// where the process may (root may; others keep their own).
fn keep_mode_and_owner(file: &std::fs::File, old: &std::fs::Metadata) {
    let _ = file.set_permissions(old.permissions());
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = std::os::unix::fs::fchown(file, Some(old.uid()), Some(old.gid()));
    }
}

/// Writes `text` to standard output: `Ok(true)` when written, `Ok(false)`
/// when the pipe was closed early (not an error), and an error for any other
/// failure (a full disk behind `> file`).
pub fn print(text: &str) -> anyhow::Result<bool> {
    let mut out = io::stdout().lock();
    closed_is_none(
        out.write_all(text.as_bytes()).and_then(|()| out.flush()),
        "standard output",
    )
    .map(|w| w.is_some())
}

/// A message on standard error, made safe for the terminal (input names in it
/// cannot drive the terminal). A failure to write it is ignored: there is
/// nowhere left to report it.
pub fn say(message: &str) {
    let safe = lockstep_model::term::terminal_safe(message, lockstep_model::term::Lines::Keep);
    let mut err = io::stderr().lock();
    let _ = err.write_all(safe.as_bytes());
    let _ = err.write_all(b"\n");
}

/// `eprintln!` for lockstep's messages, through [`say`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::say(&format!($($arg)*))
    };
}

/// A path for a message: one line, no terminal controls.
pub fn shown(path: &Path) -> String {
    lockstep_model::term::one_line(&path.display().to_string()).into_owned()
}
