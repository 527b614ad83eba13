//! Account setup: address → guessed server, security, credentials, server policy, and a
//! "Test connection" step that reports what it found or exactly why it failed. When the proxy
//! wants an access code, the form offers a field for it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use postbag_protocol::pop3::{AuthMechanism, Secret};

use crate::account::guess;
use crate::model::{Model, Screen, keep, session_access_code, test_connection};
use crate::store::{Account, Security, ServerPolicy};
use crate::sync::{Explained, Session, explain};
use crate::tunnel::AccessCode;
use crate::views::export::ExportPanel;

#[derive(Clone, Debug, PartialEq)]
enum TestState {
    None,
    Running,
    Ok(Vec<(String, String)>),
    Failed(Explained),
}

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

fn security_value(s: Security) -> &'static str {
    match s {
        Security::Tls => "tls",
        Security::StartTls => "starttls",
        Security::None => "none",
    }
}

#[component]
pub fn Setup() -> impl IntoView {
    let model = expect_context::<Model>();
    let existing = model.account.get_untracked();
    let e = existing.clone();
    let email = RwSignal::new(e.as_ref().map(|a| a.email.clone()).unwrap_or_default());
    let host = RwSignal::new(e.as_ref().map(|a| a.host.clone()).unwrap_or_default());
    let port = RwSignal::new(
        e.as_ref()
            .map(|a| a.port.to_string())
            .unwrap_or_else(|| "995".into()),
    );
    let security = RwSignal::new(
        e.as_ref()
            .map(|a| security_value(a.security))
            .unwrap_or("tls")
            .to_string(),
    );
    let username = RwSignal::new(e.as_ref().map(|a| a.username.clone()).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let remember = RwSignal::new(false);
    let passphrase = RwSignal::new(String::new());
    let access_code = RwSignal::new(String::new());
    // Shown once the proxy asked for a code, or when this session already has one.
    let show_code = RwSignal::new(session_access_code().is_some());
    let (policy0, days0, mirror0) = match e.as_ref().map(|a| a.policy).unwrap_or_default() {
        ServerPolicy::DeleteAfterDownload => ("delete", 14, false),
        ServerPolicy::Leave {
            after_days: None,
            mirror_deletes,
        } => ("leave", 14, mirror_deletes),
        ServerPolicy::Leave {
            after_days: Some(d),
            mirror_deletes,
        } => ("days", d, mirror_deletes),
    };
    let policy = RwSignal::new(policy0.to_string());
    let days = RwSignal::new(days0.to_string());
    let mirror = RwSignal::new(mirror0);
    let pinned = RwSignal::new(e.as_ref().and_then(|a| a.pinned_sha256.clone()));
    let note = RwSignal::new(None::<&'static str>);
    let test = RwSignal::new(TestState::None);
    // The verdict (and a "Trust this certificate" button) appears below the buttons, which on
    // a laptop screen is below the fold: bring it into view once the test has finished.
    let result_ref = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        let finished = matches!(test.get(), TestState::Ok(_) | TestState::Failed(_));
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
    let error = RwSignal::new(None::<String>);
    let auto_host = RwSignal::new(String::new());

    let on_email = move |_: leptos::ev::Event| {
        let Some(g) = guess(&email.get_untracked()) else {
            return;
        };
        // Only overwrite what the user did not type themselves.
        if host.get_untracked().is_empty() || host.get_untracked() == auto_host.get_untracked() {
            host.set(g.host.clone());
            auto_host.set(g.host);
            port.set(g.port.to_string());
            security.set(security_value(g.security).into());
        }
        if username.get_untracked().is_empty() || username.get_untracked().contains('@') {
            username.set(g.username);
        }
        note.set(g.note);
    };
    let on_security = move |ev| {
        let v = event_target_value(&ev);
        let p = port.get_untracked();
        if p == "995" || p == "110" || p.is_empty() {
            port.set(if v == "tls" { "995" } else { "110" }.into());
        }
        security.set(v);
    };

    let build = move || -> Result<Account, String> {
        let email_v = email.get_untracked().trim().to_string();
        if !email_v.contains('@') {
            return Err("Enter an e-mail address.".into());
        }
        let host_v = host.get_untracked().trim().to_string();
        if host_v.is_empty() {
            return Err("Enter the POP3 server name.".into());
        }
        let port_v: u16 = port
            .get_untracked()
            .trim()
            .parse()
            .map_err(|_| "The port must be a number from 1 to 65535.")?;
        let security_v = match security.get_untracked().as_str() {
            "starttls" => Security::StartTls,
            "none" => Security::None,
            _ => Security::Tls,
        };
        let days_v: u32 = days
            .get_untracked()
            .trim()
            .parse()
            .map_err(|_| "Days must be a number.")?;
        let policy_v = match policy.get_untracked().as_str() {
            "leave" => ServerPolicy::Leave {
                after_days: None,
                mirror_deletes: mirror.get_untracked(),
            },
            "days" => ServerPolicy::Leave {
                after_days: Some(days_v),
                mirror_deletes: mirror.get_untracked(),
            },
            _ => ServerPolicy::DeleteAfterDownload,
        };
        let user_v = username.get_untracked().trim().to_string();
        Ok(Account {
            id: existing
                .as_ref()
                .map(|a| a.id.clone())
                .unwrap_or_else(|| email_v.to_lowercase()),
            email: email_v,
            host: host_v,
            port: port_v,
            security: security_v,
            username: if user_v.is_empty() {
                email.get_untracked()
            } else {
                user_v
            },
            policy: policy_v,
            pinned_sha256: pinned.get_untracked(),
            sealed_password: existing.as_ref().and_then(|a| a.sealed_password.clone()),
            sending: existing.as_ref().and_then(|a| a.sending.clone()),
        })
    };
    let build2 = build.clone();

    // The code typed here, else none (`Ok(None)`): an empty field keeps the session's code.
    let typed_code = move || -> Result<Option<AccessCode>, String> {
        let typed = access_code.get_untracked();
        if typed.trim().is_empty() {
            return Ok(None);
        }
        AccessCode::parse(&typed)
            .map(Some)
            .map_err(|e| e.to_string())
    };

    let run_test = move || {
        let (account, code) = match (build(), typed_code()) {
            (Ok(a), Ok(c)) => (a, c.or_else(session_access_code)),
            (Err(e), _) | (_, Err(e)) => return error.set(Some(e)),
        };
        error.set(None);
        test.set(TestState::Running);
        let pw = Secret::new(password.get_untracked());
        spawn_local(async move {
            test.set(match test_connection(&account, pw, code).await {
                Ok(s) => TestState::Ok(report(&s)),
                Err(e) => {
                    let ex = explain(&e);
                    if ex.asks_access_code {
                        show_code.set(true);
                    }
                    TestState::Failed(ex)
                }
            });
        });
    };
    let run_test2 = run_test.clone();

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (mut account, code) = match (build2(), typed_code()) {
            (Ok(a), Ok(c)) => (a, c),
            (Err(e), _) | (_, Err(e)) => return error.set(Some(e)),
        };
        let pw = password.get_untracked();
        let (remember_v, phrase) = (remember.get_untracked(), passphrase.get_untracked());
        if remember_v && phrase.chars().count() < 8 {
            return error.set(Some(
                "Choose a passphrase of at least 8 characters to remember the password.".into(),
            ));
        }
        spawn_local(async move {
            let pw = (!pw.is_empty()).then(|| Secret::new(pw));
            let phrase = remember_v.then_some(phrase);
            if let Err(e) = keep(&mut account, pw, code, phrase.as_deref()).await {
                return error.set(Some(e.to_string()));
            }
            if let Err(e) = model.save_account(account).await {
                error.set(Some(e));
            }
        });
    };

    let trust = move |sha: String| {
        pinned.set(Some(sha));
        run_test2();
    };

    view! {
        <main class="setup">
            <form class="card" on:submit=save novalidate>
                <h1>{if model.account.get_untracked().is_some() { "Account settings" } else { "Add your mail account" }}</h1>
                <p class="hint">"Postbag downloads your mail over POP3 and keeps it in this browser."</p>
                <div class="field"><label for="f-email">"Email address"</label>
                    <input id="f-email" type="email" autocomplete="email" required bind:value=email on:change=on_email/>
                </div>
                {move || note.get().map(|n| view! { <p class="hint">{n}</p> })}
                <div class="row">
                    <div class="field grow"><label for="f-host">"Server"</label>
                        <input id="f-host" type="text" autocomplete="off" spellcheck="false" bind:value=host/>
                    </div>
                    <div class="field port"><label for="f-port">"Port"</label>
                        <input id="f-port" type="text" inputmode="numeric" bind:value=port/>
                    </div>
                </div>
                <div class="field"><label for="f-security">"Security"</label>
                    <select id="f-security" on:change=on_security prop:value=move || security.get()>
                        <option value="tls" prop:selected=move || security.get() == "tls">"SSL/TLS (recommended)"</option>
                        <option value="starttls" prop:selected=move || security.get() == "starttls">"STARTTLS"</option>
                        <option value="none" prop:selected=move || security.get() == "none">"None (unencrypted)"</option>
                    </select>
                </div>
                <Show when=move || security.get() == "none">
                    <p class="banner warn" role="alert">"Without encryption, your password and your mail cross the network in plain text. Use this only on a network you trust."</p>
                </Show>
                <div class="field"><label for="f-user">"User name"</label>
                    <input id="f-user" type="text" autocomplete="username" spellcheck="false" bind:value=username/>
                </div>
                <div class="field"><label for="f-password">"Password or app password"</label>
                    <input id="f-password" type="password" autocomplete="current-password" bind:value=password/>
                </div>
                <label class="check">
                    <input type="checkbox" bind:checked=remember/>
                    "Remember the password on this device"
                </label>
                <Show
                    when=move || remember.get()
                    fallback=|| view! { <p class="hint">"The password is not stored: Postbag asks for it once per session."</p> }
                >
                    <div class="field"><label for="f-passphrase">"Passphrase to encrypt the password"</label>
                        <input id="f-passphrase" type="password" autocomplete="new-password" bind:value=passphrase/>
                    </div>
                    <p class="hint">"The password is stored encrypted (AES-GCM with a key derived from this passphrase by PBKDF2). The passphrase itself is never stored; you will type it once per session."</p>
                </Show>
                <div class="field"><label for="f-policy">"After download"</label>
                    <select id="f-policy" on:change=move |ev| policy.set(event_target_value(&ev)) prop:value=move || policy.get()>
                        <option value="delete" prop:selected=move || policy.get() == "delete">"Delete from the server (POP default)"</option>
                        <option value="leave" prop:selected=move || policy.get() == "leave">"Leave on the server"</option>
                        <option value="days" prop:selected=move || policy.get() == "days">"Leave on the server, delete after some days"</option>
                    </select>
                </div>
                <Show when=move || policy.get() == "days">
                    <div class="field"><label for="f-days">"Days to keep on the server"</label>
                        <input id="f-days" type="text" inputmode="numeric" bind:value=days/>
                    </div>
                </Show>
                <Show when=move || policy.get() != "delete">
                    <label class="check">
                        <input type="checkbox" bind:checked=mirror/>
                        "Delete on the server when I delete a message here"
                    </label>
                </Show>
                {move || pinned.get().map(|p| view! {
                    <p class="hint">"Trusted certificate (pinned): SHA-256 " <code>{p}</code></p>
                })}
                <Show when=move || show_code.get()>
                    <div class="field"><label for="f-access-code">"Access code"</label>
                        <input id="f-access-code" type="password" autocomplete="off" spellcheck="false" bind:value=access_code/>
                    </div>
                    <p class="hint">{move || if remember.get() {
                        "The code the administrator of this Postbag server gave you. Stored encrypted with the password."
                    } else {
                        "The code the administrator of this Postbag server gave you. Kept in memory for this session only."
                    }}</p>
                </Show>
                {move || error.get().map(|e| view! { <p class="banner error" role="alert">{e}</p> })}
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| run_test()
                        disabled=move || test.get() == TestState::Running>"Test connection"</button>
                    <button type="submit" class="primary">"Save account"</button>
                    <Show when=move || model.account.get().is_some()>
                        <button type="button" class="secondary" on:click=move |_| model.screen.set(Screen::Mailbox)>"Cancel"</button>
                    </Show>
                </div>
                <section class="test-result" role="status" aria-label="Connection test" node_ref=result_ref>
                    {move || match test.get() {
                        TestState::None => ().into_any(),
                        TestState::Running => view! { <p>"Testing the connection…"</p> }.into_any(),
                        TestState::Ok(rows) => view! {
                            <p class="ok">"Connection works."</p>
                            <dl>{rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}</dl>
                        }.into_any(),
                        TestState::Failed(ex) => {
                            let cert = ex.certificate.clone();
                            let trust = trust.clone();
                            view! {
                                <p class="banner error">{ex.message.clone()}</p>
                                {cert.map(|c| {
                                    let sha = c.sha256.clone();
                                    view! {
                                        <div class="pin">
                                            <p>"If you know this server uses a self-signed certificate, compare the fingerprint with the one your provider gave you before trusting it."</p>
                                            <dl><dt>"Subject"</dt><dd>{c.subject.clone()}</dd><dt>"SHA-256"</dt><dd><code>{c.sha256.clone()}</code></dd></dl>
                                            <button type="button" class="secondary" on:click=move |_| trust(sha.clone())>"Trust this certificate"</button>
                                        </div>
                                    }
                                })}
                            }.into_any()
                        }
                    }}
                </section>
            </form>
            <Show when=move || model.account.get().is_some()>
                <ExportPanel/>
            </Show>
        </main>
    }
}
