//! Extended response codes (RFC 2449 section 8, RFC 3206, RFC 6856): `-ERR [IN-USE] ...`.

use std::fmt;

/// A response code in square brackets at the start of a status line's text.
///
/// Codes are hierarchical (`SYS/TEMP`); unknown codes are kept verbatim in [`ResponseCode::Other`]
/// so that a caller can still show or log them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponseCode {
    /// `[IN-USE]`: another session holds the mailbox lock (RFC 2449).
    InUse,
    /// `[LOGIN-DELAY]`: the user logged in too recently (RFC 2449).
    LoginDelay,
    /// `[SYS/TEMP]`: a temporary system failure; retrying later may work (RFC 3206).
    SysTemp,
    /// `[SYS/PERM]`: a permanent system failure; retrying will not help (RFC 3206).
    SysPerm,
    /// `[AUTH]`: the credentials were wrong (RFC 3206).
    Auth,
    /// `[UTF8]`: the command needs UTF8 mode (RFC 6856).
    Utf8,
    /// Any other code, as sent (without the brackets), e.g. `SYS/TEMP/DISK`.
    Other(String),
}

impl ResponseCode {
    /// Classifies the text between the brackets. Matching is case-insensitive, and a known
    /// code with a deeper, unknown sub-level (`SYS/TEMP/FOO`) stays unknown: only the exact
    /// codes of the RFCs are interpreted.
    pub fn parse(code: &str) -> ResponseCode {
        match code.to_ascii_uppercase().as_str() {
            "IN-USE" => ResponseCode::InUse,
            "LOGIN-DELAY" => ResponseCode::LoginDelay,
            "SYS/TEMP" => ResponseCode::SysTemp,
            "SYS/PERM" => ResponseCode::SysPerm,
            "AUTH" => ResponseCode::Auth,
            "UTF8" => ResponseCode::Utf8,
            _ => ResponseCode::Other(code.to_string()),
        }
    }

    /// Splits `"[CODE] text"` into the code and the rest. Text without a well-formed code
    /// (no closing bracket, spaces inside) is returned whole with no code.
    pub fn split(text: &str) -> (Option<ResponseCode>, &str) {
        let Some(rest) = text.strip_prefix('[') else {
            return (None, text);
        };
        let Some(end) = rest.find(']') else {
            return (None, text);
        };
        let code = &rest[..end];
        // RFC 2449: resp-level = 1*rchar, rchar = ALPHA / DIGIT / "-"; levels joined by "/".
        let well_formed = !code.is_empty()
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/');
        if !well_formed {
            return (None, text);
        }
        let after = rest[end + 1..].trim_start_matches(' ');
        (Some(ResponseCode::parse(code)), after)
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ResponseCode::InUse => "IN-USE",
            ResponseCode::LoginDelay => "LOGIN-DELAY",
            ResponseCode::SysTemp => "SYS/TEMP",
            ResponseCode::SysPerm => "SYS/PERM",
            ResponseCode::Auth => "AUTH",
            ResponseCode::Utf8 => "UTF8",
            ResponseCode::Other(s) => s,
        };
        write!(f, "[{s}]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, code: Option<ResponseCode>, rest: &str) {
        assert_eq!(ResponseCode::split(text), (code, rest), "{text:?}");
    }

    #[test]
    fn known_and_unknown_codes() {
        use ResponseCode::*;
        check(
            "[IN-USE] Do you have another POP session running?",
            Some(InUse),
            "Do you have another POP session running?",
        );
        check("[LOGIN-DELAY] wait", Some(LoginDelay), "wait");
        check("[SYS/TEMP] try later", Some(SysTemp), "try later");
        check("[SYS/PERM] gone", Some(SysPerm), "gone");
        check(
            "[AUTH] Authentication failed.",
            Some(Auth),
            "Authentication failed.",
        );
        check("[utf8] lower case", Some(Utf8), "lower case");
        check(
            "[SYS/TEMP/DISK] full",
            Some(Other("SYS/TEMP/DISK".into())),
            "full",
        );
        check("[X-VENDOR]", Some(Other("X-VENDOR".into())), "");
    }

    #[test]
    fn not_a_code() {
        check("no code here", None, "no code here");
        check("[unterminated", None, "[unterminated");
        check("[has space] x", None, "[has space] x");
        check("[] empty", None, "[] empty");
    }

    #[test]
    fn display_round_trips() {
        for c in ["IN-USE", "SYS/TEMP", "X-FOO"] {
            let text = format!("[{c}] t");
            let (code, _) = ResponseCode::split(&text);
            assert_eq!(code.unwrap().to_string(), format!("[{c}]"));
        }
    }
}
