//! JSONL input: one article per line, `{"id": str, "title": str?, "text": str, ...}`.
//! Other fields are kept as `meta`. A numeric `id` is accepted and written as a string.

use super::{decode, validate, IngestOptions, Ingested};
use crate::types::{Article, ErrorKind, Failure};
use std::io::BufRead;

/// Iterates the articles of a JSONL stream, one line at a time, so a huge corpus never sits in
/// memory. A line over the size limit is skipped without being held whole.
pub struct JsonlReader<R> {
    reader: R,
    source: String,
    line: usize,
    options: IngestOptions,
    done: bool,
}

impl<R: BufRead> JsonlReader<R> {
    /// `source` names the stream in the ids of records that have none.
    pub fn new(reader: R, source: String, options: IngestOptions) -> Self {
        JsonlReader {
            reader,
            source,
            line: 0,
            options,
            done: false,
        }
    }

    /// Reads one line (without its newline) into `buf`, keeping at most `limit + 1` bytes.
    /// Returns the line's full length, or `None` at the end of the stream.
    fn read_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
        buf.clear();
        let limit = self.options.max_article_bytes + 1;
        let mut total = 0;
        loop {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                return Ok((total > 0).then_some(total));
            }
            let (piece, found) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], true),
                None => (chunk, false),
            };
            let room = limit.saturating_sub(buf.len());
            buf.extend_from_slice(&piece[..piece.len().min(room)]);
            total += piece.len();
            let used = piece.len() + usize::from(found);
            self.reader.consume(used);
            if found {
                return Ok(Some(total));
            }
        }
    }

    fn parse(&self, bytes: Vec<u8>) -> Ingested {
        let fallback_id = format!("{}:{}", self.source, self.line);
        let text = decode(bytes, &fallback_id, &self.options)?;
        parse_record(&text, &fallback_id)
    }
}

/// Parses one JSONL record, `{"id": str | number, "title": str?, "text": str, ...}`, into an
/// article, or a failure that names the record (`fallback_id` when it has no usable id) and
/// says what is wrong with it. Every JSONL input goes through here, including the Python
/// package's.
pub fn parse_record(text: &str, fallback_id: &str) -> Ingested {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|err| {
        Failure::new(
            fallback_id,
            ErrorKind::InvalidRecord,
            format!("not valid JSON: {err}"),
        )
    })?;
    let serde_json::Value::Object(mut map) = value else {
        return Err(Failure::new(
            fallback_id,
            ErrorKind::InvalidRecord,
            "a record must be a JSON object",
        ));
    };
    let id = match map.remove("id") {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s,
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(Failure::new(
                fallback_id,
                ErrorKind::InvalidRecord,
                "field `id` must be a non-empty string or a number",
            ))
        }
        None => {
            return Err(Failure::new(
                fallback_id,
                ErrorKind::InvalidRecord,
                "missing field `id`",
            ))
        }
    };
    let title = match map.remove("title") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s).filter(|s| !s.trim().is_empty()),
        Some(_) => {
            return Err(Failure::new(
                id,
                ErrorKind::InvalidRecord,
                "field `title` must be a string",
            ))
        }
    };
    let text = match map.remove("text") {
        Some(serde_json::Value::String(s)) => s,
        Some(_) => {
            return Err(Failure::new(
                id,
                ErrorKind::InvalidRecord,
                "field `text` must be a string",
            ))
        }
        None => {
            return Err(Failure::new(
                id,
                ErrorKind::InvalidRecord,
                "missing field `text`",
            ))
        }
    };
    validate(Article {
        id,
        title,
        text,
        meta: map,
    })
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = Ingested;

    fn next(&mut self) -> Option<Ingested> {
        let mut buf = Vec::new();
        while !self.done {
            self.line += 1;
            let len = match self.read_line(&mut buf) {
                Ok(Some(len)) => len,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(err) => {
                    self.done = true;
                    return Some(Err(Failure::new(
                        format!("{}:{}", self.source, self.line),
                        ErrorKind::Unreadable,
                        err.to_string(),
                    )));
                }
            };
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if len > self.options.max_article_bytes {
                return Some(Err(Failure::new(
                    format!("{}:{}", self.source, self.line),
                    ErrorKind::TooLarge,
                    format!(
                        "record is {len} bytes, over the limit of {} (--max-article-bytes)",
                        self.options.max_article_bytes
                    ),
                )));
            }
            return Some(self.parse(std::mem::take(&mut buf)));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str, options: IngestOptions) -> Vec<Ingested> {
        JsonlReader::new(input.as_bytes(), "t".into(), options).collect()
    }

    #[test]
    fn reads_articles_and_keeps_extra_fields_as_meta() {
        let got = read(
            "{\"id\":\"a\",\"title\":\"T\",\"text\":\"Hello.\",\"url\":\"u\"}\n\n{\"id\":7,\"text\":\"B.\"}",
            IngestOptions::default(),
        );
        let a = got[0].as_ref().unwrap();
        assert_eq!((a.id.as_str(), a.title.as_deref()), ("a", Some("T")));
        assert_eq!(a.meta["url"], "u");
        assert_eq!(got[1].as_ref().unwrap().id, "7");
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn bad_lines_become_failures_and_reading_goes_on() {
        let got = read(
            "not json\n{\"id\":\"x\"}\n{\"id\":\"y\",\"text\":5}\n{\"id\":\"z\",\"text\":\"  \"}\n{\"id\":\"ok\",\"text\":\"Fine.\"}\n{\"id\":\"torn\",\"te",
            IngestOptions::default(),
        );
        let kinds: Vec<_> = got
            .iter()
            .map(|r| match r {
                Ok(a) => format!("ok:{}", a.id),
                Err(f) => format!("{}:{:?}", f.id, f.error.kind),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "t:1:InvalidRecord",
                "x:InvalidRecord",
                "y:InvalidRecord",
                "z:EmptyText",
                "ok:ok",
                "t:6:InvalidRecord"
            ]
        );
    }

    #[test]
    fn oversized_line_is_rejected_without_stopping() {
        let options = IngestOptions {
            max_article_bytes: 40,
            ..Default::default()
        };
        let long = format!("{{\"id\":\"big\",\"text\":\"{}\"}}", "x".repeat(100));
        let got = read(
            &format!("{long}\n{{\"id\":\"s\",\"text\":\"A.\"}}\n"),
            options,
        );
        assert_eq!(got[0].as_ref().unwrap_err().error.kind, ErrorKind::TooLarge);
        assert_eq!(got[1].as_ref().unwrap().id, "s");
    }

    #[test]
    fn invalid_utf8_is_an_error_unless_lossy() {
        let bytes = b"{\"id\":\"u\",\"text\":\"caf\xe9.\"}\n".to_vec();
        let strict: Vec<_> =
            JsonlReader::new(&bytes[..], "t".into(), IngestOptions::default()).collect();
        assert_eq!(
            strict[0].as_ref().unwrap_err().error.kind,
            ErrorKind::InvalidUtf8
        );
        let lossy = IngestOptions {
            lossy_utf8: true,
            ..Default::default()
        };
        let got: Vec<_> = JsonlReader::new(&bytes[..], "t".into(), lossy).collect();
        assert_eq!(got[0].as_ref().unwrap().text, "caf\u{fffd}.");
    }
}
