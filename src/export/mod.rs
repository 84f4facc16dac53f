//! Stage 7: write records out. `argmine mine` streams JSONL records through a [`Sink`];
//! `argmine export` turns those records into the graph formats of the field ([`formats`]).

pub mod formats;
pub mod tree;

use crate::types::Record;
use std::io::Write;

/// Receives records in input order.
pub trait Sink: Send {
    fn write(&mut self, record: &Record) -> std::io::Result<()>;
    /// Flushes everything; called once after the last record.
    fn finish(&mut self) -> std::io::Result<()>;
}

/// One JSON object per line. Each record is written as a complete line and flushed, so a
/// reader (or a resumed run) never sees half a record from a live process.
pub struct JsonlSink<W: Write + Send> {
    out: W,
    line: Vec<u8>,
}

impl<W: Write + Send> JsonlSink<W> {
    pub fn new(out: W) -> Self {
        JsonlSink {
            out,
            line: Vec::with_capacity(16 * 1024),
        }
    }
}

impl<W: Write + Send> Sink for JsonlSink<W> {
    fn write(&mut self, record: &Record) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.out.flush()
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Reads `argmine mine` output, one record per line, from `path` (`-` for standard input).
/// Blank lines are skipped; a line that is not a record is an error naming its line.
pub fn read_records(
    path: &std::path::Path,
) -> crate::Result<impl Iterator<Item = crate::Result<Record>>> {
    use std::io::BufRead;
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(path).map_err(|source| crate::Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Box::new(std::io::BufReader::new(file))
    };
    let path = path.to_path_buf();
    Ok(reader
        .lines()
        .enumerate()
        .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(move |(i, line)| {
            let line = line.map_err(|source| crate::Error::Read {
                path: path.clone(),
                source,
            })?;
            serde_json::from_str(&line).map_err(|source| crate::Error::Record {
                path: path.clone(),
                line: i + 1,
                source,
            })
        }))
}

/// A file name for an article id: characters other than ASCII letters, digits, `.`, `-` and
/// `_` become `_`, and a leading dot is dropped so no name is hidden or climbs directories.
pub fn file_stem(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.');
    if s.is_empty() {
        "article".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn file_stems_stay_inside_the_output_directory() {
        assert_eq!(
            file_stem("datasets/samples/a b.txt"),
            "datasets_samples_a_b.txt"
        );
        assert_eq!(file_stem("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(file_stem("..."), "article");
    }
}
