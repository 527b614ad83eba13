//! The search box's status line (indexing progress, a query it cannot run, a cut answer), and
//! search matches marked in the reader's text: `<mark>` around the matched runs, every run a
//! text node (`search::highlight`), so nothing of the mail becomes markup.

use leptos::prelude::*;

use crate::model::{Found, Model};
use crate::search::highlight::runs;

/// `text` with the search box's matched words marked (plain text when nothing is searched).
pub fn marked_text(text: String) -> impl IntoView {
    let model = expect_context::<Model>();
    move || {
        runs(&text, &model.highlight_terms())
            .into_iter()
            .map(|r| {
                if r.matched {
                    view! { <mark class="search-hit">{r.text}</mark> }.into_any()
                } else {
                    r.text.into_any()
                }
            })
            .collect_view()
    }
}

/// "1,234" for counts people read.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Under the search box: how far indexing got, and what the last search could not do.
#[component]
pub fn SearchStatus() -> impl IntoView {
    let model = expect_context::<Model>();
    let searching = move || !model.search.with(|t| t.trim().is_empty());
    let problem = move || {
        if !searching() {
            return None;
        }
        model.found.with(|f| match f {
            Some(Found { result: Err(e), .. }) => Some(e.clone()),
            Some(Found {
                result: Ok(hits), ..
            }) if hits.cut => Some(
                "Only the first matches are shown: type more of the word, or add another."
                    .to_string(),
            ),
            _ => None,
        })
    };
    // A large answer shows its best page: how many, of how many, and a way to the rest.
    let more = move || {
        if !searching() {
            return None;
        }
        model.found.with(|f| match f {
            Some(Found {
                result: Ok(hits), ..
            }) if hits.total > hits.keys.len() => Some((hits.keys.len(), hits.total)),
            _ => None,
        })
    };
    view! {
        <p class="search-status muted" role="status">
            {move || {
                model
                    .indexing
                    .get()
                    .map(|(done, total)| {
                        format!(
                            "Indexing {} of {} messages for search; until then some may not be found.",
                            grouped(done),
                            grouped(total),
                        )
                    })
            }}
        </p>
        {move || problem().map(|p| view! { <p class="search-problem">{p}</p> })}
        {move || {
            more()
                .map(|(shown, total)| {
                    view! {
                        <p class="search-more muted" data-total=total>
                            {format!(
                                "The best {} of {} messages found are shown. ",
                                grouped(shown as u64),
                                grouped(total as u64),
                            )}
                            <button type="button" on:click=move |_| model.show_more_found()>
                                "Show more"
                            </button>
                        </p>
                    }
                })
        }}
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn counts_are_grouped() {
        assert_eq!(super::grouped(0), "0");
        assert_eq!(super::grouped(999), "999");
        assert_eq!(super::grouped(1234), "1,234");
        assert_eq!(super::grouped(50_000), "50,000");
        assert_eq!(super::grouped(1_000_000), "1,000,000");
    }
}
