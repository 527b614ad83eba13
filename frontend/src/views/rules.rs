//! Settings, "Folders and rules": how long mail stays in Trash, and the rules applied to new
//! mail at download (list, add, edit, delete, order). The model does the work
//! (`model/rules.rs`, `model/folders.rs`); matching is `mail/rules.rs`.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::model::{Model, new_rule_id};
use crate::store::{ARCHIVE, Rule, RuleField, RuleTest};
use crate::views::ErrorBanner;

const FIELDS: [(RuleField, &str, &str); 5] = [
    (RuleField::Sender, "sender", "Sender"),
    (RuleField::Recipient, "recipient", "Recipient (To or Cc)"),
    (RuleField::Subject, "subject", "Subject"),
    (RuleField::ListId, "list-id", "Mailing list (List-Id)"),
    (RuleField::Size, "size", "Size"),
];
const TESTS: [(RuleTest, &str, &str); 3] = [
    (RuleTest::Contains, "contains", "contains"),
    (RuleTest::Equals, "equals", "is"),
    (RuleTest::GreaterThan, "greater", "is larger than"),
];
/// The value of "leave it where it is" in the folder picker (a folder id is never empty).
const NO_MOVE: &str = "";

fn field_label(f: RuleField) -> &'static str {
    FIELDS.iter().find(|(x, _, _)| *x == f).map_or("", |x| x.2)
}

fn test_label(t: RuleTest) -> &'static str {
    TESTS.iter().find(|(x, _, _)| *x == t).map_or("", |x| x.2)
}

/// One line saying what a rule does.
fn describe(model: Model, r: &Rule) -> String {
    let mut actions = Vec::new();
    if let Some(f) = &r.move_to {
        actions.push(format!("move to {}", model.folder_name(f)));
    }
    if r.mark_read {
        actions.push("mark read".to_string());
    }
    if r.flag {
        actions.push("flag".to_string());
    }
    format!(
        "If {} {} \"{}\": {}",
        field_label(r.field).to_lowercase(),
        test_label(r.test),
        r.value,
        actions.join(", ")
    )
}

#[component]
pub fn RulesPanel() -> impl IntoView {
    let model = expect_context::<Model>();
    let editing = RwSignal::new(None::<Rule>);
    let error = RwSignal::new(None::<String>);
    let days = RwSignal::new(model.trash_days.get_untracked().to_string());
    let act = move |f: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>>>>| {
        spawn_local(async move {
            match f.await {
                Ok(()) => error.set(None),
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let new_rule = move |_| {
        editing.set(Some(Rule {
            id: new_rule_id(),
            position: u32::MAX,
            field: RuleField::Sender,
            test: RuleTest::Contains,
            value: String::new(),
            move_to: Some(ARCHIVE.into()),
            mark_read: false,
            flag: false,
        }))
    };
    view! {
        <section class="card rules" aria-label="Folders and rules">
            <h2>"Folders and rules"</h2>
            <div class="field">
                <label for="trash-days">"Empty Trash after (days)"</label>
                <input
                    id="trash-days"
                    type="number"
                    min="1"
                    max="3650"
                    bind:value=days
                    on:change=move |_| {
                        match days.get_untracked().trim().parse::<u32>() {
                            Ok(d) if d >= 1 => model.set_trash_days(d),
                            _ => error.set(Some("Days are a whole number, 1 or more.".into())),
                        }
                    }
                />
            </div>
            <h3>"Rules for new mail"</h3>
            <p class="hint">
                "Applied in this order as mail downloads; the first rule that moves a message decides its folder. Moving never touches the server."
            </p>
            <ol class="rule-list">
                <For
                    each=move || model.rules.get()
                    key=|r| (r.id.clone(), r.position, describe_key(r))
                    let:rule
                >
                    {
                        let (up, down, del, edit) = (
                            rule.id.clone(),
                            rule.id.clone(),
                            rule.id.clone(),
                            rule.clone(),
                        );
                        view! {
                            <li class="rule">
                                <span class="rule-text">{describe(model, &rule)}</span>
                                <button
                                    type="button"
                                    class="link"
                                    on:click=move |_| editing.set(Some(edit.clone()))
                                >
                                    "Edit"
                                </button>
                                <button
                                    type="button"
                                    class="link"
                                    aria-label="Move up"
                                    on:click=move |_| act(
                                        Box::pin(model.move_rule(up.clone(), true)),
                                    )
                                >
                                    "↑"
                                </button>
                                <button
                                    type="button"
                                    class="link"
                                    aria-label="Move down"
                                    on:click=move |_| {
                                        act(Box::pin(model.move_rule(down.clone(), false)))
                                    }
                                >
                                    "↓"
                                </button>
                                <button
                                    type="button"
                                    class="link danger"
                                    on:click=move |_| act(Box::pin(model.delete_rule(del.clone())))
                                >
                                    "Delete"
                                </button>
                            </li>
                        }
                    }
                </For>
            </ol>
            <Show when=move || editing.with(Option::is_none)>
                <button type="button" class="secondary" on:click=new_rule>
                    "Add a rule"
                </button>
            </Show>
            {move || {
                editing
                    .get()
                    .map(|rule| view! { <RuleForm rule=rule editing=editing error=error /> })
            }}
            <ErrorBanner error=error />
        </section>
    }
}

/// What makes a rule's line change (its text), for `<For>`'s key.
fn describe_key(r: &Rule) -> String {
    format!(
        "{:?}{:?}{}{:?}{}{}",
        r.field, r.test, r.value, r.move_to, r.mark_read, r.flag
    )
}

/// The form of one rule (new or edited).
#[component]
fn RuleForm(
    rule: Rule,
    editing: RwSignal<Option<Rule>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let model = expect_context::<Model>();
    let id = rule.id.clone();
    let field = RwSignal::new(rule.field);
    let test = RwSignal::new(rule.test);
    let value = RwSignal::new(rule.value.clone());
    let move_to = RwSignal::new(rule.move_to.clone().unwrap_or_default());
    let mark_read = RwSignal::new(rule.mark_read);
    let flag = RwSignal::new(rule.flag);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let target = move_to.get_untracked();
        let rule = Rule {
            id: id.clone(),
            position: rule.position,
            field: field.get_untracked(),
            test: test.get_untracked(),
            value: value.get_untracked(),
            move_to: (target != NO_MOVE).then_some(target),
            mark_read: mark_read.get_untracked(),
            flag: flag.get_untracked(),
        };
        spawn_local(async move {
            match model.put_rule(rule).await {
                Ok(()) => {
                    error.set(None);
                    editing.set(None);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let targets = move || {
        let mut all = vec![(ARCHIVE.to_string(), "Archive".to_string())];
        all.extend(model.user_folders.get().into_iter().map(|f| (f.id, f.name)));
        all
    };
    view! {
        <form class="rule-form" on:submit=submit aria-label="Rule">
            <div class="rule-if">
                <label for="rule-field">"If"</label>
                <select
                    id="rule-field"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some((f, _, _)) = FIELDS.iter().find(|(_, k, _)| *k == v) {
                            field.set(*f);
                        }
                    }
                >
                    {FIELDS
                        .iter()
                        .map(|(f, k, label)| {
                            let f = *f;
                            view! {
                                <option value=*k prop:selected=move || field.get() == f>
                                    {*label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <label class="visually-hidden" for="rule-test">
                    "Comparison"
                </label>
                <select
                    id="rule-test"
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some((t, _, _)) = TESTS.iter().find(|(_, k, _)| *k == v) {
                            test.set(*t);
                        }
                    }
                >
                    {TESTS
                        .iter()
                        .map(|(t, k, label)| {
                            let t = *t;
                            view! {
                                <option value=*k prop:selected=move || test.get() == t>
                                    {*label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <label class="visually-hidden" for="rule-value">
                    "Value"
                </label>
                <input
                    id="rule-value"
                    type="text"
                    maxlength="500"
                    placeholder=move || {
                        if field.get() == RuleField::Size { "e.g. 5M" } else { "text" }
                    }
                    bind:value=value
                />
            </div>
            <div class="rule-then">
                <label for="rule-move">"Move to"</label>
                <select id="rule-move" on:change=move |ev| move_to.set(event_target_value(&ev))>
                    <option value=NO_MOVE prop:selected=move || move_to.get().is_empty()>
                        "(leave in Inbox)"
                    </option>
                    {move || {
                        targets()
                            .into_iter()
                            .map(|(id, name)| {
                                let chosen = id.clone();
                                view! {
                                    <option value=id prop:selected=move || move_to.get() == chosen>
                                        {name}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
                <label class="check">
                    <input type="checkbox" bind:checked=mark_read />
                    "Mark read"
                </label>
                <label class="check">
                    <input type="checkbox" bind:checked=flag />
                    "Flag"
                </label>
            </div>
            <div class="actions">
                <button type="submit" class="primary">
                    "Save rule"
                </button>
                <button type="button" class="secondary" on:click=move |_| editing.set(None)>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}
