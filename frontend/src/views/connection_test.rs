//! "Test connection" in the setup form: the test itself (log in, report, log out), what it
//! found as rows to show, or why it failed in the user's words, with the certificate the user
//! may trust (pin) when its verification failed.

use leptos::prelude::*;
use postbag_protocol::pop3::{AuthMechanism, Secret};

use crate::account::expire_warning;
use crate::model::test_connection;
use crate::store::Account;
use crate::sync::{Credential, Explained, Session, explain_for};
use crate::tunnel::AccessCode;

/// What the connection test found: the rows to show, or why it failed.
pub type Tested = Result<Vec<(String, String)>, Explained>;

fn report(s: &Session) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    match &s.tls {
        Some(t) => {
            let version = t.protocol.replace("TLSv1_", "TLS 1.");
            rows.push(("Encryption".into(), format!("{version} ({})", t.cipher)));
            rows.push((
                "Certificate".into(),
                format!(
                    "{} — {:?}, SHA-256 {}",
                    t.certificate.subject, t.verification, t.certificate.sha256
                ),
            ));
        }
        None => rows.push((
            "Encryption".into(),
            "none: the password and mail cross the network readable".into(),
        )),
    }
    if let Some(c) = &s.capabilities {
        let mut methods: Vec<String> = c.sasl.clone();
        if c.user {
            methods.push("USER/PASS".into());
        }
        rows.push(("Login methods offered".into(), methods.join(", ")));
        rows.push((
            "Pipelining".into(),
            if c.pipelining {
                "yes".into()
            } else {
                "no".into()
            },
        ));
        if let Some(imp) = &c.implementation {
            rows.push(("Server".into(), imp.clone()));
        }
        if let Some(note) = crate::sync::identity_note(c) {
            rows.push(("Message identity".into(), note));
        }
    }
    if let Some(m) = &s.mechanism {
        // The methods by the names RFC 1939 and the SASL registry give them ("APOP", not the
        // Rust variant's "Apop").
        let name = match m {
            AuthMechanism::User => "USER/PASS",
            AuthMechanism::Apop => "APOP",
            other => other.sasl_name().unwrap_or("SASL"),
        };
        rows.push(("Logged in with".into(), name.to_string()));
    }
    if let Some(d) = s.login_delay {
        rows.push(("Login delay".into(), format!("{d} seconds between logins")));
    }
    if let (Some(n), Some(size)) = (s.count, s.size) {
        rows.push((
            "Mailbox".into(),
            format!("{n} messages, {}", crate::mail::human_size(size)),
        ));
    }
    rows
}

/// Tests `account` with `pw` (and the proxy's access `code`): the rows, with a warning when the
/// server keeps mail for less time than the policy being set up expects, or why it failed.
pub async fn tested(account: &Account, pw: Secret<String>, code: Option<AccessCode>) -> Tested {
    match test_connection(account, pw, code).await {
        Ok(s) => {
            let mut rows = report(&s);
            // The policy being set up against what the server says it keeps.
            let expire = s.capabilities.as_ref().and_then(|c| c.expire);
            if let Some(w) = expire_warning(&account.policy, expire) {
                rows.push(("Warning".into(), w));
            }
            Ok(rows)
        }
        Err(e) => Err(explain_for(&e, Credential::of(account))),
    }
}

/// The test's verdict below the form's buttons: "Testing…", the rows, or the failure with the
/// certificate to compare and trust (`on_trust` pins it and tests again).
#[component]
pub fn TestVerdict(
    pending: Signal<bool>,
    value: Signal<Option<Tested>>,
    pinned: RwSignal<Option<String>>,
    on_trust: Callback<String>,
) -> impl IntoView {
    // The verdict (and a "Trust this certificate" button) appears below the buttons, which on
    // a laptop screen is below the fold: bring it into view once the test has finished.
    let result_ref = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        let finished = value.with(Option::is_some) && !pending.get();
        if let (true, Some(el)) = (finished, result_ref.get_untracked()) {
            // After this tick's rendering, so that the section already holds the verdict.
            gloo_timers::callback::Timeout::new(0, move || {
                let opts = web_sys::ScrollIntoViewOptions::new();
                opts.set_block(web_sys::ScrollLogicalPosition::Nearest);
                el.scroll_into_view_with_scroll_into_view_options(&opts);
            })
            .forget();
        }
    });

    view! {
        <section class="test-result" role="status" aria-label="Connection test" node_ref=result_ref>
            {move || match (pending.get(), value.get()) {
                (true, _) => view! { <p>"Testing the connection…"</p> }.into_any(),
                (false, None) => ().into_any(),
                (false, Some(Ok(rows))) => {
                    view! {
                        <p class="ok">"Connection works."</p>
                        <dl>
                            {rows
                                .into_iter()
                                .map(|(k, v)| {
                                    view! {
                                        <dt>{k}</dt>
                                        <dd>{v}</dd>
                                    }
                                })
                                .collect_view()}
                        </dl>
                    }
                        .into_any()
                }
                (false, Some(Err(ex))) => {
                    let cert = ex.certificate.clone();
                    view! {
                        <p class="banner error">{ex.message.clone()}</p>
                        {cert
                            .map(|c| {
                                let sha = c.sha256.clone();
                                let old = pinned.get_untracked().filter(|p| *p != sha);
                                // `old`: a pin that no longer matches, as the server's
                                // certificate changed; shown beside the new one.
                                view! {
                                    <div class="pin">
                                        {old
                                            .map(|old| {
                                                view! {
                                                    <p class="banner warn" role="alert">
                                                        "The server's certificate changed. Pinned until now: SHA-256 "
                                                        <code>{old}</code>
                                                        "; the server now shows the one below."
                                                    </p>
                                                }
                                            })}
                                        <p>
                                            "If you know this server uses a self-signed certificate, compare the fingerprint with the one your provider gave you before trusting it."
                                        </p> <dl>
                                            <dt>"Subject"</dt>
                                            <dd>{c.subject.clone()}</dd>
                                            <dt>"SHA-256"</dt>
                                            <dd>
                                                <code>{c.sha256.clone()}</code>
                                            </dd>
                                        </dl>
                                        <button
                                            type="button"
                                            class="secondary"
                                            on:click=move |_| on_trust.run(sha.clone())
                                        >
                                            "Trust this certificate"
                                        </button>
                                    </div>
                                }
                            })}
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
