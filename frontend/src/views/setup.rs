//! Account setup: address → guessed server, security, credentials, server policy, and a
//! "Test connection" step that reports what it found or exactly why it failed (the test and its
//! verdict in `connection_test.rs`). When the proxy wants an access code, the form offers a
//! field for it.

use crate::views::ErrorBanner;
use leptos::prelude::*;
use postbag_protocol::pop3::Secret;

use crate::account::form::{AccountForm, AfterDownload, security_from_value, security_value};
use crate::account::guess;
use crate::account::oauth::Grant;
use crate::model::{Model, keep, keep_oauth, session_access_code};
use crate::store::{Account, Security};
use crate::tunnel::AccessCode;
use crate::views::backup::RestorePanel;
use crate::views::compose_settings::SendingSettings;
use crate::views::connection_test::{TestVerdict, tested};
use crate::views::export::ExportPanel;
use crate::views::oauth::SignInWith;
use crate::views::rules::RulesPanel;

#[component]
pub fn Setup() -> impl IntoView {
    let model = expect_context::<Model>();
    let existing = model.editing.get_untracked();
    let start = AccountForm::new(existing.as_ref());
    let email = RwSignal::new(start.email);
    let host = RwSignal::new(start.host);
    let port = RwSignal::new(start.port);
    let security = RwSignal::new(start.security);
    let username = RwSignal::new(start.username);
    let after_download = RwSignal::new(start.after_download);
    // A new account's choice follows what the browser says about its storage until the user
    // picks one (`AfterDownload::default_for`); an existing account keeps its own.
    let picked_policy = RwSignal::new(existing.is_some());
    Effect::new(move |_| {
        let durable = model.durable.get();
        if !picked_policy.get_untracked() {
            after_download.set(AfterDownload::default_for(durable));
        }
    });
    let days = RwSignal::new(start.days);
    let keep_count = RwSignal::new(start.keep);
    let mirror = RwSignal::new(start.mirror_deletes);
    let pinned = RwSignal::new(start.pinned_sha256);
    let check_minutes = RwSignal::new(start.check_minutes);
    let size_limit = RwSignal::new(start.size_limit_mb);
    let password = RwSignal::new(String::new());
    // A "Sign in with …" finished in this form; an account that signs in so has no password.
    let grant = RwSignal::new(None::<Grant>);
    let signed_in_with = existing
        .as_ref()
        .and_then(|a| a.oauth.as_ref())
        .map(|o| o.name.clone());
    let oauth_account = {
        let had = signed_in_with.is_some();
        move || had || grant.with(Option::is_some)
    };
    let remember = RwSignal::new(false);
    let passphrase = RwSignal::new(String::new());
    let access_code = RwSignal::new(String::new());
    // Shown once the proxy asked for a code, or when this session already has one.
    let show_code = RwSignal::new(session_access_code().is_some());
    let note = RwSignal::new(None::<&'static str>);
    // "Test connection": log in, report, log out (`views/connection_test.rs`).
    let test = Action::new_local(
        move |(account, pw, code): &(Account, Secret<String>, Option<AccessCode>)| {
            let (account, pw, code) = (account.clone(), pw.clone(), code.clone());
            async move {
                let tested = tested(&account, pw, code).await;
                if let Err(ex) = &tested
                    && ex.asks_access_code
                {
                    show_code.set(true);
                }
                tested
            }
        },
    );
    let pending = Signal::from(test.pending());
    let value = Signal::derive(move || test.value().get());
    let error = RwSignal::new(None::<String>);
    let auto_host = RwSignal::new(String::new());

    // Everything the form holds, as one value (`account/form.rs`).
    let form = move || AccountForm {
        email: email.get_untracked(),
        host: host.get_untracked(),
        port: port.get_untracked(),
        security: security.get_untracked(),
        username: username.get_untracked(),
        after_download: after_download.get_untracked(),
        days: days.get_untracked(),
        keep: keep_count.get_untracked(),
        mirror_deletes: mirror.get_untracked(),
        pinned_sha256: pinned.get_untracked(),
        check_minutes: check_minutes.get_untracked(),
        size_limit_mb: size_limit.get_untracked(),
    };

    let on_email = move |_: leptos::ev::Event| {
        let Some(g) = guess(&email.get_untracked()) else {
            return;
        };
        // Only overwrite what the user did not type themselves.
        if host.get_untracked().is_empty() || host.get_untracked() == auto_host.get_untracked() {
            host.set(g.host.clone());
            auto_host.set(g.host);
            port.set(g.port.to_string());
            security.set(g.security);
        }
        if username.get_untracked().is_empty() || username.get_untracked().contains('@') {
            username.set(g.username);
        }
        note.set(g.note);
    };
    let on_security = move |ev| {
        let chosen = security_from_value(&event_target_value(&ev)).unwrap_or(Security::Tls);
        port.set(form().port_after(chosen));
        security.set(chosen);
    };
    let on_after_download = move |ev| {
        if let Some(chosen) = AfterDownload::from_value(&event_target_value(&ev)) {
            picked_policy.set(true);
            after_download.set(chosen);
        }
    };

    let build = move || -> Result<Account, String> {
        form()
            .to_account(model.editing.get_untracked().as_ref())
            .map_err(|e| e.to_string())
    };

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
        // Signed in here: the test logs in with the new access token.
        let (account, pw) = match grant.get_untracked() {
            Some(g) => (
                Account {
                    oauth: Some(g.client.login()),
                    ..account
                },
                g.tokens.access,
            ),
            None => (account, Secret::new(password.get_untracked())),
        };
        test.dispatch((account, pw, code));
    };

    // Keeps the credentials (sealed if asked), then stores the account and opens the mailbox.
    type Saving = (
        Account,
        Option<Secret<String>>,
        Option<AccessCode>,
        Option<String>,
    );
    let store_account = Action::new_local(move |(account, pw, code, phrase): &Saving| {
        let (mut account, pw, code, phrase) =
            (account.clone(), pw.clone(), code.clone(), phrase.clone());
        async move {
            let g = grant.get_untracked();
            if let Err(e) = keep_oauth(&mut account, g.as_ref(), phrase.as_deref()).await {
                return error.set(Some(e));
            }
            if let Err(e) = keep(&mut account, pw, code, phrase.as_deref()).await {
                return error.set(Some(e.to_string()));
            }
            if let Err(e) = model.save_account(account).await {
                error.set(Some(e));
            }
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (account, code) = match (build(), typed_code()) {
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
        let pw = (!pw.is_empty()).then(|| Secret::new(pw));
        store_account.dispatch((account, pw, code, remember_v.then_some(phrase)));
    };

    let trust = move |sha: String| {
        pinned.set(Some(sha));
        run_test();
    };

    view! {
        <main class="setup">
            <form class="card" on:submit=save novalidate>
                <h1>
                    {if model.editing.get_untracked().is_some() {
                        "Account settings"
                    } else {
                        "Add your mail account"
                    }}
                </h1>
                <p class="hint">
                    "Postbag downloads your mail over POP3 and keeps it in this browser."
                </p>
                <div class="field">
                    <label for="f-email">"Email address"</label>
                    <input
                        id="f-email"
                        type="email"
                        autocomplete="email"
                        required
                        bind:value=email
                        on:change=on_email
                    />
                </div>
                {move || note.get().map(|n| view! { <p class="hint">{n}</p> })}
                <div class="row">
                    <div class="field grow">
                        <label for="f-host">"Server"</label>
                        <input
                            id="f-host"
                            type="text"
                            autocomplete="off"
                            spellcheck="false"
                            bind:value=host
                        />
                    </div>
                    <div class="field port">
                        <label for="f-port">"Port"</label>
                        <input id="f-port" type="text" inputmode="numeric" bind:value=port />
                    </div>
                </div>
                <div class="field">
                    <label for="f-security">"Security"</label>
                    <select
                        id="f-security"
                        on:change=on_security
                        prop:value=move || security_value(security.get())
                    >
                        <option
                            value=security_value(Security::Tls)
                            prop:selected=move || security.get() == Security::Tls
                        >
                            "SSL/TLS (recommended)"
                        </option>
                        <option
                            value=security_value(Security::StartTls)
                            prop:selected=move || security.get() == Security::StartTls
                        >
                            "STARTTLS"
                        </option>
                        <option
                            value=security_value(Security::None)
                            prop:selected=move || security.get() == Security::None
                        >
                            "None (unencrypted)"
                        </option>
                    </select>
                </div>
                <Show when=move || security.get() == Security::None>
                    <p class="banner warn" role="alert">
                        "Without encryption, your password and your mail cross the network in plain text. Use this only on a network you trust."
                    </p>
                </Show>
                <div class="field">
                    <label for="f-user">"User name"</label>
                    <input
                        id="f-user"
                        type="text"
                        autocomplete="username"
                        spellcheck="false"
                        bind:value=username
                    />
                </div>
                <SignInWith email grant signed_in_with />
                <Show when=move || !oauth_account()>
                    <div class="field">
                        <label for="f-password">"Password or app password"</label>
                        <input
                            id="f-password"
                            type="password"
                            autocomplete="current-password"
                            bind:value=password
                        />
                    </div>
                </Show>
                <label class="check">
                    <input type="checkbox" bind:checked=remember />
                    "Remember the password on this device"
                </label>
                <Show
                    when=move || remember.get()
                    fallback=|| {
                        view! {
                            <p class="hint">
                                "The password is not stored: Postbag asks for it once per session."
                            </p>
                        }
                    }
                >
                    <div class="field">
                        <label for="f-passphrase">"Passphrase to encrypt the password"</label>
                        <input
                            id="f-passphrase"
                            type="password"
                            autocomplete="new-password"
                            bind:value=passphrase
                        />
                    </div>
                    <p class="hint">
                        "The password is stored encrypted (AES-GCM with a key derived from this passphrase by PBKDF2). The passphrase itself is never stored; you will type it once per session."
                    </p>
                </Show>
                <div class="field">
                    <label for="f-policy">"After download"</label>
                    <select
                        id="f-policy"
                        on:change=on_after_download
                        prop:value=move || after_download.get().value()
                    >
                        <option
                            value=AfterDownload::Delete.value()
                            prop:selected=move || after_download.get() == AfterDownload::Delete
                        >
                            "Delete from the server (POP default)"
                        </option>
                        <option
                            value=AfterDownload::Leave.value()
                            prop:selected=move || after_download.get() == AfterDownload::Leave
                        >
                            "Leave on the server"
                        </option>
                        <option
                            value=AfterDownload::LeaveForDays.value()
                            prop:selected=move || {
                                after_download.get() == AfterDownload::LeaveForDays
                            }
                        >
                            "Leave on the server, delete after some days"
                        </option>
                        <option
                            value=AfterDownload::KeepNewest.value()
                            prop:selected=move || {
                                after_download.get() == AfterDownload::KeepNewest
                            }
                        >
                            "Keep at most some messages on the server"
                        </option>
                    </select>
                </div>
                <Show when=move || {
                    after_download.get() != AfterDownload::Leave
                        && model.durable.get() != Some(true)
                }>
                    <div class="hint warn-hint" role="note" aria-label="Only copy">
                        "This browser has not promised to keep its storage: it may clear it when space runs low. Once the server deletes a message, the copy here is the only one, until you export your mail."
                        " "
                        <button type="button" class="link" on:click=move |_| model.keep_durable()>
                            "Keep mail durable"
                        </button>
                    </div>
                </Show>
                <Show when=move || after_download.get() == AfterDownload::LeaveForDays>
                    <div class="field">
                        <label for="f-days">"Days to keep on the server"</label>
                        <input id="f-days" type="text" inputmode="numeric" bind:value=days />
                    </div>
                </Show>
                <Show when=move || after_download.get() == AfterDownload::KeepNewest>
                    <div class="field">
                        <label for="f-keep">"Messages to keep on the server"</label>
                        <input id="f-keep" type="text" inputmode="numeric" bind:value=keep_count />
                        <p class="hint">
                            "The oldest beyond this number are deleted there once they are stored here."
                        </p>
                    </div>
                </Show>
                <Show when=move || after_download.get() != AfterDownload::Delete>
                    <label class="check">
                        <input type="checkbox" bind:checked=mirror />
                        "Delete on the server when I delete a message here"
                    </label>
                </Show>
                <div class="field">
                    <label for="f-check">"Check for new mail every (minutes)"</label>
                    <input
                        id="f-check"
                        type="text"
                        inputmode="numeric"
                        placeholder="only when I press Sync"
                        bind:value=check_minutes
                    />
                </div>
                <p class="hint">
                    "While Postbag is open. Empty: only when you press Sync. Postbag never logs in sooner than the server allows (LOGIN-DELAY)."
                </p>
                <div class="field">
                    <label for="f-size-limit">
                        "Download only the start of messages larger than (MB)"
                    </label>
                    <input
                        id="f-size-limit"
                        type="text"
                        inputmode="decimal"
                        placeholder="no limit"
                        bind:value=size_limit
                    />
                </div>
                <p class="hint">
                    "For slow or metered links. Larger messages arrive as their headers and first lines; \"Download the rest\" fetches the whole one when you want it. They stay on the server until then, whatever happens after download. Empty: every message whole."
                </p>
                {move || {
                    pinned
                        .get()
                        .map(|p| {
                            view! {
                                <p class="hint">
                                    "Trusted certificate (pinned): SHA-256 " <code>{p}</code> " "
                                    <button
                                        type="button"
                                        class="link"
                                        on:click=move |_| pinned.set(None)
                                    >
                                        "Remove pin"
                                    </button>
                                </p>
                            }
                        })
                }}
                <Show when=move || show_code.get()>
                    <div class="field">
                        <label for="f-access-code">"Access code"</label>
                        <input
                            id="f-access-code"
                            type="password"
                            autocomplete="off"
                            spellcheck="false"
                            bind:value=access_code
                        />
                    </div>
                    <p class="hint">
                        {move || {
                            if remember.get() {
                                "The code the administrator of this Postbag server gave you. Stored encrypted with the password."
                            } else {
                                "The code the administrator of this Postbag server gave you. Kept in memory for this session only."
                            }
                        }}
                    </p>
                </Show>
                <ErrorBanner error=error />
                <div class="actions">
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| run_test()
                        disabled=move || test.pending().get()
                    >
                        "Test connection"
                    </button>
                    <button type="submit" class="primary">
                        "Save account"
                    </button>
                    <Show when=move || model.accounts.with(|a| !a.is_empty())>
                        <button
                            type="button"
                            class="secondary"
                            on:click=move |_| model.close_settings()
                        >
                            "Cancel"
                        </button>
                    </Show>
                </div>
                <TestVerdict pending value pinned on_trust=Callback::new(trust) />
            </form>
            <Show when=move || model.editing.with(Option::is_some)>
                <ExportPanel />
                <SendingSettings />
                <RulesPanel />
            </Show>
            // An empty Postbag (a new browser or profile) may be restored instead of set up.
            <Show when=move || model.account.get().is_none()>
                <RestorePanel />
            </Show>
        </main>
    }
}
