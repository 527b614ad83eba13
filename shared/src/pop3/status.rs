//! Status lines: `+OK text`, `-ERR [CODE] text`, and SASL continuations `+ base64`.

use super::error::ProtocolError;
use super::response_code::ResponseCode;

/// One parsed reply line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Ok {
        code: Option<ResponseCode>,
        text: String,
    },
    Err {
        code: Option<ResponseCode>,
        text: String,
    },
    /// `+ challenge` during SASL (RFC 5034); the text is the raw base64.
    Continuation(String),
}

/// Parses a status line (line end already removed). Indicators are matched case-insensitively
/// because real servers vary; continuations are only recognised when `sasl` is true, since
/// outside an AUTH exchange a `+ ` line is a broken server, not a challenge.
pub(crate) fn parse_status(line: &[u8], sasl: bool) -> Result<Status, ProtocolError> {
    let text = String::from_utf8_lossy(line);
    let (indicator, rest) = match text.find(' ') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (&text[..], ""),
    };
    if indicator.eq_ignore_ascii_case("+OK") {
        let (code, rest) = ResponseCode::split(rest);
        Ok(Status::Ok {
            code,
            text: rest.to_string(),
        })
    } else if indicator.eq_ignore_ascii_case("-ERR") {
        let (code, rest) = ResponseCode::split(rest);
        Ok(Status::Err {
            code,
            text: rest.to_string(),
        })
    } else if sasl && indicator == "+" {
        Ok(Status::Continuation(rest.trim().to_string()))
    } else {
        Err(ProtocolError::MalformedStatus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, sasl: bool, expected: Result<Status, ProtocolError>) {
        assert_eq!(parse_status(line.as_bytes(), sasl), expected, "{line:?}");
    }

    fn ok(text: &str) -> Result<Status, ProtocolError> {
        Ok(Status::Ok {
            code: None,
            text: text.into(),
        })
    }

    #[test]
    fn rfc1939_examples() {
        check(
            "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
            false,
            ok("POP3 server ready <1896.697170952@dbc.mtview.ca.us>"),
        );
        check("+OK 2 320", false, ok("2 320"));
        check("+OK", false, ok(""));
        check(
            "-ERR no such message, only 2 messages in maildrop",
            false,
            Ok(Status::Err {
                code: None,
                text: "no such message, only 2 messages in maildrop".into(),
            }),
        );
        check("+ok lower case", false, ok("lower case"));
    }

    #[test]
    fn codes_rfc2449_rfc3206() {
        check(
            "-ERR [IN-USE] Do you have another POP session running?",
            false,
            Ok(Status::Err {
                code: Some(ResponseCode::InUse),
                text: "Do you have another POP session running?".into(),
            }),
        );
        check(
            "-ERR [AUTH] Authentication failed.",
            false,
            Ok(Status::Err {
                code: Some(ResponseCode::Auth),
                text: "Authentication failed.".into(),
            }),
        );
        check(
            "+OK [X-FOO] yes",
            false,
            Ok(Status::Ok {
                code: Some(ResponseCode::Other("X-FOO".into())),
                text: "yes".into(),
            }),
        );
    }

    #[test]
    fn continuations_only_in_sasl() {
        check(
            "+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
            true,
            Ok(Status::Continuation(
                "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+".into(),
            )),
        );
        check("+ ", true, Ok(Status::Continuation(String::new())));
        check("+", true, Ok(Status::Continuation(String::new())));
        check("+ abc", false, Err(ProtocolError::MalformedStatus));
        check("* OK imap?", false, Err(ProtocolError::MalformedStatus));
        check("+OKAY", false, Err(ProtocolError::MalformedStatus));
        check("", false, Err(ProtocolError::MalformedStatus));
    }
}
