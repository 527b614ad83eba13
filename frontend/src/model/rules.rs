//! The rules editor's actions (Settings): add, change, delete and reorder the rules a sync
//! applies to new mail (`crate::mail::rules`). Every change rewrites the whole ordered list in
//! one transaction, so a sync starting meanwhile reads either the old rules or the new.

use leptos::prelude::*;

use super::{Model, store};
use crate::mail::rules::validate;
use crate::store::Rule;

impl Model {
    async fn save_rules(self, rules: Vec<Rule>) -> Result<(), String> {
        store().put_rules(&rules).await.map_err(|e| e.to_string())?;
        self.rules.set(
            rules
                .into_iter()
                .enumerate()
                .map(|(i, r)| Rule {
                    position: i as u32,
                    ..r
                })
                .collect(),
        );
        Ok(())
    }

    /// Adds `rule` at the end, or replaces the rule with its id.
    pub async fn put_rule(self, mut rule: Rule) -> Result<(), String> {
        validate(&rule).map_err(|e| e.to_string())?;
        rule.value = rule.value.trim().to_string();
        let mut rules = self.rules.get_untracked();
        match rules.iter_mut().find(|r| r.id == rule.id) {
            Some(slot) => *slot = rule,
            None => rules.push(rule),
        }
        self.save_rules(rules).await
    }

    pub async fn delete_rule(self, id: String) -> Result<(), String> {
        let mut rules = self.rules.get_untracked();
        rules.retain(|r| r.id != id);
        self.save_rules(rules).await
    }

    /// Moves a rule one place earlier (`up`) or later.
    pub async fn move_rule(self, id: String, up: bool) -> Result<(), String> {
        let mut rules = self.rules.get_untracked();
        let Some(i) = rules.iter().position(|r| r.id == id) else {
            return Ok(());
        };
        let j = if up { i.checked_sub(1) } else { Some(i + 1) };
        match j {
            Some(j) if j < rules.len() => rules.swap(i, j),
            _ => return Ok(()),
        }
        self.save_rules(rules).await
    }
}

/// A fresh rule's id.
pub fn new_rule_id() -> String {
    format!(
        "r{}{:06}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * 1e6) as u32
    )
}
