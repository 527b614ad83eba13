//! A scripted POP3 server for the refusals Dovecot cannot be made to give on demand: a login
//! delay and a mailbox in use (RFC 2449 response codes). It is in addition to the real Dovecot,
//! never instead: it only answers the login, and how it answers depends on the user name.
//!
//! - user `delayed`: `PASS` gets `-ERR [LOGIN-DELAY] ...`
//! - user `busy`: `PASS` gets `-ERR [IN-USE] ...`
//! - user `expire0`: logged in to an empty mailbox; with the `EXPIRE 0` every user sees in
//!   `CAPA` (the server deletes mail once retrieved), that tests the app's warning
//! - anyone else: `PASS` gets `-ERR [AUTH] ...`
//!
//! Plain TCP only, on a free loopback port, one thread per connection; it lives as long as the
//! process that started it.
//!
//! [`mailbox`] is its hostile sibling: a whole mailbox whose messages misbehave on demand.

// A mailbox with scripted RETR behaviours, odd UIDLs, no CAPA, optional TLS (fetch, the proxy pin test).
pub mod mailbox;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};

/// Starts the server and returns its address.
pub fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the scripted POP3 server");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = serve(stream);
            });
        }
    });
    addr
}

fn serve(stream: TcpStream) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"+OK scripted POP3 ready\r\n")?;
    let mut user = String::new();
    let mut logged_in = false;
    let mut line = String::new();
    while lines.read_line(&mut line)? > 0 {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let arg = words.next().unwrap_or("").to_string();
        line.clear();
        let reply = match verb.as_str() {
            "CAPA" => "+OK\r\nUSER\r\nUIDL\r\nRESP-CODES\r\nLOGIN-DELAY 900\r\nEXPIRE 0\r\n.\r\n"
                .to_string(),
            "USER" => {
                user = arg;
                "+OK\r\n".to_string()
            }
            "PASS" => match user.as_str() {
                "delayed" => "-ERR [LOGIN-DELAY] wait 15 minutes between logins\r\n".into(),
                "busy" => "-ERR [IN-USE] the mailbox is locked by another session\r\n".into(),
                "expire0" => {
                    logged_in = true;
                    "+OK logged in\r\n".into()
                }
                _ => "-ERR [AUTH] invalid login\r\n".into(),
            },
            // Only `expire0` gets this far: an empty mailbox.
            "STAT" if logged_in => "+OK 0 0\r\n".to_string(),
            "UIDL" | "LIST" if logged_in => "+OK\r\n.\r\n".to_string(),
            "QUIT" => {
                out.write_all(b"+OK bye\r\n")?;
                return Ok(());
            }
            _ => "-ERR not scripted\r\n".to_string(),
        };
        out.write_all(reply.as_bytes())?;
    }
    Ok(())
}
