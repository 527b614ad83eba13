//! From the greeting to the ready state: EHLO (or HELO), STARTTLS, AUTH.

use super::Client;
use crate::sasl::{BadChallenge, SaslExchange, SaslMechanism};
use crate::smtp::auth::choose;
use crate::smtp::capabilities::Capabilities;
use crate::smtp::error::{ProtocolError, ServerError, SmtpError, Stage, UsageError};
use crate::smtp::event::Event;
use crate::smtp::reply::Reply;

/// RFC 4954 section 4: the AUTH command obeys the command line limit of RFC 5321 (512 octets
/// with CRLF); a longer initial response goes after an empty 334 challenge instead.
const MAX_AUTH_COMMAND: usize = 512;

/// Where the session is. Each variant holds what that phase needs and nothing else.
#[derive(Debug)]
pub(super) enum Phase {
    Greeting,
    /// EHLO sent.
    Ehlo,
    /// HELO sent after EHLO was refused as unknown.
    Helo,
    /// STARTTLS sent.
    StartTls,
    /// STARTTLS accepted; waiting for the driver's `tls_started`.
    AwaitTls,
    /// AUTH sent; challenges are answered by the exchange.
    Auth(SaslExchange, SaslMechanism),
    /// Mail transactions (see `mail.rs`), then QUIT.
    Ready,
    Closed,
    Failed,
}

impl Phase {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Phase::Greeting => "greeting",
            Phase::Ehlo | Phase::Helo => "EHLO",
            Phase::StartTls | Phase::AwaitTls => "STARTTLS",
            Phase::Auth(..) => "authentication",
            Phase::Ready => "mail transaction",
            Phase::Closed => "closed session",
            Phase::Failed => "failed session",
        }
    }

    fn stage(&self) -> Stage {
        match self {
            Phase::Greeting => Stage::Greeting,
            Phase::StartTls | Phase::AwaitTls => Stage::StartTls,
            Phase::Auth(..) => Stage::Auth,
            _ => Stage::Ehlo,
        }
    }
}

/// Credentials go into base64, but PLAIN separates them with NUL and a line break would end
/// the LOGIN exchange early: refuse them rather than send something else than asked.
fn line_safe(s: &str) -> bool {
    !s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

impl Client {
    pub(super) fn send_ehlo(&mut self) -> Result<(), SmtpError> {
        let domain = &self.config.client_domain;
        if domain.is_empty() || domain.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(UsageError::InvalidClientDomain.into());
        }
        let line = format!("EHLO {domain}\r\n");
        self.put(line.as_bytes());
        self.phase = Phase::Ehlo;
        Ok(())
    }

    pub(super) fn on_handshake_reply(&mut self, reply: Reply) -> Result<(), SmtpError> {
        let stage = self.phase.stage();
        if reply.code == 421 {
            return Err(self.closing(stage, reply));
        }
        let refused = |client: &Client, reply: Reply| {
            SmtpError::Server(ServerError::new(stage, reply, client.encrypted, None))
        };
        let negative = reply.code >= 400;
        match (
            std::mem::replace(&mut self.phase, Phase::Failed),
            reply.code,
        ) {
            (Phase::Greeting, 220) => {
                self.events
                    .push_back(Event::Greeting { text: reply.text() });
                self.send_ehlo()?;
            }
            (Phase::Ehlo, 200..=299) => {
                self.caps = Capabilities::parse(&reply);
                self.after_ehlo()?;
            }
            // RFC 5321 section 4.1.4: a server that does not know EHLO says 500 or 502, and
            // HELO may follow; but without EHLO there is neither STARTTLS nor AUTH, so only a
            // session that needs neither falls back.
            (Phase::Ehlo, 500 | 502)
                if self.config.credentials.is_none()
                    && (self.encrypted || !self.config.want_starttls) =>
            {
                let line = format!("HELO {}\r\n", self.config.client_domain);
                self.put(line.as_bytes());
                self.phase = Phase::Helo;
            }
            (Phase::Helo, 200..=299) => {
                self.caps = Capabilities::helo(&reply);
                self.after_ehlo()?;
            }
            (Phase::StartTls, 220) => {
                self.events.push_back(Event::StartTls);
                self.phase = Phase::AwaitTls;
                // Bytes already buffered behind the 220 would be read as if they came over
                // TLS: the STARTTLS command injection class of bugs. Refuse them.
                if self.reader.buffered() > 0 {
                    return Err(ProtocolError::DataAfterStartTls.into());
                }
            }
            (Phase::Auth(exchange, mechanism), 200..=299) => {
                // SCRAM: a success before the server proved it knows the password is not
                // trusted.
                exchange.finish().map_err(ProtocolError::from)?;
                self.events.push_back(Event::Authenticated { mechanism });
                self.enter_ready();
            }
            (Phase::Auth(mut exchange, mechanism), 334) => {
                let credentials = self
                    .config
                    .credentials
                    .as_ref()
                    .expect("AUTH needs a login");
                let challenge = reply.lines.first().map(String::as_str).unwrap_or("");
                match exchange.respond(
                    challenge,
                    &credentials.user,
                    credentials.password.expose_secret(),
                ) {
                    Ok(response) => {
                        self.put(&response);
                        self.phase = Phase::Auth(exchange, mechanism);
                    }
                    Err(why) => {
                        // RFC 4954 section 4: "*" cancels the exchange; the server answers
                        // 501, which nobody needs to read since the session ends here.
                        self.put(b"*\r\n");
                        return Err(match why {
                            BadChallenge::Malformed => ProtocolError::BadSaslChallenge,
                            BadChallenge::Scram(e) => ProtocolError::Scram(e),
                        }
                        .into());
                    }
                }
            }
            (_, _) if negative => return Err(refused(self, reply)),
            (phase, code) => {
                return Err(ProtocolError::UnexpectedReply {
                    code,
                    during: phase.name(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Decides what follows an EHLO (or HELO) reply.
    fn after_ehlo(&mut self) -> Result<(), SmtpError> {
        self.events
            .push_back(Event::Capabilities(self.caps.clone()));
        if !self.encrypted && self.config.want_starttls {
            if !self.caps.starttls {
                return Err(SmtpError::StartTlsUnavailable);
            }
            self.put(b"STARTTLS\r\n");
            self.phase = Phase::StartTls;
            return Ok(());
        }
        if self.config.credentials.is_some() {
            return self.start_auth();
        }
        self.enter_ready();
        Ok(())
    }

    fn start_auth(&mut self) -> Result<(), SmtpError> {
        let mechanism = choose(
            &self.caps,
            self.config.auth,
            self.encrypted,
            self.config.allow_plaintext_password,
            self.config.scram_nonce.is_some()
                && self.config.credentials.as_ref().is_some_and(|c| {
                    crate::scram::credentials_usable(&c.user, c.password.expose_secret())
                }),
        )?;
        let credentials = self.config.credentials.as_ref().expect("checked by caller");
        let secret = credentials.password.expose_secret();
        if !line_safe(&credentials.user) || !line_safe(secret) {
            return Err(UsageError::InvalidCredentials.into());
        }
        let (exchange, line) = SaslExchange::start(
            mechanism,
            &credentials.user,
            secret,
            MAX_AUTH_COMMAND,
            self.config.scram_nonce.as_deref(),
        )
        .map_err(UsageError::from)?;
        self.put(&line);
        self.phase = Phase::Auth(exchange, mechanism);
        Ok(())
    }

    fn enter_ready(&mut self) {
        self.phase = Phase::Ready;
        self.events.push_back(Event::Ready {
            capabilities: self.caps.clone(),
        });
    }
}
