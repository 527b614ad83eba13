//! From the greeting to the TRANSACTION state: CAPA, STLS, authentication.

use super::Client;
use crate::pop3::apop::apop_digest;
use crate::pop3::auth::{AuthContext, AuthMechanism};
use crate::pop3::capabilities::Capabilities;
use crate::pop3::error::{Pop3Error, ProtocolError, ServerError, Stage, UsageError};
use crate::pop3::event::Event;
use crate::pop3::framer::Collector;
use crate::pop3::status::{Status, parse_status};
use crate::sasl::{BadChallenge, SaslExchange};

/// Where the session is. Each variant holds what that phase needs and nothing else.
#[derive(Debug)]
pub(super) enum Phase {
    Greeting,
    /// CAPA sent; `lines` is `Some` once its `+OK` arrived.
    Capa {
        stage: CapaStage,
        lines: Option<Collector>,
    },
    /// STLS sent.
    StartTls,
    /// STLS accepted; waiting for the driver's `tls_started`.
    AwaitTls,
    /// USER sent.
    UserSent,
    /// PASS sent after USER was accepted.
    PassSent,
    /// APOP sent.
    ApopSent,
    /// AUTH sent; challenges are answered by the exchange.
    Sasl(SaslExchange, AuthMechanism),
    Transaction,
    Closed,
    Failed,
}

/// Which CAPA this is: they differ in what follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CapaStage {
    Initial,
    AfterTls,
    AfterAuth,
}

impl Phase {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Phase::Greeting => "greeting",
            Phase::Capa { .. } => "CAPA",
            Phase::StartTls | Phase::AwaitTls => "STLS",
            Phase::UserSent | Phase::PassSent | Phase::ApopSent | Phase::Sasl(..) => {
                "authentication"
            }
            Phase::Transaction => "transaction",
            Phase::Closed => "closed session",
            Phase::Failed => "failed session",
        }
    }
}

/// The `<...>` APOP timestamp of a greeting (RFC 1939 section 7), if present.
fn apop_timestamp(text: &str) -> Option<String> {
    let start = text.find('<')?;
    let end = start + text[start..].find('>')?;
    let stamp = &text[start..=end];
    // A real timestamp is a msg-id; refuse ones that could smuggle a line break or space.
    stamp
        .bytes()
        .all(|b| b.is_ascii_graphic())
        .then(|| stamp.to_string())
}

/// RFC 5034 section 4: an AUTH command with its initial response must fit in 255 octets;
/// longer responses (typically OAuth tokens) go in a continuation instead.
const MAX_AUTH_COMMAND: usize = 255;

/// Credentials go into command lines; a CR, LF or NUL would end or split the command.
fn line_safe(s: &str) -> bool {
    !s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

impl Client {
    pub(super) fn send_capa(&mut self, stage: CapaStage) {
        self.send(b"CAPA\r\n");
        self.phase = Phase::Capa { stage, lines: None };
    }

    pub(super) fn step_handshake(&mut self) -> Result<bool, Pop3Error> {
        // A CAPA body is collected, not read as a status line.
        if let Phase::Capa {
            stage,
            lines: Some(collector),
        } = &mut self.phase
        {
            let stage = *stage;
            let Some(lines) = collector.feed(
                &mut self.framer,
                self.config.max_line,
                self.config.max_reply,
            )?
            else {
                return Ok(false);
            };
            let lines: Vec<String> = lines
                .iter()
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect();
            let caps = Capabilities::parse(&lines);
            self.events.push_back(Event::Capabilities(caps.clone()));
            self.caps = Some(caps);
            self.after_capa(stage)?;
            return Ok(true);
        }
        let sasl = matches!(self.phase, Phase::Sasl(..));
        let Some(line) = self.line()? else {
            return Ok(false);
        };
        let status = parse_status(&line, sasl)?;
        match (std::mem::replace(&mut self.phase, Phase::Failed), status) {
            (Phase::Greeting, Status::Ok { text, .. }) => {
                self.apop_timestamp = apop_timestamp(&text);
                self.events.push_back(Event::Greeting {
                    apop_timestamp: self.apop_timestamp.clone(),
                    text,
                });
                self.send_capa(CapaStage::Initial);
            }
            (Phase::Greeting, Status::Err { code, text }) => {
                return Err(Pop3Error::Server(ServerError::new(
                    Stage::Greeting,
                    code,
                    &text,
                )));
            }
            (Phase::Capa { stage, .. }, Status::Ok { .. }) => {
                self.phase = Phase::Capa {
                    stage,
                    lines: Some(Collector::default()),
                };
            }
            // No CAPA (an RFC 1939-only server): keep what we knew and carry on without it.
            (Phase::Capa { stage, .. }, Status::Err { .. }) => {
                if stage != CapaStage::AfterAuth {
                    self.caps = None;
                }
                self.after_capa(stage)?;
            }
            (Phase::StartTls, Status::Ok { .. }) => {
                self.events.push_back(Event::StartTls);
                self.phase = Phase::AwaitTls;
                // Bytes already buffered behind the +OK would be interpreted as if they came
                // over TLS: the STARTTLS command injection class of bugs. Refuse them.
                if self.framer.buffered() > 0 {
                    return Err(ProtocolError::DataAfterStartTls.into());
                }
            }
            (Phase::StartTls, Status::Err { code, text }) => {
                return Err(Pop3Error::Server(ServerError::new(
                    Stage::StartTls,
                    code,
                    &text,
                )));
            }
            (Phase::UserSent, Status::Ok { .. }) => {
                let mut line = b"PASS ".to_vec();
                line.extend_from_slice(self.config.password.expose_secret().as_bytes());
                line.extend_from_slice(b"\r\n");
                self.send(&line);
                self.phase = Phase::PassSent;
            }
            (Phase::PassSent, Status::Ok { .. }) => self.authenticated(AuthMechanism::User),
            (Phase::ApopSent, Status::Ok { .. }) => self.authenticated(AuthMechanism::Apop),
            (Phase::Sasl(exchange, mechanism), Status::Ok { .. }) => {
                // SCRAM: a +OK before the server proved it knows the password is not trusted.
                exchange.finish().map_err(ProtocolError::from)?;
                self.authenticated(mechanism);
            }
            (Phase::Sasl(mut exchange, mechanism), Status::Continuation(challenge)) => {
                let user = self.config.user.clone();
                match exchange.respond(&challenge, &user, self.config.password.expose_secret()) {
                    Ok(response) => {
                        self.send(&response);
                        self.phase = Phase::Sasl(exchange, mechanism);
                    }
                    Err(why) => {
                        // RFC 5034: "*" cancels the exchange; the server answers -ERR, which
                        // nobody needs to read since the session ends here.
                        self.send(b"*\r\n");
                        return Err(match why {
                            BadChallenge::Malformed => ProtocolError::BadSaslChallenge,
                            BadChallenge::Scram(e) => ProtocolError::Scram(e),
                        }
                        .into());
                    }
                }
            }
            (
                Phase::UserSent | Phase::PassSent | Phase::ApopSent | Phase::Sasl(..),
                Status::Err { code, text },
            ) => {
                return Err(Pop3Error::Server(ServerError::new(
                    Stage::Authentication,
                    code,
                    &text,
                )));
            }
            (_, _) => return Err(ProtocolError::MalformedStatus.into()),
        }
        Ok(true)
    }

    /// Decides what follows a CAPA reply (or its absence).
    fn after_capa(&mut self, stage: CapaStage) -> Result<(), Pop3Error> {
        match stage {
            CapaStage::Initial if !self.encrypted && self.config.want_starttls => {
                // Without CAPA there is no way to know; STLS is tried and its -ERR is an error.
                if self.caps.as_ref().is_some_and(|c| !c.stls) {
                    return Err(Pop3Error::StartTlsUnavailable);
                }
                self.send(b"STLS\r\n");
                self.phase = Phase::StartTls;
                Ok(())
            }
            CapaStage::Initial | CapaStage::AfterTls => self.start_auth(),
            CapaStage::AfterAuth => {
                self.enter_transaction();
                Ok(())
            }
        }
    }

    fn enter_transaction(&mut self) {
        self.phase = Phase::Transaction;
        let caps = self.caps.as_ref();
        self.events.push_back(Event::Ready {
            login_delay: caps.and_then(|c| c.login_delay),
            expire: caps.and_then(|c| c.expire),
        });
    }

    fn start_auth(&mut self) -> Result<(), Pop3Error> {
        let mechanism = AuthContext {
            caps: self.caps.as_ref(),
            has_apop_timestamp: self.apop_timestamp.is_some(),
            encrypted: self.encrypted,
            allow_plaintext_password: self.config.allow_plaintext_password,
            scram_usable: self.config.scram_nonce.is_some()
                && crate::scram::credentials_usable(
                    &self.config.user,
                    self.config.password.expose_secret(),
                ),
        }
        .choose(self.config.auth)?;
        let user = self.config.user.clone();
        let secret = self.config.password.expose_secret().clone();
        if !line_safe(&user) || !line_safe(&secret) {
            return Err(UsageError::InvalidCredentials.into());
        }
        match mechanism {
            AuthMechanism::User => {
                self.send(format!("USER {user}\r\n").as_bytes());
                self.phase = Phase::UserSent;
            }
            AuthMechanism::Apop => {
                let stamp = self.apop_timestamp.clone().unwrap_or_default();
                self.send(format!("APOP {user} {}\r\n", apop_digest(&stamp, &secret)).as_bytes());
                self.phase = Phase::ApopSent;
            }
            _ => {
                let sasl = mechanism.sasl().expect("USER and APOP are handled above");
                let (exchange, line) = SaslExchange::start(
                    sasl,
                    &user,
                    &secret,
                    MAX_AUTH_COMMAND,
                    self.config.scram_nonce.as_deref(),
                )
                .map_err(UsageError::from)?;
                self.send(&line);
                self.phase = Phase::Sasl(exchange, mechanism);
            }
        }
        Ok(())
    }

    fn authenticated(&mut self, mechanism: AuthMechanism) {
        self.events.push_back(Event::Authenticated { mechanism });
        if self.caps.is_some() {
            // RFC 2449 section 5: after login CAPA may show per-user values (LOGIN-DELAY,
            // EXPIRE) and PIPELINING may change.
            self.send_capa(CapaStage::AfterAuth);
        } else {
            self.enter_transaction();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apop_timestamps() {
        assert_eq!(
            apop_timestamp("POP3 server ready <1896.697170952@dbc.mtview.ca.us>").as_deref(),
            Some("<1896.697170952@dbc.mtview.ca.us>")
        );
        assert_eq!(apop_timestamp("Dovecot ready."), None);
        assert_eq!(apop_timestamp("a <b c> d"), None);
        assert_eq!(apop_timestamp("a <unterminated"), None);
    }
}
