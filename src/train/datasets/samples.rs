//! The bundled sample articles (`datasets/samples`): the seed op-ed and five Federalist essays.

use super::row::read_to_string;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Restores a Federalist essay from the corpus's tokenised markup: `<c>` comma, `<S>`
/// semicolon, `<p>` full stop, `<l>` line break, with punctuation re-attached. (Question marks
/// and paragraph breaks are not recoverable from the markup.)
pub fn restore_federalist(tokenised: &str) -> String {
    let mut out = String::new();
    for tok in tokenised.split_whitespace() {
        match tok {
            "<c>" => out.push(','),
            "<S>" => out.push(';'),
            "<p>" => out.push('.'),
            "<l>" => out.push('\n'),
            word => {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push(' ');
                }
                out.push_str(word);
            }
        }
    }
    out.lines().map(str::trim).collect::<Vec<_>>().join("\n\n")
}

/// Writes the sample articles: the seed op-ed and five Federalist essays.
pub fn write(seed: &Path, federalist_csv: &Path, out: &Path) -> Result<()> {
    let write = |name: &str, content: &str| -> Result<()> {
        let path = out.join(name);
        std::fs::write(&path, content).map_err(|source| Error::Write { path, source })
    };
    std::fs::create_dir_all(out).map_err(|source| Error::Write {
        path: out.to_path_buf(),
        source,
    })?;
    write("north-korea-oped.txt", &read_to_string(seed)?)?;
    let csv = read_to_string(federalist_csv)?;
    let mut essays = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let mut f = line.splitn(3, ',');
        if let (Some(num), Some(author), Some(text)) = (f.next(), f.next(), f.next()) {
            essays.insert(
                num.trim().parse::<u32>().unwrap_or(0),
                (author.to_string(), text.to_string()),
            );
        }
    }
    for num in [1, 10, 51, 70, 78] {
        if let Some((author, text)) = essays.get(&num) {
            let body = restore_federalist(text);
            let author = author.to_lowercase();
            let author: String = author
                .chars()
                .enumerate()
                .map(|(i, c)| if i == 0 { c.to_ascii_uppercase() } else { c })
                .collect();
            write(
                &format!("federalist-{num:02}.txt"),
                &format!("The Federalist No. {num}\n\n{author}\n\n{body}\n"),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn federalist_markup_is_restored() {
        let got = restore_federalist(
            "To the People <l> AFTER an experience <c> you are called <S> so <p> The end <p>",
        );
        assert_eq!(
            got,
            "To the People\n\nAFTER an experience, you are called; so. The end."
        );
    }
}
