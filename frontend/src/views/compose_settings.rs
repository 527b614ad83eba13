//! Settings, Sending: the From name and address and the submission server of the account,
//! filled with defaults from the POP3 account and the provider table until saved.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::compose::DEFAULT_MAX_BYTES;
use crate::model::{Outgoing, default_sending};
use crate::store::{Security, Sending};

#[component]
pub fn SendingSettings() -> impl IntoView {
    let Some(out) = use_context::<Outgoing>() else {
        return ().into_any();
    };
    let Some(account) = out.account.get_untracked() else {
        return ().into_any();
    };
    let s = account
        .sending
        .clone()
        .unwrap_or_else(|| default_sending(&account));
    let name = RwSignal::new(s.name.clone());
    let address = RwSignal::new(s.address.clone());
    let host = RwSignal::new(s.host.clone());
    let port = RwSignal::new(s.port.to_string());
    let security = RwSignal::new(
        match s.security {
            Security::Tls => "implicit",
            Security::StartTls => "starttls",
            Security::None => "none",
        }
        .to_string(),
    );
    let username = RwSignal::new(s.username.clone());
    let same_password = RwSignal::new(s.same_password);
    let max_mb = RwSignal::new((s.max_bytes / (1024 * 1024)).max(1).to_string());
    let result = RwSignal::new(None::<Result<String, String>>);
    let on_security = move |ev| {
        let v = event_target_value(&ev);
        port.set(
            match v.as_str() {
                "implicit" => "465",
                _ => "587",
            }
            .into(),
        );
        security.set(v);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let port_v: u16 = match port.get_untracked().trim().parse() {
            Ok(p) if p > 0 => p,
            _ => {
                return result.set(Some(Err(
                    "The port must be a number from 1 to 65535.".into()
                )));
            }
        };
        let mb: u64 = match max_mb.get_untracked().trim().parse() {
            Ok(m) if m > 0 => m,
            _ => {
                return result.set(Some(Err(
                    "The largest message must be a number of MB.".into()
                )));
            }
        };
        let address_v = address.get_untracked().trim().to_string();
        if !crate::compose::parse_list(&address_v).is_ok_and(|l| l.len() == 1) {
            return result.set(Some(Err(format!(
                "\"{address_v}\" is not an e-mail address."
            ))));
        }
        let sending = Sending {
            name: name.get_untracked().trim().to_string(),
            address: address_v,
            host: host.get_untracked().trim().to_string(),
            port: port_v,
            security: match security.get_untracked().as_str() {
                "implicit" => Security::Tls,
                "none" => Security::None,
                _ => Security::StartTls,
            },
            username: username.get_untracked().trim().to_string(),
            same_password: same_password.get_untracked(),
            max_bytes: mb * 1024 * 1024,
        };
        spawn_local(async move {
            result.set(Some(
                out.save_sending(sending)
                    .await
                    .map(|()| "Sending settings saved.".to_string()),
            ));
        });
    };
    let default_mb = DEFAULT_MAX_BYTES / (1024 * 1024);
    view! {
        <form class="card sending" aria-label="Sending" on:submit=save>
            <h2>"Sending"</h2>
            <p class="hint">
                "Who your messages are from, and the server that sends them (SMTP submission)."
            </p>
            <div class="row">
                <div class="field grow">
                    <label for="s-name">"Your name"</label>
                    <input id="s-name" type="text" autocomplete="name" bind:value=name />
                </div>
                <div class="field grow">
                    <label for="s-address">"From address"</label>
                    <input id="s-address" type="email" autocomplete="email" bind:value=address />
                </div>
            </div>
            <div class="row">
                <div class="field grow">
                    <label for="s-host">"Submission server"</label>
                    <input id="s-host" type="text" spellcheck="false" bind:value=host />
                </div>
                <div class="field port">
                    <label for="s-port">"Port"</label>
                    <input id="s-port" type="text" inputmode="numeric" bind:value=port />
                </div>
            </div>
            <div class="field">
                <label for="s-security">"Security"</label>
                <select id="s-security" prop:value=move || security.get() on:change=on_security>
                    <option value="starttls">"STARTTLS (port 587)"</option>
                    <option value="implicit">"TLS (port 465)"</option>
                    <option value="none">"None: the password crosses the network readable"</option>
                </select>
            </div>
            <div class="field">
                <label for="s-user">"Login"</label>
                <input
                    id="s-user"
                    type="text"
                    autocomplete="username"
                    spellcheck="false"
                    bind:value=username
                />
            </div>
            <label class="check">
                <input type="checkbox" bind:checked=same_password />
                "Use the password of this account (else the outbox asks for one)"
            </label>
            <div class="field">
                <label for="s-max">"Largest message (MB)"</label>
                <input id="s-max" type="text" inputmode="numeric" bind:value=max_mb />
                <p class="hint">
                    {format!(
                        "Larger messages are refused before they are queued (default {default_mb} MB); the server's own limit applies too.",
                    )}
                </p>
            </div>
            {move || {
                result
                    .get()
                    .map(|r| match r {
                        Ok(text) => {
                            view! {
                                <p class="banner ok" role="status">
                                    {text}
                                </p>
                            }
                                .into_any()
                        }
                        Err(text) => {
                            view! {
                                <p class="banner error" role="alert">
                                    {text}
                                </p>
                            }
                                .into_any()
                        }
                    })
            }}
            <div class="actions">
                <button type="submit" class="primary">
                    "Save sending settings"
                </button>
            </div>
        </form>
    }
    .into_any()
}
