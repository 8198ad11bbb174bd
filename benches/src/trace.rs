//! Reader for the block-access traces in `shared/traces` (the ARC paper's traces, as
//! republished in `moka-rs/cache-trace`).
//!
//! A trace is text, plain (`.lis`) or Zstandard-compressed (`.lis.zst`; recognised by the
//! zstd magic number, not the name). Each line holds four unsigned integers separated by
//! blanks, `start count ignored request_no`, and stands for `count` page requests, for the
//! pages `start, start+1, ..., start+count-1` in that order. Blank lines are skipped; any
//! other line that does not hold exactly four integers (or whose pages overflow `u64`) is an
//! error naming the file and the line.
//!
//! The reader streams: it decompresses through a buffer, reuses one line buffer and parses the
//! integers from bytes, so a trace of millions of lines allocates nothing per line.
//!
//! Whoever publishes results from these traces must cite the paper ([`CITATION`]).
//!
//! ```no_run
//! use strata_benches::trace::{self, TraceReader};
//!
//! // Stream the pages...
//! let mut requests = 0u64;
//! TraceReader::open("/work/shared/traces/OLTP.lis.zst")?.for_each_page(|_page| requests += 1)?;
//! // ...or load them all (8 bytes a request).
//! let pages = trace::load("/work/shared/traces/OLTP.lis.zst")?;
//! assert_eq!(pages.len() as u64, requests);
//! # Ok::<(), strata_benches::trace::TraceError>(())
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The citation the traces' condition of use asks for wherever results from them appear.
pub const CITATION: &str = "N. Megiddo and D. S. Modha, \"ARC: A Self-Tuning, Low Overhead \
Replacement Cache\", USENIX FAST '03, San Francisco, pp. 115-130, 2003";

/// The first four bytes of a Zstandard frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// The size of the buffer over the decompressed text.
const BUFFER_BYTES: usize = 1 << 16;

/// One trace line: `count` requests for the pages `start..start + count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    /// The first page requested.
    pub start: u64,
    /// How many consecutive pages are requested (may be 0).
    pub count: u64,
}

impl Run {
    /// The pages of the run, in request order.
    pub fn pages(self) -> std::ops::Range<u64> {
        // `parse_line` checked that `start + count` does not overflow.
        self.start..self.start + self.count
    }
}

/// A trace that cannot be opened or read, or a line that is not `start count ignored
/// request_no`.
#[derive(Debug)]
pub struct TraceError {
    path: PathBuf,
    line: Option<u64>,
    message: String,
}

impl TraceError {
    fn new(path: &Path, line: Option<u64>, message: impl Into<String>) -> Self {
        TraceError {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// The trace file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The 1-based line number, when the error is about a line.
    pub fn line(&self) -> Option<u64> {
        self.line
    }

    /// What is wrong, without the file and line.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for TraceError {}

/// Parses one line (without or with its `\n`/`\r\n`): `Ok(None)` for a blank line,
/// `Ok(Some(run))` for `start count ignored request_no`, and an error saying what is wrong
/// otherwise. Only `start` and `count` are kept; the other two must still be integers.
pub fn parse_line(line: &[u8]) -> Result<Option<Run>, String> {
    let mut fields = [0u64; 4];
    let mut n = 0usize;
    let mut i = 0usize;
    let len = line.len();
    loop {
        while i < len && is_blank(line[i]) {
            i += 1;
        }
        if i == len {
            break;
        }
        if n == fields.len() {
            return Err(format!(
                "more than 4 fields (expected `start count ignored request_no`): {}",
                show(line)
            ));
        }
        let field_start = i;
        let mut value = 0u64;
        while i < len && !is_blank(line[i]) {
            let b = line[i];
            if !b.is_ascii_digit() {
                return Err(format!(
                    "field {} is not an unsigned integer: {}",
                    n + 1,
                    show(line)
                ));
            }
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .ok_or_else(|| {
                    format!(
                        "field {} `{}` does not fit in 64 bits",
                        n + 1,
                        String::from_utf8_lossy(&line[field_start..i + 1])
                    )
                })?;
            i += 1;
        }
        fields[n] = value;
        n += 1;
    }
    match n {
        0 => Ok(None),
        4 => {
            let [start, count, _, _] = fields;
            if start.checked_add(count).is_none() {
                return Err(format!(
                    "pages {start}+{count} overflow 64 bits: {}",
                    show(line)
                ));
            }
            Ok(Some(Run { start, count }))
        }
        _ => Err(format!(
            "{n} field(s), expected 4 (`start count ignored request_no`): {}",
            show(line)
        )),
    }
}

/// Space, tab, and the line ending.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The line for an error message: quoted, without its line ending, cut at 80 bytes.
fn show(line: &[u8]) -> String {
    let trimmed = line
        .strip_suffix(b"\n")
        .map_or(line, |l| l.strip_suffix(b"\r").unwrap_or(l));
    let cut = &trimmed[..trimmed.len().min(80)];
    let ellipsis = if cut.len() < trimmed.len() { "..." } else { "" };
    format!("{:?}{ellipsis}", String::from_utf8_lossy(cut))
}

/// Streams the runs (lines) of one trace.
pub struct TraceReader {
    path: PathBuf,
    reader: Box<dyn BufRead + Send>,
    line_no: u64,
    buf: Vec<u8>,
}

impl fmt::Debug for TraceReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceReader")
            .field("path", &self.path)
            .field("line_no", &self.line_no)
            .finish_non_exhaustive()
    }
}

impl TraceReader {
    /// Opens a trace file, decompressing it on the fly when it starts with the zstd magic
    /// number.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TraceError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| TraceError::new(path, None, e.to_string()))?;
        let mut file = BufReader::with_capacity(BUFFER_BYTES, file);
        let head = file
            .fill_buf()
            .map_err(|e| TraceError::new(path, None, e.to_string()))?;
        let reader: Box<dyn BufRead + Send> = if head.starts_with(&ZSTD_MAGIC) {
            let decoder = zstd::stream::read::Decoder::with_buffer(file).map_err(|e| {
                TraceError::new(path, None, format!("cannot start zstd decoding: {e}"))
            })?;
            Box::new(BufReader::with_capacity(BUFFER_BYTES, decoder))
        } else {
            Box::new(file)
        };
        Ok(Self::from_reader(path, reader))
    }

    /// Reads a trace's (already decompressed) text from `reader`; `path` only names it in
    /// errors.
    pub fn from_reader(path: impl AsRef<Path>, reader: impl BufRead + Send + 'static) -> Self {
        TraceReader {
            path: path.as_ref().to_path_buf(),
            reader: Box::new(reader),
            line_no: 0,
            buf: Vec::with_capacity(64),
        }
    }

    /// Like [`TraceReader::from_reader`], for text or zstd bytes not in a file (tests).
    pub fn from_bytes(path: impl AsRef<Path>, bytes: Vec<u8>) -> Result<Self, TraceError> {
        let path = path.as_ref();
        if bytes.starts_with(&ZSTD_MAGIC) {
            let text = zstd::stream::decode_all(bytes.as_slice())
                .map_err(|e| TraceError::new(path, None, format!("zstd: {e}")))?;
            Ok(Self::from_reader(path, io::Cursor::new(text)))
        } else {
            Ok(Self::from_reader(path, io::Cursor::new(bytes)))
        }
    }

    /// The trace's path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The number of lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.line_no
    }

    /// The next run, `None` at the end of the trace.
    pub fn next_run(&mut self) -> Result<Option<Run>, TraceError> {
        loop {
            self.buf.clear();
            let line = self.line_no + 1;
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| TraceError::new(&self.path, Some(line), format!("read error: {e}")))?;
            if n == 0 {
                return Ok(None);
            }
            self.line_no = line;
            match parse_line(&self.buf) {
                Ok(Some(run)) => return Ok(Some(run)),
                Ok(None) => continue,
                Err(message) => return Err(TraceError::new(&self.path, Some(line), message)),
            }
        }
    }

    /// Calls `f` with every page request in order; returns the number of requests.
    pub fn for_each_page(mut self, mut f: impl FnMut(u64)) -> Result<u64, TraceError> {
        let mut requests = 0u64;
        while let Some(run) = self.next_run()? {
            run.pages().for_each(&mut f);
            requests += run.count;
        }
        Ok(requests)
    }

    /// Reads every page request into memory, in order (8 bytes a request).
    pub fn into_pages(self) -> Result<Vec<u64>, TraceError> {
        let mut pages = Vec::new();
        self.for_each_page(|page| pages.push(page))?;
        Ok(pages)
    }
}

impl Iterator for TraceReader {
    type Item = Result<Run, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_run().transpose()
    }
}

/// Opens `path` and reads every page request into memory, in order.
pub fn load(path: impl AsRef<Path>) -> Result<Vec<u64>, TraceError> {
    TraceReader::open(path)?.into_pages()
}

/// The trace's name: its file name up to the first dot (`/x/P12.lis.zst` gives `P12`).
pub fn stem(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    let name = path
        .file_name()
        .map_or_else(|| path.to_string_lossy(), |n| n.to_string_lossy());
    match name.split_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_owned(),
        _ => name.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_good_lines() {
        assert_eq!(
            parse_line(b"230027 8 0 0\n").unwrap(),
            Some(Run {
                start: 230027,
                count: 8
            })
        );
        assert_eq!(
            parse_line(b"  1\t64  0 1\r\n").unwrap(),
            Some(Run {
                start: 1,
                count: 64
            })
        );
        assert_eq!(
            parse_line(b"18446744073709551614 1 0 0").unwrap(),
            Some(Run {
                start: u64::MAX - 1,
                count: 1
            })
        );
        assert_eq!(parse_line(b"\n").unwrap(), None);
        assert_eq!(parse_line(b"   \r\n").unwrap(), None);
        assert_eq!(parse_line(b"").unwrap(), None);
    }

    #[test]
    fn rejects_bad_lines() {
        for bad in [
            &b"1 2 3\n"[..],
            b"1 2 3 4 5\n",
            b"1 -2 3 4\n",
            b"1 2x 3 4\n",
            b"a b c d\n",
            b"99999999999999999999 1 0 0\n",
            b"18446744073709551615 1 0 0\n",
        ] {
            assert!(
                parse_line(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let err = parse_line(b"1 2 3\n").unwrap_err();
        assert!(err.contains("3 field(s)"), "{err}");
    }

    #[test]
    fn streams_pages_in_order() {
        let text = b"10 3 0 0\n\n5 1 0 1\n7 0 0 2\n20 2 0 3".to_vec();
        let reader = TraceReader::from_bytes("t.lis", text).unwrap();
        assert_eq!(reader.into_pages().unwrap(), vec![10, 11, 12, 5, 20, 21]);
    }

    #[test]
    fn bad_line_names_file_and_line() {
        let text = b"10 3 0 0\n\n5 x 0 1\n".to_vec();
        let err = TraceReader::from_bytes("dir/t.lis", text)
            .unwrap()
            .into_pages()
            .unwrap_err();
        assert_eq!(err.line(), Some(3));
        assert_eq!(err.path(), Path::new("dir/t.lis"));
        let shown = err.to_string();
        assert!(shown.starts_with("dir/t.lis:3: field 2"), "{shown}");
    }

    #[test]
    fn reads_zstd_and_plain_files() {
        let dir = std::env::temp_dir().join(format!("strata-trace-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = b"1 2 0 0\n9 1 0 1\n";
        let plain = dir.join("T.lis");
        let packed = dir.join("T.lis.zst");
        std::fs::write(&plain, text).unwrap();
        std::fs::write(&packed, zstd::encode_all(&text[..], 3).unwrap()).unwrap();
        assert_eq!(load(&plain).unwrap(), vec![1, 2, 9]);
        assert_eq!(load(&packed).unwrap(), vec![1, 2, 9]);
        let bad = dir.join("B.lis.zst");
        std::fs::write(&bad, zstd::encode_all(&b"1 2 0 0\n1 2 0\n"[..], 3).unwrap()).unwrap();
        let err = load(&bad).unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
        assert!(err.to_string().contains("B.lis.zst:2:"), "{err}");
        let missing = load(dir.join("missing.lis")).unwrap_err();
        assert_eq!(missing.line(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stem_drops_every_extension() {
        assert_eq!(stem("/a/b/P12.lis.zst"), "P12");
        assert_eq!(stem("OLTP.lis"), "OLTP");
        assert_eq!(stem("plain"), "plain");
    }
}
