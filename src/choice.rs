//! The enums a user picks from by name: encoder backends, export formats, dataset splits,
//! evaluation tasks and colour modes. Each lists its values and names once, in its
//! [`Choice`] impl; `FromStr` and `Display` go through it, so the command line, the Python
//! bindings and error messages agree on the names.

/// An enum whose values are chosen by name.
pub trait Choice: Copy + 'static {
    /// What the values are called in messages ("backend", "format", …).
    const KIND: &'static str;
    /// Every value, in the order to list them.
    const ALL: &'static [Self];
    /// The name a user types.
    fn name(self) -> &'static str;
    /// One line on what the value means, for help listings.
    fn help(self) -> &'static str;

    /// The value called `name`.
    fn parse(name: &str) -> Result<Self, UnknownChoice> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.name() == name)
            .ok_or_else(|| UnknownChoice {
                kind: Self::KIND,
                given: name.to_string(),
                expected: Self::ALL
                    .iter()
                    .map(|v| v.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// A name that is none of a [`Choice`]'s values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{given}`; expected one of {expected}")]
pub struct UnknownChoice {
    pub kind: &'static str,
    pub given: String,
    /// The valid names, comma-separated.
    pub expected: String,
}

/// `FromStr` and `Display` through a type's [`Choice`] impl.
macro_rules! choice_traits {
    ($t:ty) => {
        impl std::str::FromStr for $t {
            type Err = $crate::choice::UnknownChoice;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$t as $crate::choice::Choice>::parse(s)
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::choice::Choice::name(*self))
            }
        }
    };
}
pub(crate) use choice_traits;
