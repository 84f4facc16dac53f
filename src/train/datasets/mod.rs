//! Converters from the raw labelled corpora to argmine's sentence dataset, one JSON row per
//! unit ([`Row`]), and the bundled sample articles.
//!
//! | corpus | unit | mapping |
//! |---|---|---|
//! | CDCP (Park & Cardie 2018) | proposition | policy → recommendation; value → claim; fact, testimony, reference → evidence |
//! | IBM CE-EMNLP15 (Rinott et al. 2015) | article sentence | contains a claim → claim; inside or containing an evidence span → evidence; sampled unannotated sentences → other (weight 0.5); the recast topic serves as title |
//! | IBM motions (source `ibm-motions`) | motion, recast | "This house would X" → recommendation (marked synthetic) |
//! | argmine news-written | sentence and headline | labelled as written |
//! | Webis-Editorials-16 (Al-Khatib et al. 2016) | editorial sentence | the unit type covering most of the sentence: assumption → claim, or recommendation when it prescribes; anecdote, testimony, statistics → evidence; common-ground → claim; no unit → other |
//!
//! Official test splits stay test (CDCP `test/`, IBM held-out topics). Dev is carved from
//! train by document with a stable hash of the document id, so it never shares a document with
//! train. Webis has no official split: its editorials are split by portal into test, dev and
//! train ([`webis`]).
//!
//! One file per corpus: [`cdcp`], [`ibm`], [`webis`] (real news editorials), [`written`]
//! (articles labelled sentence by sentence: argmine's news-written articles and the Webis
//! editorials), and [`samples`] for the bundled sample articles; [`row`] holds the row type
//! they all produce.

pub mod cdcp;
pub mod ibm;
pub mod row;
pub mod samples;
pub mod webis;
pub mod written;

pub use row::{read_rows, write_jsonl, Row, RowContext, RowLink, Split};
