//! Stage 1: turn inputs into [`Article`]s.
//!
//! An input is a JSONL file (`.jsonl`, `.ndjson`, `.json`, or `-` for standard input), a text
//! file (`.txt`, `.md`), an HTML file (`.html`, `.htm`), or a directory, walked recursively for
//! files of those kinds in a stable (sorted) order. Every item is either an article or a
//! [`Failure`] that names the record and says why it was rejected; a bad record never stops
//! the stream.

pub mod files;
pub mod html;
pub mod jsonl;

pub use files::title_and_body;
pub use html::html_to_article;
pub use jsonl::{parse_record, JsonlReader};

use crate::types::{Article, ErrorKind, Failure};
use std::path::{Path, PathBuf};

/// Limits and normalisations applied while reading.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IngestOptions {
    /// Articles (JSONL lines or files) larger than this many bytes become `too_large` errors.
    pub max_article_bytes: usize,
    /// Replace invalid UTF-8 with U+FFFD instead of rejecting the record.
    pub lossy_utf8: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            max_article_bytes: 8 * 1024 * 1024,
            lossy_utf8: false,
        }
    }
}

pub type Ingested = Result<Article, Failure>;

/// The id of an ingested item, whether it was read or failed.
pub fn ingested_id(item: &Ingested) -> &str {
    match item {
        Ok(a) => &a.id,
        Err(f) => &f.id,
    }
}

/// One of `count` disjoint parts of a corpus: the articles whose id hashes
/// ([`crate::types::stable_hash`], FNV-1a 64) to `index` modulo `count`. Machines given
/// `0/N` … `N-1/N` split a corpus with no coordination, and together cover it exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn contains(&self, id: &str) -> bool {
        crate::types::stable_hash(id) % self.count == self.index
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// Parses `I/N` with `0 <= I < N`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not of the form I/N"))?;
        let parse = |x: &str| {
            x.trim()
                .parse::<u64>()
                .map_err(|e| format!("{x:?} in {s:?}: {e}"))
        };
        let (index, count) = (parse(i)?, parse(n)?);
        if count == 0 || index >= count {
            return Err(format!("shard {s:?}: need 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jsonl,
    Text,
    Html,
}

fn kind_of(path: &Path) -> Option<Kind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "jsonl" | "ndjson" | "json" => Some(Kind::Jsonl),
        "txt" | "md" => Some(Kind::Text),
        "html" | "htm" => Some(Kind::Html),
        _ => None,
    }
}

/// Reads every input in order, lazily: memory holds one article (or one JSONL line) at a time.
pub fn read_inputs(
    inputs: Vec<PathBuf>,
    options: IngestOptions,
) -> impl Iterator<Item = Ingested> + Send {
    inputs
        .into_iter()
        .flat_map(move |input| expand(input, options.clone()))
}

fn expand(input: PathBuf, options: IngestOptions) -> Box<dyn Iterator<Item = Ingested> + Send> {
    if input.as_os_str() == "-" {
        let stdin = std::io::BufReader::new(std::io::stdin());
        return Box::new(JsonlReader::new(stdin, "stdin".into(), options));
    }
    if input.is_dir() {
        let root = input.clone();
        let walk = walkdir::WalkDir::new(&input)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter();
        return Box::new(walk.flat_map(
            move |entry| -> Box<dyn Iterator<Item = Ingested> + Send> {
                match entry {
                    Ok(entry) if entry.file_type().is_file() && kind_of(entry.path()).is_some() => {
                        let id = entry
                            .path()
                            .strip_prefix(&root)
                            .unwrap_or(entry.path())
                            .to_string_lossy()
                            .into_owned();
                        read_file(entry.path(), id, options.clone())
                    }
                    Ok(_) => Box::new(std::iter::empty()),
                    Err(err) => {
                        let id = err
                            .path()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|| root.display().to_string());
                        Box::new(std::iter::once(Err(Failure::new(
                            id,
                            ErrorKind::Unreadable,
                            err.to_string(),
                        ))))
                    }
                }
            },
        ));
    }
    let id = input.display().to_string();
    read_file(&input, id, options)
}

fn read_file(
    path: &Path,
    id: String,
    options: IngestOptions,
) -> Box<dyn Iterator<Item = Ingested> + Send> {
    match kind_of(path) {
        Some(Kind::Jsonl) => match std::fs::File::open(path) {
            Ok(f) => Box::new(JsonlReader::new(std::io::BufReader::new(f), id, options)),
            Err(err) => Box::new(std::iter::once(Err(Failure::new(
                id,
                ErrorKind::Unreadable,
                err.to_string(),
            )))),
        },
        Some(kind) => Box::new(std::iter::once(files::read_document(
            path,
            id,
            kind == Kind::Html,
            &options,
        ))),
        None => Box::new(std::iter::once(Err(Failure::new(
            id,
            ErrorKind::Unreadable,
            "unsupported file type: expected .jsonl, .ndjson, .json, .txt, .md, .html or .htm",
        )))),
    }
}

/// Decodes bytes as UTF-8, or lossily when allowed. A leading byte-order mark is dropped.
fn decode(bytes: Vec<u8>, id: &str, options: &IngestOptions) -> Result<String, Failure> {
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) if options.lossy_utf8 => String::from_utf8_lossy(err.as_bytes()).into_owned(),
        Err(err) => {
            return Err(Failure::new(
                id,
                ErrorKind::InvalidUtf8,
                format!(
                    "invalid UTF-8 at byte {} (use --lossy-utf8 to replace bad bytes)",
                    err.utf8_error().valid_up_to()
                ),
            ))
        }
    };
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// Checks the text an article will be mined from; returns the article or why it is unusable.
fn validate(article: Article) -> Result<Article, Failure> {
    if article.text.trim().is_empty() {
        return Err(Failure::new(
            article.id,
            ErrorKind::EmptyText,
            "the text is empty or whitespace only",
        ));
    }
    Ok(article)
}
