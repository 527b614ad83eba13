//! The rules applied to new mail at download, as stored: one record per rule, in the order
//! the user gave them. Matching is `crate::mail::rules`; the editor's model `model/rules.rs`.

use serde::{Deserialize, Serialize};
use web_sys::IdbTransactionMode;

use super::idb;
use super::messages::js;
use super::schema::RULES;
use super::{Store, StoreError};

/// What part of a message a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleField {
    /// From: names and addresses.
    Sender,
    /// To and Cc: names and addresses.
    Recipient,
    Subject,
    /// The List-Id header (RFC 2919), e.g. `Friends <friends.lists.example.org>`.
    ListId,
    /// The message's size in bytes as downloaded.
    Size,
}

/// How the field is compared with the rule's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleTest {
    Contains,
    Equals,
    /// Sizes only: larger than the value (bytes, or with a K/M suffix).
    GreaterThan,
}

/// One rule: when `field` passes `test` against `value`, the actions apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    /// Its place in the list (rules apply in this order).
    pub position: u32,
    pub field: RuleField,
    pub test: RuleTest,
    pub value: String,
    /// The folder (id) a matching message is filed in; `None`: it stays where it would be.
    pub move_to: Option<String>,
    pub mark_read: bool,
    pub flag: bool,
}

impl Store {
    /// Every rule, in order.
    pub async fn rules(&self) -> Result<Vec<Rule>, StoreError> {
        let tx = self.tx(&[RULES], IdbTransactionMode::Readonly)?;
        let os = tx.object_store(RULES).map_err(js)?;
        let all = idb::request(&os.get_all().map_err(js)?).await?;
        let mut rules: Vec<Rule> = idb::from_js(&all)?;
        crate::sort::sort_by_key(&mut rules, |r| r.position);
        Ok(rules)
    }

    /// Replaces every rule with `rules`, numbered in the order given, in one transaction.
    pub async fn put_rules(&self, rules: &[Rule]) -> Result<(), StoreError> {
        let tx = self.tx(&[RULES], IdbTransactionMode::Readwrite)?;
        idb::write_all(&tx, |tx| {
            let os = tx.object_store(RULES).map_err(js)?;
            os.clear().map_err(js)?;
            for (i, rule) in rules.iter().enumerate() {
                let rule = Rule {
                    position: i as u32,
                    ..rule.clone()
                };
                os.put(&idb::to_js(&rule)?).map_err(js)?;
            }
            Ok(())
        })
        .await
    }
}
