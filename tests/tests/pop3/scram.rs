//! SCRAM against Dovecot: Auto picks SCRAM-SHA-256 when the client has a nonce, also for a user
//! whose passwd-file entry is a SCRAM-SHA-256 hash (the server never saw the password), and
//! Dovecot's log names the method; a wrong password is a typed AuthFailed.

use super::support::*;

const NONCE: &str = "dGVzdC1ub25jZS0xMjM0NTY3OA";

#[test]
fn auto_logs_in_with_scram_sha_256_for_a_scram_hashed_user() {
    let dovecot = Dovecot::start();
    let user = dovecot.new_scram_user();
    dovecot.deliver(&user, &messages::plain(1));
    for transport in [Transport::StartTls, Transport::Implicit, Transport::Plain] {
        let mut session = Login::new(&dovecot, &user)
            .transport(transport)
            .scram_nonce(NONCE)
            .ok();
        assert_eq!(
            session.mechanism,
            AuthMechanism::ScramSha256,
            "{transport:?}"
        );
        assert!(matches!(
            exec(&mut session, &[Command::Stat])[..],
            [Reply::Stat { count: 1, .. }]
        ));
        assert!(session.quit().unwrap());
    }
    let log = dovecot.log();
    assert!(
        log.contains(&format!("user=<{}>, method=SCRAM-SHA-256", user.name)),
        "Dovecot's log shows no SCRAM-SHA-256 login:\n{log}"
    );
    // The same user cannot use CRAM-MD5, which is what Auto would pick without a nonce.
    let err = Login::new(&dovecot, &user)
        .password(&user.password)
        .unwrap_err();
    match err {
        DriverError::Pop3(e) => {
            assert_eq!(e.server_kind(), Some(ServerErrorKind::AuthFailed), "{e}")
        }
        other => panic!("{other}"),
    }
}

#[test]
fn scram_sha_1_and_a_wrong_password() {
    let dovecot = Dovecot::start();
    let user = dovecot.new_user();
    let session = Login::new(&dovecot, &user)
        .auth(AuthPolicy::ScramSha1)
        .scram_nonce(NONCE)
        .ok();
    assert_eq!(session.mechanism, AuthMechanism::ScramSha1);
    assert!(
        dovecot.log().contains("method=SCRAM-SHA-1"),
        "{}",
        dovecot.log()
    );
    let scram_user = dovecot.new_scram_user();
    let err = Login::new(&dovecot, &scram_user)
        .scram_nonce(NONCE)
        .password("not-the-password")
        .unwrap_err();
    match err {
        DriverError::Pop3(e) => {
            assert_eq!(e.server_kind(), Some(ServerErrorKind::AuthFailed), "{e}")
        }
        other => panic!("{other}"),
    }
}
