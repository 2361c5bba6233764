//! Long lists rendered in parallel and written in order.

use rayon::prelude::*;
use std::io::{self, Write};

/// Renders `items` in parts of `per_part`, several parts at a time in
/// parallel, and writes the parts in order from a writer thread, so that
/// rendering the next parts overlaps writing the last ones. `render` gets
/// a part and whether it is the very first (for separators). The first
/// error, of rendering or of writing, stops the work and is returned.
pub fn write_parts<T: Sync>(
    w: &mut (dyn Write + Send),
    items: &[T],
    per_part: usize,
    render: impl Fn(&[T], bool) -> io::Result<Vec<u8>> + Sync,
) -> io::Result<()> {
    let per_part = per_part.max(1);
    let in_flight = 2 * rayon::current_num_threads().max(1);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(in_flight);
        let writer = scope.spawn(move || -> io::Result<()> {
            for part in rx {
                w.write_all(&part)?;
            }
            Ok(())
        });
        let mut rendered = Ok(());
        'batches: for (bi, batch) in items.chunks(per_part * in_flight).enumerate() {
            let parts: Vec<io::Result<Vec<u8>>> = batch
                .par_chunks(per_part)
                .enumerate()
                .map(|(pi, part)| render(part, bi == 0 && pi == 0))
                .collect();
            for part in parts {
                match part {
                    // A closed channel: the writer failed; `join` says why.
                    Ok(bytes) => {
                        if tx.send(bytes).is_err() {
                            break 'batches;
                        }
                    }
                    Err(e) => {
                        rendered = Err(e);
                        break 'batches;
                    }
                }
            }
        }
        drop(tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the report writer panicked")));
        written.and(rendered)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_arrive_in_order_with_the_first_marked() {
        let items: Vec<u32> = (0..10_000).collect();
        let mut out: Vec<u8> = Vec::new();
        write_parts(&mut out, &items, 7, |part, first| {
            let mut s = String::new();
            for (i, n) in part.iter().enumerate() {
                if !(first && i == 0) {
                    s.push(',');
                }
                s.push_str(&n.to_string());
            }
            Ok(s.into_bytes())
        })
        .unwrap();
        let expected = items
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn a_render_error_is_returned() {
        let items: Vec<u32> = (0..100).collect();
        let mut out: Vec<u8> = Vec::new();
        let r = write_parts(&mut out, &items, 10, |part, _| {
            if part.contains(&55) {
                Err(io::Error::other("bad item 55"))
            } else {
                Ok(b"x".to_vec())
            }
        });
        assert_eq!(r.unwrap_err().to_string(), "bad item 55");
    }

    #[test]
    fn a_write_error_is_returned() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let items: Vec<u32> = (0..100_000).collect();
        let r = write_parts(&mut Full, &items, 10, |_, _| Ok(b"x".to_vec()));
        assert_eq!(r.unwrap_err().to_string(), "disk full");
    }
}
