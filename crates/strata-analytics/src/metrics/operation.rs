//! The store operations analytics time and count.

use serde::Serialize;

/// A store operation.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// `get` and `get_now`.
    Get,
    /// `get_many`.
    GetMany,
    /// `set`.
    Set,
    /// `set_many`.
    SetMany,
    /// `delete`.
    Delete,
    /// `expire`.
    Expire,
    /// `ttl`.
    Ttl,
    /// `increment`.
    Increment,
    /// `scan`.
    Scan,
    /// `invalidate`.
    Invalidate,
    /// `explain`.
    Explain,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 11] = [
        Operation::Get,
        Operation::GetMany,
        Operation::Set,
        Operation::SetMany,
        Operation::Delete,
        Operation::Expire,
        Operation::Ttl,
        Operation::Increment,
        Operation::Scan,
        Operation::Invalidate,
        Operation::Explain,
    ];

    /// The name used in metrics and spans (`get`, `set_many`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Get => "get",
            Operation::GetMany => "get_many",
            Operation::Set => "set",
            Operation::SetMany => "set_many",
            Operation::Delete => "delete",
            Operation::Expire => "expire",
            Operation::Ttl => "ttl",
            Operation::Increment => "increment",
            Operation::Scan => "scan",
            Operation::Invalidate => "invalidate",
            Operation::Explain => "explain",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}
