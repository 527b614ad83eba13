//! A wrapper for passwords and tokens whose `Debug` never prints the value.

use std::fmt;

/// A secret value (password, OAuth token). `Debug` prints a redaction, so a secret that ends
/// up in a log line or a panic message does not leak. There is deliberately no `Display`, and no
/// `Serialize`; `Deserialize` reads one from a configuration file (the proxy's access token).
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// Gives access to the value. Named loudly so that every use is easy to find in review.
    pub fn expose_secret(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2".to_string());
        let printed = format!("{s:?} {:#?}", s);
        assert!(!printed.contains("hunter2"), "{printed}");
        assert_eq!(s.expose_secret(), "hunter2");
    }
}
