//! Classification metrics: per-class precision/recall/F1, macro-F1 over the classes present
//! in the gold labels, the confusion matrix and expected calibration error.

use crate::types::{Label, Scores};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassMetrics {
    pub label: Label,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of gold examples.
    pub support: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Metrics {
    pub examples: usize,
    pub accuracy: f64,
    pub classes: Vec<ClassMetrics>,
    /// Mean F1 over the classes that occur in the gold labels.
    pub macro_f1: f64,
    /// `confusion[gold][predicted]`, in [`Label::ALL`] order.
    pub confusion: [[usize; 4]; 4],
    /// Expected calibration error of the top prediction, 15 equal-width bins.
    pub ece: f64,
}

/// Precision, recall and F1 of predicted links (source, target) against gold links.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct LinkMetrics {
    pub gold: usize,
    pub predicted: usize,
    pub correct: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl LinkMetrics {
    /// Adds one document's counts and updates the ratios.
    pub fn add(&mut self, gold: usize, predicted: usize, correct: usize) {
        self.gold += gold;
        self.predicted += predicted;
        self.correct += correct;
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        self.precision = ratio(self.correct, self.predicted);
        self.recall = ratio(self.correct, self.gold);
        let sum = self.precision + self.recall;
        self.f1 = if sum > 0.0 {
            2.0 * self.precision * self.recall / sum
        } else {
            0.0
        };
    }
}

/// Scores predictions against gold labels.
pub fn evaluate(gold: &[Label], predicted: &[Scores]) -> Metrics {
    assert_eq!(gold.len(), predicted.len(), "one prediction per gold label");
    let mut confusion = [[0usize; 4]; 4];
    const BINS: usize = 15;
    let mut bins = [(0usize, 0f64, 0f64); BINS]; // (count, confidence sum, correct sum)
    for (g, p) in gold.iter().zip(predicted) {
        let (label, conf) = p.best();
        confusion[g.index()][label.index()] += 1;
        let b = ((conf as f64 * BINS as f64) as usize).min(BINS - 1);
        bins[b].0 += 1;
        bins[b].1 += conf as f64;
        bins[b].2 += f64::from(u8::from(label == *g));
    }
    let n = gold.len();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let classes: Vec<ClassMetrics> = Label::ALL
        .iter()
        .map(|&l| {
            let i = l.index();
            let tp = confusion[i][i];
            let predicted: usize = (0..4).map(|g| confusion[g][i]).sum();
            let support: usize = confusion[i].iter().sum();
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassMetrics {
                label: l,
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    let present: Vec<&ClassMetrics> = classes.iter().filter(|c| c.support > 0).collect();
    let macro_f1 = if present.is_empty() {
        0.0
    } else {
        present.iter().map(|c| c.f1).sum::<f64>() / present.len() as f64
    };
    let correct: usize = (0..4).map(|i| confusion[i][i]).sum();
    let ece = bins
        .iter()
        .filter(|b| b.0 > 0)
        .map(|&(count, conf, acc)| (count as f64 / n as f64) * ((acc - conf) / count as f64).abs())
        .sum();
    Metrics {
        examples: n,
        accuracy: ratio(correct, n),
        classes,
        macro_f1,
        confusion,
        ece,
    }
}

impl std::fmt::Display for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<15} {:>9} {:>9} {:>9} {:>9}",
            "class", "precision", "recall", "f1", "support"
        )?;
        for c in &self.classes {
            writeln!(
                f,
                "{:<15} {:>9.3} {:>9.3} {:>9.3} {:>9}",
                c.label.name(),
                c.precision,
                c.recall,
                c.f1,
                c.support
            )?;
        }
        writeln!(
            f,
            "macro-F1 {:.4} (classes present)   accuracy {:.4}   ECE {:.4}   n={}",
            self.macro_f1, self.accuracy, self.ece, self.examples
        )?;
        writeln!(f, "confusion (rows gold, columns predicted):")?;
        write!(f, "{:<15}", "")?;
        for l in Label::ALL {
            write!(f, " {:>14}", l.name())?;
        }
        writeln!(f)?;
        for l in Label::ALL {
            write!(f, "{:<15}", l.name())?;
            for c in self.confusion[l.index()] {
                write!(f, " {c:>14}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_counts_only_classes_present() {
        let gold = [Label::Claim, Label::Claim, Label::Evidence, Label::Evidence];
        let p = |l: Label| Scores::certain(l);
        let pred = [
            p(Label::Claim),
            p(Label::Evidence),
            p(Label::Evidence),
            p(Label::Evidence),
        ];
        let m = evaluate(&gold, &pred);
        // claim: P=1 R=.5 F=.667; evidence: P=.667 R=1 F=.8; macro over 2 classes
        assert!((m.macro_f1 - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-9);
        assert_eq!(m.confusion[0], [1, 1, 0, 0]);
        assert!((m.accuracy - 0.75).abs() < 1e-9);
        // certain predictions, 3 of 4 right: ECE = |0.75 - 1.0|
        assert!((m.ece - 0.25).abs() < 1e-9);
    }
}

/// Sentence-boundary agreement: a boundary is the end offset of a sentence.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BoundaryMetrics {
    pub gold_sentences: usize,
    pub predicted_sentences: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Share of gold sentences reproduced exactly (same start and end).
    pub exact_sentences: f64,
}

/// Compares predicted `(start, end)` spans with gold spans over the same texts.
pub fn boundary_metrics(
    gold: &[Vec<(usize, usize)>],
    predicted: &[Vec<(usize, usize)>],
) -> BoundaryMetrics {
    let (mut g_total, mut p_total, mut hits, mut exact) = (0, 0, 0, 0);
    for (g, p) in gold.iter().zip(predicted) {
        let p_ends: std::collections::HashSet<usize> = p.iter().map(|s| s.1).collect();
        let p_spans: std::collections::HashSet<&(usize, usize)> = p.iter().collect();
        g_total += g.len();
        p_total += p.len();
        hits += g.iter().filter(|s| p_ends.contains(&s.1)).count();
        exact += g.iter().filter(|s| p_spans.contains(s)).count();
    }
    let precision = hits as f64 / p_total.max(1) as f64;
    let recall = hits as f64 / g_total.max(1) as f64;
    BoundaryMetrics {
        gold_sentences: g_total,
        predicted_sentences: p_total,
        precision,
        recall,
        f1: if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        },
        exact_sentences: exact as f64 / g_total.max(1) as f64,
    }
}
