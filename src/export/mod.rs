//! Stage 6: write records out. `argmine mine` streams JSONL records through a [`Sink`] opened
//! by [`open_output`] (which also resumes an interrupted run); [`read_records`] reads them back,
//! and [`write_graph_files`] turns them into the graph formats of the field ([`formats`]), one
//! file per article.

pub mod formats;
pub mod tree;

use crate::error::{Error, Result};
use crate::types::Record;
use formats::Format;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

/// Receives records in input order.
pub trait Sink: Send {
    fn write(&mut self, record: &Record) -> std::io::Result<()>;
    /// Flushes everything; called once after the last record.
    fn finish(&mut self) -> std::io::Result<()>;
}

/// Output that can be made durable: flushed and, for files, synced to disk.
pub trait Durable: Write + Send {
    fn sync(&mut self) -> std::io::Result<()>;
}

impl Durable for std::io::BufWriter<std::fs::File> {
    fn sync(&mut self) -> std::io::Result<()> {
        self.flush()?;
        self.get_ref().sync_data()
    }
}

impl Durable for std::io::BufWriter<std::io::Stdout> {
    fn sync(&mut self) -> std::io::Result<()> {
        self.flush()
    }
}

/// Discards what it is given (for timing the writer without keeping its output).
impl Durable for std::io::Sink {
    fn sync(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Durable for Vec<u8> {
    fn sync(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<D: Durable + ?Sized> Durable for Box<D> {
    fn sync(&mut self) -> std::io::Result<()> {
        (**self).sync()
    }
}

/// One JSON object per line. Each record is written as a complete line and flushed, so a
/// reader (or a resumed run) never sees half a record from a live process; every
/// `sync_every` records and at the end the output is synced, so a machine crash loses at most
/// that many records (and `--resume` discards a torn last line).
pub struct JsonlSink<W: Durable> {
    out: W,
    line: Vec<u8>,
    sync_every: usize,
    unsynced: usize,
}

impl<W: Durable> JsonlSink<W> {
    pub fn new(out: W, sync_every: usize) -> Self {
        JsonlSink {
            out,
            line: Vec::with_capacity(16 * 1024),
            sync_every: sync_every.max(1),
            unsynced: 0,
        }
    }
}

impl<W: Durable> Sink for JsonlSink<W> {
    fn write(&mut self, record: &Record) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.unsynced += 1;
        if self.unsynced >= self.sync_every {
            self.unsynced = 0;
            self.out.sync()
        } else {
            self.out.flush()
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.sync()
    }
}

/// What an earlier run left in an output file, for `argmine mine --resume`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Resumed {
    /// How many records each id has in the file (ids may repeat in a corpus).
    pub done: HashMap<String, usize>,
    pub records: usize,
    /// Bytes of a torn last line that were cut off.
    pub discarded_bytes: u64,
}

impl Resumed {
    /// Whether an item with this id still needs mining: false for as many items of each id
    /// as the output already holds records of.
    pub fn pending(&mut self, id: &str) -> bool {
        match self.done.get_mut(id) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        }
    }
}

/// The sink `argmine mine` writes to.
pub type OutputSink = JsonlSink<Box<dyn Durable>>;

/// Opens the output of a run, synced every `sync_every` records: standard output when `path`
/// is `None`, else a new file; with `resume`, the existing file instead, its complete records
/// kept (see [`prepare_resume`]) and appended to. Returns the sink and what an earlier run
/// left (nothing unless resuming).
pub fn open_output(
    path: Option<&Path>,
    resume: bool,
    sync_every: usize,
) -> Result<(OutputSink, Resumed)> {
    let mut resumed = Resumed::default();
    let out: Box<dyn Durable> = match path {
        Some(path) if resume => {
            resumed = prepare_resume(path).map_err(|source| Error::Resume {
                path: path.to_path_buf(),
                source,
            })?;
            let file = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .map_err(|source| Error::Write {
                    path: path.to_path_buf(),
                    source,
                })?;
            Box::new(std::io::BufWriter::new(file))
        }
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|source| Error::Write {
                path: path.to_path_buf(),
                source,
            })?;
            Box::new(std::io::BufWriter::new(file))
        }
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    Ok((JsonlSink::new(out, sync_every), resumed))
}

/// Reads the complete records of an output file and cuts off a torn last line (one without
/// its newline, or one that does not parse), so that appending continues cleanly. A missing
/// file is an empty one.
pub fn prepare_resume(path: &Path) -> std::io::Result<Resumed> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Resumed::default()),
        Err(e) => return Err(e),
    };
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    let mut resumed = Resumed::default();
    let mut good = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let Some(body) = line.strip_suffix(b"\n") else {
            break; // no newline: torn
        };
        let Ok(record) = serde_json::from_slice::<Id>(body) else {
            break;
        };
        *resumed.done.entry(record.id).or_default() += 1;
        resumed.records += 1;
        good += line.len();
    }
    resumed.discarded_bytes = (bytes.len() - good) as u64;
    if resumed.discarded_bytes > 0 {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(good as u64)?;
        file.sync_data()?;
    }
    Ok(resumed)
}

/// Reads `argmine mine` output, one record per line, from `path` (`-` for standard input).
/// Blank lines are skipped; a line that is not a record is an error naming its line.
pub fn read_records(path: &Path) -> Result<impl Iterator<Item = Result<Record>>> {
    use std::io::BufRead;
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
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
            let line = line.map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            serde_json::from_str(&line).map_err(|source| Error::Record {
                path: path.clone(),
                line: i + 1,
                source,
            })
        }))
}

/// The first record with this id among `records`.
pub fn find_record(
    records: impl Iterator<Item = Result<Record>>,
    id: &str,
) -> Result<Option<Record>> {
    for record in records {
        let record = record?;
        if record.id() == id {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// What [`write_graph_files`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Articles written.
    pub written: usize,
    /// Failed records, which have no graph to write.
    pub skipped: usize,
}

/// Writes each mined article of `records` into `dir` (created if missing) in `format`: one
/// file per article (brat: a `.txt` and an `.ann`), named after its id by [`file_stem`], with
/// `-2`, `-3`, … added when two ids map to the same name. `only` keeps just the article with
/// that id.
pub fn write_graph_files(
    records: impl Iterator<Item = Result<Record>>,
    format: Format,
    dir: &Path,
    only: Option<&str>,
) -> Result<ExportSummary> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut used = HashSet::new();
    let mut summary = ExportSummary::default();
    for record in records {
        let Record::Mined(article) = record? else {
            summary.skipped += 1;
            continue;
        };
        if only.is_some_and(|id| id != article.id) {
            continue;
        }
        let stem = file_stem(&article.id);
        let mut name = stem.clone();
        let mut k = 1;
        while !used.insert(name.clone()) {
            k += 1;
            name = format!("{stem}-{k}");
        }
        for file in format.render(&article) {
            let path = dir.join(format!("{name}.{}", file.extension));
            std::fs::write(&path, file.contents).map_err(|source| Error::Write { path, source })?;
        }
        summary.written += 1;
    }
    Ok(summary)
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
    use super::{file_stem, prepare_resume};

    #[test]
    fn resume_keeps_complete_records_and_cuts_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let good = "{\"id\":\"a\",\"x\":1}\n{\"id\":\"b\"}\n{\"id\":\"a\"}\n";
        std::fs::write(&path, format!("{good}{{\"id\":\"c\",\"sen")).unwrap();
        let r = prepare_resume(&path).unwrap();
        assert_eq!(r.records, 3);
        assert_eq!(r.done["a"], 2);
        assert_eq!(r.discarded_bytes, "{\"id\":\"c\",\"sen".len() as u64);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), good);
        assert_eq!(
            prepare_resume(&dir.path().join("missing")).unwrap().records,
            0
        );
    }

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
