//! Conversations: messages grouped by Message-ID, In-Reply-To and References with Jamie
//! Zawinski's algorithm (<https://www.jwz.org/doc/threading.html>), then by subject. Pure:
//! summaries in, groups of their indices out.
//!
//! The steps, as on that page: an id table of containers (1.A); parent links from each
//! message's References, never over a loop (1.B); the message's own parent from its last
//! reference (1.C); the root set (2); empty containers left out (4, by collecting only the
//! messages under each root); roots grouped by the subject with "Re:", "Fwd:", "AW:", "SV:"…
//! taken off (5). Departures, each for a reason:
//! - a second message under an id already taken (the same mail in two accounts of the unified
//!   inbox, or a forged id) joins the first one's conversation instead of standing alone;
//! - subject grouping joins a reply (or a conversation whose first message is missing) to the
//!   conversation it answers, but never two first messages that merely share a subject ("Hello",
//!   "Invoice"), which JWZ merges and calls a known weakness;
//! - a loop check that would walk more than [`LOOP_WALK`] containers refuses the link, so
//!   hostile ids cost bounded time.

use std::collections::HashMap;

use crate::mail::thread_ids::MAX_REFERENCES;
use crate::store::Summary;

#[cfg(test)]
mod tests;

/// Containers a loop check walks up at most; real conversations are far shallower.
const LOOP_WALK: usize = 10_000;
/// Characters of a subject compared; longer subjects are the same subject past this.
const SUBJECT_CHARS: usize = 200;

/// One conversation: indices into the summaries given, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    pub members: Vec<usize>,
}

#[derive(Default)]
struct Container {
    message: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

#[derive(Default)]
struct Table<'a> {
    nodes: Vec<Container>,
    ids: HashMap<&'a str, usize>,
}

impl<'a> Table<'a> {
    fn add(&mut self, message: Option<usize>) -> usize {
        self.nodes.push(Container {
            message,
            ..Container::default()
        });
        self.nodes.len() - 1
    }

    fn by_id(&mut self, id: &'a str) -> usize {
        if let Some(&n) = self.ids.get(id) {
            return n;
        }
        let n = self.add(None);
        self.ids.insert(id, n);
        n
    }

    /// Whether making `child` a child of `parent` would close a loop (or cannot be shown not
    /// to within [`LOOP_WALK`] steps).
    fn would_loop(&self, parent: usize, child: usize) -> bool {
        if parent == child {
            return true;
        }
        // Only an ancestor can close a loop, and a container without children is nobody's.
        if self.nodes[child].children.is_empty() {
            return false;
        }
        let mut at = Some(parent);
        let mut steps = 0;
        while let Some(n) = at {
            if n == child || steps == LOOP_WALK {
                return true;
            }
            steps += 1;
            at = self.nodes[n].parent;
        }
        false
    }

    fn unlink(&mut self, child: usize) {
        if let Some(p) = self.nodes[child].parent.take() {
            let siblings = &mut self.nodes[p].children;
            if let Some(at) = siblings.iter().position(|&c| c == child) {
                siblings.swap_remove(at);
            }
        }
    }

    fn link(&mut self, parent: usize, child: usize) {
        if self.nodes[child].parent == Some(parent) {
            return;
        }
        self.unlink(child);
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    /// The messages in the tree under `root`.
    fn messages_under(&self, root: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            out.extend(self.nodes[n].message);
            stack.extend(&self.nodes[n].children);
        }
        out
    }
}

/// The ids a message names as its ancestors, root first: its References (at most
/// [`MAX_REFERENCES`], even from a record written by something else), then In-Reply-To when
/// References does not end with it. Its own id is never its ancestor.
fn ancestors<'a>(m: &'a Summary, own: Option<&str>) -> Vec<&'a str> {
    let mut refs: Vec<&str> = m
        .references
        .iter()
        .take(MAX_REFERENCES)
        .map(String::as_str)
        .collect();
    if let Some(parent) = m.in_reply_to.as_deref()
        && refs.last() != Some(&parent)
    {
        refs.push(parent);
    }
    refs.retain(|r| !r.is_empty() && Some(*r) != own);
    refs
}

/// The conversations of `messages` (given newest first, as the store lists them), in that
/// order: the one with the newest message first.
pub fn conversations(messages: &[Summary]) -> Vec<Conversation> {
    let mut t = Table::default();
    for (i, m) in messages.iter().enumerate() {
        let own = m.message_id.as_deref().filter(|id| !id.is_empty());
        // 1.A: the message's container.
        let node = match own {
            Some(id) => {
                let n = t.by_id(id);
                if t.nodes[n].message.is_some() {
                    let twin = t.add(Some(i));
                    t.link(n, twin);
                    continue;
                }
                t.nodes[n].message = Some(i);
                n
            }
            None => t.add(Some(i)),
        };
        // 1.B: each reference the parent of the next, unless already placed or a loop.
        let mut previous: Option<usize> = None;
        for r in ancestors(m, own) {
            let c = t.by_id(r);
            if let Some(p) = previous
                && t.nodes[c].parent.is_none()
                && !t.would_loop(p, c)
            {
                t.link(p, c);
            }
            previous = Some(c);
        }
        // 1.C: the last reference is the parent, whatever another message presumed.
        match previous {
            Some(p) if !t.would_loop(p, node) => t.link(p, node),
            Some(_) => {}
            None => t.unlink(node),
        }
    }

    // 2 and 4: the messages under each root; roots with none are left out.
    let roots: Vec<(bool, Vec<usize>)> = (0..t.nodes.len())
        .filter(|&n| t.nodes[n].parent.is_none())
        .map(|n| (t.nodes[n].message.is_none(), t.messages_under(n)))
        .filter(|(_, m)| !m.is_empty())
        .collect();
    let mut groups = group_by_subject(messages, roots);

    for g in &mut groups {
        // Oldest first; equal dates in the store's order reversed (it lists newest first).
        crate::sort::sort_by(g, |&a, &b| {
            messages[a]
                .date
                .total_cmp(&messages[b].date)
                .then(b.cmp(&a))
        });
    }
    // The store's order of each conversation's newest message.
    crate::sort::sort_by_key(&mut groups, |g| g.iter().min().copied());
    groups
        .into_iter()
        .map(|members| Conversation { members })
        .collect()
}

/// 5: a conversation whose oldest message is a reply, or whose first message is missing,
/// joins the latest conversation of the same base subject started before it (or, with none,
/// the other such conversations).
fn group_by_subject(messages: &[Summary], roots: Vec<(bool, Vec<usize>)>) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::with_capacity(roots.len());
    // Base subject → its conversations: (date of the first message, group, joins others).
    let mut by_subject: HashMap<String, Vec<(f64, usize, bool)>> = HashMap::new();
    for (root_missing, members) in roots {
        let first = *members
            .iter()
            .min_by(|&&a, &&b| {
                messages[a]
                    .date
                    .total_cmp(&messages[b].date)
                    .then(b.cmp(&a))
            })
            .expect("roots with no message were left out");
        let (base, reply) = base_subject(&messages[first].subject);
        if !base.is_empty() {
            by_subject.entry(base).or_default().push((
                messages[first].date,
                groups.len(),
                reply || root_missing,
            ));
        }
        groups.push(members);
    }
    for mut same in by_subject.into_values().filter(|v| v.len() > 1) {
        crate::sort::sort_by(&mut same, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let (mut starter, mut orphans) = (None, None);
        for (_, g, joins) in same {
            match (joins, starter, orphans) {
                (false, _, _) => starter = Some(g),
                (true, Some(s), _) | (true, None, Some(s)) => merge_groups(&mut groups, s, g),
                (true, None, None) => orphans = Some(g),
            }
        }
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// Moves group `from`'s members into group `into` (leaving `from` empty).
fn merge_groups(groups: &mut [Vec<usize>], into: usize, from: usize) {
    if into != from {
        let moved = std::mem::take(&mut groups[from]);
        groups[into].extend(moved);
    }
}

/// The subject with reply and forward prefixes in many languages ("Re:", "RE[2]:", "Fwd:",
/// "AW:", "SV:", "Antw:", "回复:"…) and leading list tags ("[list] ") taken off, lowercased,
/// spaces collapsed; and whether a reply or forward prefix was there.
pub fn base_subject(subject: &str) -> (String, bool) {
    const PREFIXES: &[&str] = &[
        "re", "fw", "fwd", "aw", "sv", "vs", "wg", "antw", "antwort", "tr", "ref", "réf", "rif",
        "r", "odp", "ynt", "rv", "enc", "res", "ats", "vá", "atb", "doorst", "πρθ", "απ", "回复",
        "答复", "转发", "回覆", "轉寄", "返信", "転送",
    ];
    let mut s: &str = subject;
    let mut reply = false;
    // Bounded: each round takes at least one character off, and at most 32 rounds run.
    for _ in 0..32 {
        s = s.trim_start();
        if let Some(rest) = s.strip_prefix('[')
            && let Some(end) = rest.find(']').filter(|&e| e <= 64)
            && !rest[end + 1..].trim().is_empty()
        {
            s = &rest[end + 1..];
            continue;
        }
        let word_end = s
            .char_indices()
            .find(|(_, c)| !c.is_alphabetic())
            .map_or(s.len(), |(i, _)| i);
        let word = s[..word_end].to_lowercase();
        if word.is_empty() || !PREFIXES.contains(&word.as_str()) {
            break;
        }
        let mut rest = &s[word_end..];
        // A counter: "Re[2]:", "Re^2:", "Re(2):".
        for (open, close) in [("[", "]"), ("(", ")"), ("^", "")] {
            if let Some(after) = rest.strip_prefix(open) {
                let digits = after.chars().take_while(char::is_ascii_digit).count();
                if digits > 0 && after[digits..].starts_with(close) {
                    rest = &after[digits + close.len()..];
                }
                break;
            }
        }
        let rest = rest.trim_start_matches(' ');
        let Some(after) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('：')) else {
            break;
        };
        s = after;
        reply = true;
    }
    let base: String = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(SUBJECT_CHARS)
        .collect::<String>()
        .to_lowercase();
    (base, reply)
}
