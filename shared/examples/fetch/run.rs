//! The run: list, plan, download, delete, quit, and a report that names every message that
//! was not saved and why. A failure that ends a session (a cut, a timeout, a reply without end)
//! costs the message being read; the run reconnects for the messages after it.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use postbag_protocol::pop3::blocking::{Reply, Session};
use postbag_protocol::pop3::{Command, CommandId, Event};

use crate::names::Names;
use crate::saving::Partial;
use crate::shown::shown;
use crate::{Args, connect, explain};

/// A download may grow past its listed size (some servers add headers as they send), but not
/// past twice it plus this: beyond that the server is sending something else, or forever.
const SLACK: u64 = 64 * 1024;

/// A message as a session lists it. Numbers stay put between sessions while nothing is
/// expunged (no QUIT committed), so number and UIDL together name one message across sessions.
type Key = (u32, String);

fn who((msg, uidl): &Key) -> String {
    format!("message {msg} (UIDL \"{}\")", shown(uidl))
}

/// A message being downloaded.
struct Download {
    key: Key,
    name: String,
    /// The most bytes accepted before the server is blamed.
    limit: u64,
    listed: Option<u64>,
    file: Option<Partial>,
    bytes: u64,
    /// A local failure (disk): the rest of the body is read and dropped.
    failed: Option<String>,
}

/// What the run did, across sessions.
#[derive(Default)]
struct Report {
    names: Names,
    /// The file name of every message seen, given once.
    named: HashMap<Key, String>,
    /// Saved, failed or skipped: never asked for again.
    done: HashSet<Key>,
    /// Saved but not yet deleted by a committed QUIT (with `--delete`).
    undeleted: Vec<Key>,
    saved: usize,
    bytes: u64,
    deleted: usize,
    skipped: usize,
    /// Each message not saved, or a deletion that failed, with its cause.
    failures: Vec<String>,
}

impl Report {
    fn fail(&mut self, what: String) {
        eprintln!("fetch: {what}");
        self.failures.push(what);
    }
}

/// How a session ended.
enum Ended {
    /// QUIT was answered (or the session could not list the mailbox: nothing to retry).
    Finished,
    /// The session broke with `why`; `left` messages were not asked for yet.
    Lost { why: String, left: Vec<Key> },
}

/// Downloads every message; returns whether everything wanted was saved (and, with
/// `--delete`, deleted and committed).
pub fn run(args: &Args, first: Session) -> bool {
    let mut report = Report::default();
    let mut session = first;
    let mut reconnects = 0;
    while let Ended::Lost { why, left } = one_session(args, session, &mut report) {
        if left.is_empty() {
            break;
        }
        let next = if reconnects < args.reconnects {
            reconnects += 1;
            eprintln!(
                "fetch: reconnecting for the {} message(s) left ({reconnects} of at most {})",
                left.len(),
                args.reconnects
            );
            connect(args).map_err(|e| format!("reconnecting failed: {e}"))
        } else {
            Err(format!("the session ended ({why})"))
        };
        match next {
            Ok(s) => session = s,
            Err(why) => {
                for key in &left {
                    report.fail(format!("{}: not downloaded: {why}", who(key)));
                }
                break;
            }
        }
    }
    if args.delete && !report.undeleted.is_empty() {
        report.fail(format!(
            "{} saved message(s) were not deleted from the server (no committed QUIT)",
            report.undeleted.len()
        ));
    }
    println!(
        "{} message(s), {} bytes saved to {}; {} deleted{}{}",
        report.saved,
        report.bytes,
        args.out.display(),
        report.deleted,
        if args.delete { " (committed)" } else { "" },
        match report.skipped {
            0 => String::new(),
            n => format!("; {n} skipped (listed over --max-size)"),
        }
    );
    if report.failures.is_empty() {
        return true;
    }
    eprintln!("fetch: {} problem(s):", report.failures.len());
    for failure in &report.failures {
        eprintln!("  {failure}");
    }
    false
}

/// Lists the mailbox: every message with its UIDL and, when LIST answers, its size.
fn list(session: &mut Session) -> Result<Vec<(Key, Option<u64>)>, String> {
    let replies = session
        .execute(&[Command::Uidl(None), Command::List(None)])
        .map_err(|e| format!("listing the mailbox failed: {}", explain(&e)))?;
    let mut replies = replies.into_iter();
    let uidls = match replies.next() {
        Some(Reply::Uidl(entries)) => entries,
        Some(Reply::Failed(e)) => {
            return Err(format!(
                "the server refused UIDL (\"{}\"); fetch names files by UIDL",
                shown(&e.text)
            ));
        }
        other => return Err(format!("unexpected reply to UIDL: {other:?}")),
    };
    let sizes: HashMap<u32, u64> = match replies.next() {
        Some(Reply::List(entries)) => entries.into_iter().collect(),
        _ => HashMap::new(),
    };
    Ok(uidls
        .into_iter()
        .map(|(msg, uidl)| {
            let size = sizes.get(&msg).copied();
            ((msg, uidl), size)
        })
        .collect())
}

fn one_session(args: &Args, mut session: Session, report: &mut Report) -> Ended {
    let listing = match list(&mut session) {
        Ok(listing) => listing,
        Err(why) => {
            report.fail(why);
            return Ended::Finished;
        }
    };
    let mut s = Sync {
        args,
        session: &mut session,
        report: &mut *report,
        downloads: HashMap::new(),
        order: Vec::new(),
        deletions: HashMap::new(),
        deleted: Vec::new(),
    };
    if let Err(why) = s.plan(listing).and_then(|()| s.download()) {
        let left = s.lost(&why);
        return Ended::Lost { why, left };
    }
    let deleted = std::mem::take(&mut s.deleted);
    match session.quit() {
        Ok(true) => {
            report.deleted += deleted.len();
            report.undeleted.retain(|k| !deleted.contains(k));
        }
        Ok(false) if args.delete => {
            report.fail("the server did not commit the deletions (QUIT answered -ERR)".into())
        }
        Ok(false) => {}
        Err(e) => report.fail(format!("QUIT failed: {}", explain(&e))),
    }
    Ended::Finished
}

/// One session's downloads and deletions.
struct Sync<'a> {
    args: &'a Args,
    session: &'a mut Session,
    report: &'a mut Report,
    downloads: HashMap<CommandId, Download>,
    /// RETRs in the order sent (replies come in this order).
    order: Vec<CommandId>,
    deletions: HashMap<CommandId, Key>,
    /// Deleted in this session (committed only by QUIT).
    deleted: Vec<Key>,
}

impl Sync<'_> {
    /// A file name for each message, skip what is listed over the cap, RETR the rest, and
    /// DELE what an earlier session saved but could not commit. All commands are enqueued at
    /// once; the client pipelines them if the server allows.
    fn plan(&mut self, listing: Vec<(Key, Option<u64>)>) -> Result<(), String> {
        let r = &mut *self.report;
        for (key, listed) in listing {
            if r.done.contains(&key) {
                if self.args.delete && r.undeleted.contains(&key) {
                    let id = self.session.enqueue(Command::Dele(key.0));
                    self.deletions.insert(id.map_err(|e| explain(&e))?, key);
                }
                continue;
            }
            let name = match r.named.get(&key) {
                Some(name) => name.clone(),
                None => {
                    let name = r.names.assign(key.0, &key.1);
                    r.named.insert(key.clone(), name.clone());
                    name
                }
            };
            if let Some(size) = listed.filter(|s| *s > self.args.max_size) {
                eprintln!(
                    "fetch: skipping {}: listed at {size} bytes, over --max-size {}",
                    who(&key),
                    self.args.max_size
                );
                r.skipped += 1;
                r.done.insert(key);
                continue;
            }
            let limit = match listed {
                Some(size) => size.saturating_mul(2).saturating_add(SLACK),
                None => self.args.max_size,
            };
            let id = self
                .session
                .enqueue(Command::Retr(key.0))
                .map_err(|e| explain(&e))?;
            self.order.push(id);
            self.downloads.insert(
                id,
                Download {
                    key,
                    name,
                    limit,
                    listed,
                    file: None,
                    bytes: 0,
                    failed: None,
                },
            );
        }
        Ok(())
    }

    /// Reads replies until every RETR and DELE is answered; `Err` when the session broke.
    fn download(&mut self) -> Result<(), String> {
        while !self.downloads.is_empty() || !self.deletions.is_empty() {
            let event = self.session.next_event().map_err(|e| explain(&e))?;
            match event {
                Event::MessageStart { id, .. } => {
                    let Some(d) = self.downloads.get_mut(&id) else {
                        continue;
                    };
                    match Partial::create(&self.args.out, &d.name) {
                        Ok(file) => d.file = Some(file),
                        Err(e) => d.failed = Some(format!("cannot write {}: {e}", d.name)),
                    }
                }
                Event::MessageChunk { id, bytes } => {
                    let Some(d) = self.downloads.get_mut(&id) else {
                        continue;
                    };
                    d.bytes += bytes.len() as u64;
                    if d.bytes > d.limit {
                        // A reply cannot be abandoned half-read: the session ends here.
                        return Err(match d.listed {
                            Some(size) => format!(
                                "the server sent more than {} bytes for a message it listed \
                                 at {size} bytes; stopped",
                                d.limit
                            ),
                            None => {
                                format!("the server sent more than --max-size {} bytes", d.limit)
                            }
                        });
                    }
                    if let (None, Some(file)) = (&d.failed, d.file.as_mut())
                        && let Err(e) = file.write(&bytes)
                    {
                        d.failed = Some(format!("cannot write {}: {e}", d.name));
                        d.file = None;
                    }
                }
                Event::MessageEnd { id } => {
                    if let Some(d) = self.downloads.remove(&id) {
                        self.finish(d)?;
                    }
                }
                Event::CommandFailed { id, error } => {
                    let reason = shown(&error.text);
                    if let Some(d) = self.downloads.remove(&id) {
                        self.report.done.insert(d.key.clone());
                        let what =
                            format!("{}: the server refused RETR: \"{reason}\"", who(&d.key));
                        self.report.fail(what);
                    } else if let Some(key) = self.deletions.remove(&id) {
                        let what = format!(
                            "{}: saved, but the server refused DELE: \"{reason}\"",
                            who(&key)
                        );
                        self.report.fail(what);
                    }
                }
                Event::Deleted { id, .. } => {
                    if let Some(key) = self.deletions.remove(&id) {
                        self.deleted.push(key);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The server ended a message: keep it if it was written whole, then (with `--delete`)
    /// and only then ask the server to delete it.
    fn finish(&mut self, mut d: Download) -> Result<(), String> {
        self.report.done.insert(d.key.clone());
        let saved: Result<PathBuf, String> = match (d.failed.take(), d.file.take()) {
            (Some(why), _) => Err(why),
            (None, None) => Err("no body was started".to_string()),
            (None, Some(file)) => file
                .commit()
                .map_err(|e| format!("cannot save {}: {e}", d.name)),
        };
        let path = match saved {
            Ok(path) => path,
            Err(why) => {
                self.report.fail(format!("{}: {why}", who(&d.key)));
                return Ok(());
            }
        };
        println!(
            "{:>5} {:>10} bytes  {}  ->  {}",
            d.key.0,
            d.bytes,
            shown(&d.key.1),
            path.display()
        );
        self.report.saved += 1;
        self.report.bytes += d.bytes;
        if self.args.delete {
            self.report.undeleted.push(d.key.clone());
            let id = self
                .session
                .enqueue(Command::Dele(d.key.0))
                .map_err(|e| explain(&e))?;
            self.deletions.insert(id, d.key);
        }
        Ok(())
    }

    /// The session broke with `why`: the message being read fails with it (its partial file
    /// is removed as the download is dropped); the ones after it are returned, to be tried
    /// again in a new session.
    fn lost(&mut self, why: &str) -> Vec<Key> {
        let mut left = Vec::new();
        let mut current = true;
        for id in &self.order {
            let Some(d) = self.downloads.remove(id) else {
                continue;
            };
            if current {
                self.report.done.insert(d.key.clone());
                self.report.fail(format!("{}: {why}", who(&d.key)));
                current = false;
            } else {
                left.push(d.key);
            }
        }
        if current {
            // No message was being read: nothing was learnt, so nothing is retried.
            self.report.fail(format!("the session ended: {why}"));
            for key in left.drain(..) {
                self.report.fail(format!("{}: not downloaded", who(&key)));
            }
        }
        left
    }
}
