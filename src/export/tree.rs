//! The terminal view of one article's graph (`argmine show`): the thesis at the root, each
//! sentence under the one it supports or attacks, with labels, confidences and word-wrapped
//! text; then the argumentative sentences left unattached, each with what hangs under it.

use crate::choice::{choice_traits, Choice};
use crate::types::{Label, MinedArticle, Relation, Sentence};
use std::collections::BTreeMap;

/// When to colour the labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    Auto,
    Always,
    Never,
}

impl Choice for Colour {
    const KIND: &'static str = "colour mode";
    const ALL: &'static [Colour] = &[Colour::Auto, Colour::Always, Colour::Never];

    fn name(self) -> &'static str {
        match self {
            Colour::Auto => "auto",
            Colour::Always => "always",
            Colour::Never => "never",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Colour::Auto => "colour when writing to a terminal and NO_COLOR is unset",
            Colour::Always => "always colour",
            Colour::Never => "never colour",
        }
    }
}

choice_traits!(Colour);

impl Colour {
    /// Whether to colour output that goes to a terminal (`terminal`) or elsewhere.
    pub fn enabled(self, terminal: bool) -> bool {
        match self {
            Colour::Always => true,
            Colour::Never => false,
            Colour::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// How to draw the tree.
#[derive(Debug, Clone, Copy)]
pub struct TreeStyle {
    /// Total line width in characters.
    pub width: usize,
    /// Colour labels with ANSI escape codes.
    pub colour: bool,
}

fn paint(style: TreeStyle, label: Label, text: &str) -> String {
    if !style.colour {
        return text.to_string();
    }
    let code = match label {
        Label::Claim => "34",          // blue
        Label::Evidence => "32",       // green
        Label::Recommendation => "33", // yellow
        Label::Other => "90",          // grey
    };
    format!("\x1b[1;{code}m{text}\x1b[0m")
}

/// Wraps `text` into lines of at most `width` characters (longer words stay whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Appends one node: its head line (tag, then wrapped text) behind `first`, continuation
/// lines behind `rest`.
fn node(
    out: &mut String,
    style: TreeStyle,
    first: &str,
    rest: &str,
    tag: &str,
    label: Label,
    text: &str,
) {
    let tag_len = tag.chars().count() + 1;
    let room = style.width.saturating_sub(rest.chars().count() + tag_len);
    for (k, line) in wrap(text, room).iter().enumerate() {
        if k == 0 {
            out.push_str(&format!("{first}{} {line}\n", paint(style, label, tag)));
        } else {
            out.push_str(&format!("{rest}{:tag_len$}{line}\n", ""));
        }
    }
}

fn tag(s: &Sentence, prefix: &str) -> String {
    format!("{prefix}[{} {:.2}]", s.label.name(), s.confidence)
}

/// Renders the graph of `article` as a tree.
pub fn render_tree(article: &MinedArticle, style: TreeStyle) -> String {
    let mut out = String::new();
    out.push_str(&format!("{}\n", article.id));
    if let Some(t) = &article.title {
        let tag = format!("title [{} {:.2}]", t.label.name(), t.confidence);
        node(&mut out, style, "", "", &tag, t.label, &t.text);
    }
    let Some(thesis) = article
        .graph
        .thesis
        .filter(|&t| t < article.sentences.len())
    else {
        out.push_str("no thesis: the article has no claim or recommendation\n");
        return out;
    };
    let mut children: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (k, e) in article.graph.edges.iter().enumerate() {
        children.entry(e.target).or_default().push(k);
    }
    let s = &article.sentences[thesis];
    let confidence = article.graph.thesis_confidence.unwrap_or(1.0);
    node(
        &mut out,
        style,
        "",
        "",
        &tag(s, &format!("THESIS {confidence:.2} ")),
        s.label,
        &s.text,
    );
    // guards against malformed input with cycles
    let mut seen = vec![false; article.sentences.len()];
    seen[thesis] = true;
    out.push_str(&render_subtree(
        article, style, &children, &mut seen, thesis, "",
    ));
    // argumentative sentences left unattached, each with what hangs under it
    let unattached: Vec<usize> = (0..article.sentences.len())
        .filter(|&i| {
            let s = &article.sentences[i];
            !seen[i]
                && !s.boilerplate
                && s.label.is_argumentative()
                && !article.graph.edges.iter().any(|e| e.source == i)
        })
        .collect();
    if !unattached.is_empty() {
        out.push_str("not attached to the thesis:\n");
    }
    for i in unattached {
        seen[i] = true;
        let s = &article.sentences[i];
        node(&mut out, style, "", "", &tag(s, ""), s.label, &s.text);
        out.push_str(&render_subtree(article, style, &children, &mut seen, i, ""));
    }
    out
}

/// The subtree under `parent`, drawn with `indent` before every line.
fn render_subtree(
    article: &MinedArticle,
    style: TreeStyle,
    children: &BTreeMap<usize, Vec<usize>>,
    seen: &mut [bool],
    parent: usize,
    indent: &str,
) -> String {
    let mut out = String::new();
    let kids: Vec<usize> = children.get(&parent).cloned().unwrap_or_default();
    for (n, &k) in kids.iter().enumerate() {
        let e = &article.graph.edges[k];
        if e.source >= seen.len() || seen[e.source] {
            continue;
        }
        seen[e.source] = true;
        let last = n + 1 == kids.len();
        let (branch, cont) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        let sign = match e.relation {
            Relation::Support => "+",
            Relation::Attack => "−",
        };
        let s = &article.sentences[e.source];
        node(
            &mut out,
            style,
            &format!("{indent}{branch}"),
            &format!("{indent}{cont}"),
            &tag(s, &format!("{sign}{} {:.2} ", e.relation, e.confidence)),
            s.label,
            &s.text,
        );
        let child_indent = format!("{indent}{cont}");
        out.push_str(&render_subtree(
            article,
            style,
            children,
            seen,
            e.source,
            &child_indent,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ArgumentGraph, Edge, ModelInfo, Scores};

    fn sentence(index: usize, label: Label, text: &str) -> Sentence {
        Sentence {
            index,
            start: index * 100,
            end: index * 100 + text.chars().count(),
            paragraph: 0,
            text: text.into(),
            label,
            confidence: 0.9,
            scores: Scores::certain(label),
            boilerplate: false,
        }
    }

    #[test]
    fn children_hang_under_their_targets_and_lines_wrap() {
        let article = MinedArticle {
            id: "a".into(),
            title: None,
            sentences: vec![
                sentence(0, Label::Claim, "The thesis."),
                sentence(
                    1,
                    Label::Claim,
                    "A claim that backs the thesis with quite a few words in it.",
                ),
                sentence(2, Label::Evidence, "Evidence for the claim."),
                sentence(3, Label::Claim, "An objection."),
            ],
            graph: ArgumentGraph {
                thesis: Some(0),
                thesis_confidence: Some(0.8),
                edges: vec![
                    Edge {
                        source: 1,
                        target: 0,
                        relation: Relation::Support,
                        confidence: 0.7,
                    },
                    Edge {
                        source: 2,
                        target: 1,
                        relation: Relation::Support,
                        confidence: 0.6,
                    },
                    Edge {
                        source: 3,
                        target: 0,
                        relation: Relation::Attack,
                        confidence: 0.5,
                    },
                ],
            },
            model: ModelInfo {
                name: "m".into(),
                revision: "r".into(),
            },
            meta: Default::default(),
        };
        let text = render_tree(
            &article,
            TreeStyle {
                width: 60,
                colour: false,
            },
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("THESIS 0.80 [claim 0.90] The thesis."));
        assert!(lines[2].starts_with("├─ +support 0.70 [claim 0.90] A claim"));
        assert!(lines[3].starts_with("│  "), "wrapped continuation: {text}");
        assert!(text.contains("│  └─ +support 0.60 [evidence 0.90] Evidence for the claim."));
        assert!(text.contains("└─ −attack 0.50 [claim 0.90] An objection."));
        assert!(lines.iter().all(|l| l.chars().count() <= 60), "{text}");
        let coloured = render_tree(
            &article,
            TreeStyle {
                width: 60,
                colour: true,
            },
        );
        assert!(coloured.contains("\x1b[1;34m"));
    }

    #[test]
    fn unattached_sentences_are_listed_after_the_tree_with_their_own_children() {
        let article = MinedArticle {
            id: "a".into(),
            title: None,
            sentences: vec![
                sentence(0, Label::Claim, "The thesis."),
                sentence(1, Label::Claim, "A side claim."),
                sentence(2, Label::Evidence, "Evidence for the side claim."),
                sentence(3, Label::Other, "Background."),
            ],
            graph: ArgumentGraph {
                thesis: Some(0),
                thesis_confidence: Some(0.8),
                edges: vec![Edge {
                    source: 2,
                    target: 1,
                    relation: Relation::Support,
                    confidence: 0.6,
                }],
            },
            model: ModelInfo {
                name: "m".into(),
                revision: "r".into(),
            },
            meta: Default::default(),
        };
        let style = TreeStyle {
            width: 80,
            colour: false,
        };
        let lines: Vec<String> = render_tree(&article, style)
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(
            lines[1..],
            [
                "THESIS 0.80 [claim 0.90] The thesis.",
                "not attached to the thesis:",
                "[claim 0.90] A side claim.",
                "└─ +support 0.60 [evidence 0.90] Evidence for the side claim.",
            ]
        );
    }
}
