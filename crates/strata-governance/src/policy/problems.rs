//! Validation problems: every one found, each with the path of the field at fault.

use std::fmt;

use strata_core::Error;

/// One thing wrong with a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where: `rules.curves.floor`, `namespaces.orders`, `STRATA_CACHE_CURVES_TTL`, ...
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Every problem found while loading or validating a policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// Records a problem.
    pub(crate) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing is wrong, else an [`ErrorKind::InvalidConfig`] error listing
    /// every problem.
    ///
    /// [`ErrorKind::InvalidConfig`]: strata_core::ErrorKind::InvalidConfig
    pub fn into_result(self) -> strata_core::Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid_config(self.to_string()))
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the governance policy has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            write!(f, "\n  - {}: {}", p.path, p.message)?;
        }
        Ok(())
    }
}
