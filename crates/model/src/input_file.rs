//! Reading one input file without letting it harm the run.
//!
//! Inputs come from capture folders that other people filled. A FIFO named
//! `HV01.systeminfo.txt` would block the run forever, a symlink to
//! `/dev/zero` would grow until the kernel kills lockstep, and a 2 GB sparse
//! file would be read whole before it is rejected. So:
//!
//! * Files found in a folder or listed in a manifest ([`Origin::Found`]) must
//!   be regular files (after following symlinks); anything else is an error
//!   naming what it is, and it is never opened in a way that blocks.
//! * Files named on the command line ([`Origin::Named`]) may also be FIFOs or
//!   devices (`<(...)`, `/dev/stdin`): the admin asked for them.
//! * Every file is read up to a limit (`--max-input-size`): a regular file
//!   larger than the limit is refused before it is read, anything else stops
//!   being read one byte past it.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The default `--max-input-size`: 256 MiB, a hundred times the largest
/// snapshot of a real cluster and four times the files the benchmarks
/// generate.
pub const DEFAULT_MAX_INPUT_SIZE: u64 = 256 * 1024 * 1024;

/// How an input was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Named on the command line.
    Named,
    /// Found in a folder or listed in a manifest: regular files only.
    Found,
}

/// Why an input was not read.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// Not a regular file: what it is instead ("a FIFO", "a socket", ...).
    NotRegular(&'static str),
    /// Larger than the limit; `size` when the file system said so.
    TooLarge {
        limit: u64,
        size: Option<u64>,
    },
}

impl ReadError {
    /// What was expected and what was found, for an `expected ...` message.
    pub fn expected(&self) -> String {
        match self {
            ReadError::Io(e) => format!("a readable file, found an error: {e}"),
            ReadError::NotRegular(kind) => {
                format!("a regular file, found {kind}; it was not read")
            }
            ReadError::TooLarge {
                limit,
                size: Some(size),
            } => format!(
                "a file of at most {limit} bytes (--max-input-size), found {size} bytes; it was not read"
            ),
            ReadError::TooLarge { limit, size: None } => format!(
                "at most {limit} bytes (--max-input-size), found more; reading stopped there"
            ),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}", self.expected())
    }
}

impl std::error::Error for ReadError {}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// What a file that is not a regular file is, in words.
pub fn kind_of(ft: &std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        return "a directory";
    }
    if ft.is_symlink() {
        return "a symbolic link";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
    }
    if ft.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

fn open(path: &Path, origin: Origin) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO without a writer returns at once
        // instead of waiting for one; the type is checked on the open file
        // below. Regular files ignore the flag.
        let nonblock = if origin == Origin::Found {
            libc::O_NONBLOCK
        } else {
            0
        };
        options.custom_flags(libc::O_NOCTTY | nonblock);
    }
    #[cfg(not(unix))]
    let _ = origin;
    options.open(path)
}

/// Appends the file's bytes to `buf` (see the module documentation). On an
/// error `buf` may hold part of the file; callers clear it.
pub fn read_into(
    path: &Path,
    limit: u64,
    origin: Origin,
    buf: &mut Vec<u8>,
) -> Result<(), ReadError> {
    let (file, size) = open_checked(path, limit, origin)?;
    let start = buf.len();
    if let Some(size) = size {
        buf.reserve(usize::try_from(size).unwrap_or(0));
    }
    file.take(limit.saturating_add(1)).read_to_end(buf)?;
    if (buf.len() - start) as u64 > limit {
        return Err(ReadError::TooLarge { limit, size: None });
    }
    Ok(())
}

/// The file opened for reading after the checks of [`read_into`], with its
/// size when it is a regular file. Reading more than `limit` bytes from it
/// is the caller's [`ReadError::TooLarge`].
pub fn open_checked(
    path: &Path,
    limit: u64,
    origin: Origin,
) -> Result<(std::fs::File, Option<u64>), ReadError> {
    let file = open(path, origin)?;
    let meta = file.metadata()?;
    let ft = meta.file_type();
    if ft.is_dir() || (origin == Origin::Found && !ft.is_file()) {
        return Err(ReadError::NotRegular(kind_of(&ft)));
    }
    if ft.is_file() && meta.len() > limit {
        return Err(ReadError::TooLarge {
            limit,
            size: Some(meta.len()),
        });
    }
    Ok((file, ft.is_file().then_some(meta.len())))
}

/// The file's bytes (see [`read_into`]).
pub fn read(path: &Path, limit: u64, origin: Origin) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::new();
    read_into(path, limit, origin, &mut buf)?;
    Ok(buf)
}

/// What makes two paths the same file: device and inode on Unix, the
/// canonical path elsewhere. A file reached twice (a symlink beside its
/// target, `s1 -> .`) is read once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FileKey {
    Inode(u64, u64),
    Path(PathBuf),
}

/// The key of the file `path` names (symlinks followed), from its metadata.
pub fn file_key(path: &Path, meta: &std::fs::Metadata) -> FileKey {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = path;
        FileKey::Inode(meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        FileKey::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_types() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.txt");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read(&f, 10, Origin::Found).unwrap(), b"0123456789");
        match read(&f, 9, Origin::Found) {
            Err(ReadError::TooLarge {
                limit: 9,
                size: Some(10),
            }) => {}
            other => panic!("{other:?}"),
        }
        match read(dir.path(), 100, Origin::Named) {
            Err(e @ ReadError::NotRegular("a directory")) => assert_eq!(
                e.to_string(),
                "expected a regular file, found a directory; it was not read"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_found_in_a_folder_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("HV01.systeminfo.txt");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        match read(&fifo, 100, Origin::Found) {
            Err(ReadError::NotRegular("a FIFO (named pipe)")) => {}
            other => panic!("{other:?}"),
        }
        // /dev/zero named on the command line stops one byte past the limit.
        match read(Path::new("/dev/zero"), 1000, Origin::Named) {
            Err(ReadError::TooLarge {
                limit: 1000,
                size: None,
            }) => {}
            other => panic!("{other:?}"),
        }
    }
}
