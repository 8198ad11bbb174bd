//! Keeping passwords out of logs, errors and `Debug` output.

use std::fmt;

/// A password: shown as `***` by `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// `url` with the password of its user-info part replaced by `***`
/// (`redis://user:pw@host` → `redis://user:***@host`).
pub(crate) fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    let user = userinfo.split(':').next().unwrap_or("");
    let shown = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        // `redis://secret@host` puts the password where a user would go.
        "***".to_owned()
    };
    format!("{}{}@{}", &url[..scheme_end + 3], shown, &rest[at + 1..])
}

/// `text` with every occurrence of `secret` replaced by `***` (error messages from the client
/// may echo a URL).
pub(crate) fn scrub(text: &str, secret: Option<&Secret>) -> String {
    match secret {
        Some(s) if !s.expose().is_empty() => text.replace(s.expose(), "***"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            redact_url("redis://app:hunter2@127.0.0.1:6379/0"),
            "redis://app:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url("redis://:hunter2@127.0.0.1:6379"),
            "redis://:***@127.0.0.1:6379"
        );
        assert_eq!(redact_url("redis://hunter2@h"), "redis://***@h");
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "***");
        assert_eq!(
            scrub("auth hunter2 failed", Some(&Secret::new("hunter2"))),
            "auth *** failed"
        );
    }
}
