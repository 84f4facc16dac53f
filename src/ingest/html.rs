//! HTML pages: the readable body text and the `<title>`, parsed with `scraper` (html5ever).
//!
//! Script, style, navigation, header, footer, aside, form and embedded content are dropped.
//! When the page has an `<article>` (or else a `<main>`) element, only its text is kept, as
//! that is where publishers put the story. Block elements (paragraphs, headings, list items,
//! table rows, `<br>`) end a line, so the segmenter sees the page's paragraph structure. A
//! headline that repeats the title at the top of the body is dropped from the text.

use crate::types::Article;
use scraper::{ElementRef, Html, Node, Selector};

const DROPPED: &[&str] = &[
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg",
    "template", "button", "select", "head",
];

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "table",
    "tr",
    "figure",
    "figcaption",
    "br",
    "hr",
    "body",
];

/// Extracts an article from an HTML document.
pub fn html_to_article(id: String, html: &str) -> Article {
    let doc = Html::parse_document(html);
    let select = |css: &str| {
        Selector::parse(css)
            .ok()
            .and_then(|s| doc.select(&s).next())
    };
    let title = select("title")
        .or_else(|| select("h1"))
        .map(|t| collapse_spaces(&t.text().collect::<String>()))
        .filter(|t| !t.is_empty());
    let root = select("article")
        .or_else(|| select("main"))
        .or_else(|| select("body"))
        .unwrap_or_else(|| doc.root_element());
    let mut raw = String::new();
    collect_text(root, &mut raw);
    let mut lines: Vec<String> = raw
        .lines()
        .map(collapse_spaces)
        .filter(|l| !l.is_empty())
        .collect();
    // A headline repeated at the top of the body is the title, not a sentence of the text.
    if lines
        .first()
        .is_some_and(|first| Some(first) == title.as_ref())
    {
        lines.remove(0);
    }
    let text = lines.join("\n\n");
    Article {
        id,
        title,
        text,
        meta: Default::default(),
    }
}

fn collect_text(element: ElementRef, out: &mut String) {
    for child in element.children() {
        match child.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if DROPPED.contains(&name) {
                    continue;
                }
                let block = BLOCKS.contains(&name);
                if block {
                    out.push('\n');
                }
                if let Some(el) = ElementRef::wrap(child) {
                    collect_text(el, out);
                }
                if block {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_article_text_and_drops_furniture() {
        let html = r#"<html><head><title>Fix the Roads</title><style>p{}</style></head>
            <body><nav>Home | News</nav><article><h1>Fix the Roads</h1>
            <p>The city must act.   Potholes  cost money.</p><script>var x=1;</script>
            <ul><li>First point</li><li>Second point</li></ul></article>
            <footer>Copyright</footer></body></html>"#;
        let a = html_to_article("p".into(), html);
        assert_eq!(a.title.as_deref(), Some("Fix the Roads"));
        assert_eq!(
            a.text,
            "The city must act. Potholes cost money.\n\nFirst point\n\nSecond point"
        );
    }
}
