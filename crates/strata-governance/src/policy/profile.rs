//! Environment profiles: development, staging and production override parts of a policy.

use std::fmt;
use std::str::FromStr;

/// A deployment environment whose overrides a policy applies.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// A developer's machine.
    Development,
    /// Pre-production.
    Staging,
    /// Production.
    Production,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 3] = [Profile::Development, Profile::Staging, Profile::Production];

    /// The name configuration uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            Profile::Development => "development",
            Profile::Staging => "staging",
            Profile::Production => "production",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Profile {
    type Err = String;

    /// Case-insensitive; also `dev`, `stage` and `prod`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Profile::Development),
            "staging" | "stage" => Ok(Profile::Staging),
            "production" | "prod" => Ok(Profile::Production),
            _ => Err(format!(
                "unknown profile {s:?}; use development, staging or production"
            )),
        }
    }
}
