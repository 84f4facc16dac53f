//! Plain-text, Markdown and HTML files: one article per file, the id being the path relative
//! to the directory given on the command line (or the path as given, for a single file).

use super::{decode, validate, IngestOptions, Ingested};
use crate::types::{Article, ErrorKind, Failure};
use std::path::Path;

pub(super) fn read_document(
    path: &Path,
    id: String,
    html: bool,
    options: &IngestOptions,
) -> Ingested {
    let unreadable =
        |err: std::io::Error| Failure::new(&id, ErrorKind::Unreadable, err.to_string());
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > options.max_article_bytes as u64 {
        return Err(Failure::new(
            id,
            ErrorKind::TooLarge,
            format!(
                "file is {size} bytes, over the limit of {} (--max-article-bytes)",
                options.max_article_bytes
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    let content = decode(bytes, &id, options)?;
    let article = if html {
        super::html_to_article(id, &content)
    } else {
        let (title, text) = title_and_body(&content);
        Article {
            id,
            title,
            text,
            meta: Default::default(),
        }
    };
    validate(article)
}

/// The title rule for text files: the first line is the title when a blank line follows it and
/// it is at most 300 characters long. A Markdown heading marker (`#`) is dropped from it. The
/// rest of the file, from the first character after the blank line(s), is the body, so body
/// offsets count from there. Otherwise there is no title and the whole file is the body.
pub fn title_and_body(content: &str) -> (Option<String>, String) {
    let content = content.trim_start_matches(['\n', '\r']);
    if let Some((first, rest)) = content.split_once('\n') {
        let first = first.trim_end_matches('\r');
        let rest_trimmed = rest.trim_start_matches([' ', '\t', '\r']);
        if rest_trimmed.starts_with('\n')
            && !first.trim().is_empty()
            && first.chars().count() <= 300
        {
            let title = first.trim().trim_start_matches('#').trim().to_string();
            let body = rest.trim_start_matches(['\n', '\r', ' ', '\t']);
            return (Some(title), body.to_string());
        }
    }
    (None, content.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_followed_by_blank_line_is_the_title() {
        let (title, body) = title_and_body("# A Title\n\nBody line.\nMore.");
        assert_eq!(title.as_deref(), Some("A Title"));
        assert_eq!(body, "Body line.\nMore.");
    }

    #[test]
    fn no_blank_line_means_no_title() {
        let (title, body) = title_and_body("Line one.\nLine two.");
        assert_eq!(title, None);
        assert_eq!(body, "Line one.\nLine two.");
    }
}
