//! The library's pipeline driven directly, with a segmenter of the caller's own.

mod common;

use argmine::encode::Backend;
use argmine::model::Model;
use argmine::segment::{Segmenter, Span};
use argmine::{Article, Pipeline, PipelineOptions, Record};

/// One sentence per non-empty line, each line its own paragraph.
struct Lines;

impl Segmenter for Lines {
    fn segment(&self, text: &str) -> Vec<Span> {
        let mut spans = Vec::new();
        let (mut byte, mut chars) = (0, 0);
        for (paragraph, line) in text.split('\n').enumerate() {
            let n = line.chars().count();
            if !line.trim().is_empty() {
                spans.push(Span {
                    start: chars,
                    end: chars + n,
                    byte_start: byte,
                    byte_end: byte + line.len(),
                    paragraph,
                });
            }
            byte += line.len() + 1;
            chars += n + 1;
        }
        spans
    }
}

#[test]
fn a_segmenter_of_the_callers_own_decides_the_sentences() {
    let model = Model::load(&common::repo("models/argmine-minilm"), Backend::Candle).unwrap();
    let pipeline = Pipeline::new(model, PipelineOptions::default())
        .unwrap()
        .with_segmenter(Box::new(Lines));
    let lines = [
        "Roads in the city are failing. Repairs now cost less than rebuilding later.",
        "The council should double the repair budget.",
    ];
    let article = Article {
        id: "roads".into(),
        title: None,
        text: lines.join("\n"),
        meta: Default::default(),
    };
    let Record::Mined(mined) = pipeline.mine(article) else {
        panic!("the article is mined");
    };
    let sentences: Vec<(&str, usize, usize)> = mined
        .sentences
        .iter()
        .map(|s| (s.text.as_str(), s.start, s.paragraph))
        .collect();
    assert_eq!(
        sentences,
        [
            (lines[0], 0, 0),
            (lines[1], lines[0].chars().count() + 1, 1)
        ]
    );
}
