//! The app's settings in localStorage: every key under [`PREFIX`], except those that describe
//! this browser rather than the user's choices ([`LEFT_OUT`]).

/// The prefix of the keys the app owns.
pub const PREFIX: &str = "postbag.";
/// Keys not carried to another browser: whether THIS browser was asked to keep storage
/// (storage.js; carried over, it would stop the new browser from ever being asked), and the
/// mark of a restore under way here ([`RESTORING`]).
pub const LEFT_OUT: &[&str] = &["postbag.persistence-asked", RESTORING];
/// Set while a restore writes, removed when it ended either way: found set with no account
/// stored, it tells that the store holds only what an interrupted restore wrote (the tab was
/// closed), which the app clears at start (`restore::unless_restoring`).
pub const RESTORING: &str = "postbag.restoring";

/// Whether a backup carries `key`, and a restore writes it.
pub fn carried(key: &str) -> bool {
    key.starts_with(PREFIX) && !LEFT_OUT.contains(&key)
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The carried settings, sorted by key.
pub fn read() -> Vec<(String, String)> {
    let Some(storage) = local_storage() else {
        return Vec::new();
    };
    let mut found: Vec<(String, String)> = (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| carried(key))
        .filter_map(|key| {
            let value = storage.get_item(&key).ok().flatten()?;
            Some((key, value))
        })
        .collect();
    crate::sort::sort_by(&mut found, Ord::cmp);
    found
}

/// Writes restored settings (only carried keys: a restore checked them first).
pub fn write(settings: &[(String, String)]) -> Result<(), String> {
    let storage = local_storage().ok_or("localStorage is not available")?;
    for (key, value) in settings.iter().filter(|(k, _)| carried(k)) {
        storage
            .set_item(key, value)
            .map_err(|_| format!("the setting {key} could not be written"))?;
    }
    Ok(())
}

/// Sets or removes the [`RESTORING`] mark.
pub fn mark_restoring(on: bool) {
    if let Some(storage) = local_storage() {
        let _ = if on {
            storage.set_item(RESTORING, "1")
        } else {
            storage.remove_item(RESTORING)
        };
    }
}

/// Whether an interrupted restore left its mark.
pub fn restoring() -> bool {
    local_storage().is_some_and(|s| s.get_item(RESTORING).ok().flatten().is_some())
}
