//! Stage 2 (with segmentation): flag page furniture — "Related Publications" lists,
//! share/subscribe/cookie lines, bylines, captions and credits — so it is labelled `other` and
//! kept out of the graph.
//!
//! Two kinds of rule, both on whole sentences:
//! - a *block heading* ("Related Publications", "Read more", "More from Opinion", …) standing
//!   alone on its line starts a trailing block: it and everything after it is furniture, the
//!   way such lists sit under the body of a scraped page;
//! - a *line rule* flags a single sentence: a byline, a share or newsletter prompt, a cookie or
//!   copyright notice, a photo credit, or a line with no letters at all.

/// Decides, for each sentence of an article, whether it is page furniture.
#[derive(Debug, Clone, Default)]
pub struct BoilerplateDetector;

/// Headings that open a trailing list of links. Compared case-insensitively with the whole
/// sentence, with a trailing colon removed.
const BLOCK_HEADINGS: &[&str] = &[
    "related publications",
    "related articles",
    "related stories",
    "related content",
    "related posts",
    "related reading",
    "related",
    "read more",
    "read next",
    "more on this topic",
    "more stories",
    "recommended",
    "recommended for you",
    "you may also like",
    "you might also like",
    "most popular",
    "most read",
    "trending",
    "latest news",
    "further reading",
    "see also",
    "share this article",
    "comments",
];

/// Prefixes (lower-case) of single furniture lines.
const LINE_PREFIXES: &[&str] = &[
    "share this",
    "share on",
    "subscribe",
    "sign up",
    "follow us",
    "click here",
    "advertisement",
    "photo:",
    "photo by",
    "image:",
    "image credit",
    "credit:",
    "caption:",
    "copyright",
    "©",
    "all rights reserved",
    "this article was originally",
    "we use cookies",
    "this site uses cookies",
    "this website uses cookies",
    "accept cookies",
    "get the latest",
    "download the app",
    "listen to this article",
    "print this page",
    "email this",
];

impl BoilerplateDetector {
    /// `sentences` are the texts of an article's sentences in order; `standalone[i]` tells
    /// whether sentence `i` is a whole paragraph (alone on its line).
    pub fn detect(&self, sentences: &[&str], standalone: &[bool]) -> Vec<bool> {
        let mut flags = vec![false; sentences.len()];
        if let Some(block) =
            (0..sentences.len()).find(|&i| standalone[i] && i > 0 && is_block_heading(sentences[i]))
        {
            flags[block..].iter_mut().for_each(|f| *f = true);
        }
        for (i, s) in sentences.iter().enumerate() {
            if is_furniture_line(s) || (standalone[i] && i < 4 && is_byline(s)) {
                flags[i] = true;
            }
        }
        flags
    }
}

fn normalise(s: &str) -> String {
    s.trim()
        .trim_end_matches([':', '.', '»', '›', '>'])
        .trim()
        .to_lowercase()
}

fn is_block_heading(s: &str) -> bool {
    let n = normalise(s);
    // "More from Opinion", "More from Asia Pacific": a short section name may follow.
    BLOCK_HEADINGS.contains(&n.as_str()) || (n.starts_with("more from ") && n.len() < 40)
}

fn is_furniture_line(s: &str) -> bool {
    if !s.chars().any(char::is_alphabetic) {
        return true;
    }
    let n = s.trim().to_lowercase();
    LINE_PREFIXES.iter().any(|p| n.starts_with(p))
}

/// "By Jane Doe", "Mitch Shin", "Jane Doe and John Roe, Reuters": a short line of capitalised
/// words with no sentence punctuation, standing alone near the top of the article.
fn is_byline(s: &str) -> bool {
    let s = s.trim();
    let s = s
        .strip_prefix("By ")
        .or_else(|| s.strip_prefix("by "))
        .unwrap_or(s);
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.is_empty() || words.len() > 6 || s.ends_with(['.', '!', '?', ':']) {
        return false;
    }
    let connective = |w: &str| matches!(w, "and" | "&" | "de" | "van" | "von" | "der" | "la");
    words.iter().all(|w| {
        connective(w) || w.chars().next().is_some_and(char::is_uppercase) && !w.contains(':')
    }) && words.iter().filter(|w| !connective(w)).count() >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn related_block_flags_everything_after_it() {
        let s = [
            "Body claim.",
            "More body.",
            "Related Publications",
            "-",
            "Some title",
            "Teaser.",
        ];
        let standalone = [false, false, true, true, true, false];
        let flags = BoilerplateDetector.detect(&s, &standalone);
        assert_eq!(flags, [false, false, true, true, true, true]);
    }

    #[test]
    fn byline_near_top_is_furniture_but_a_sentence_is_not() {
        let s = [
            "Mitch Shin",
            "Introduction:",
            "North Korea Is Testing Missiles.",
        ];
        let flags = BoilerplateDetector.detect(&s, &[true, true, true]);
        assert_eq!(flags, [true, false, false]);
    }

    #[test]
    fn share_and_cookie_lines_are_furniture() {
        let s = [
            "Share this article on Facebook",
            "We use cookies to improve your experience.",
            "Taxes rose.",
        ];
        let flags = BoilerplateDetector.detect(&s, &[true, true, false]);
        assert_eq!(flags, [true, true, false]);
    }

    #[test]
    fn a_heading_in_running_text_does_not_start_a_block() {
        let s = ["Body claim.", "Related", "Body continues."];
        let flags = BoilerplateDetector.detect(&s, &[false, false, false]);
        assert_eq!(flags, [false, false, false]);
    }
}
