//! The keyboard shortcuts, as Gmail has them: which key does what, and when keys are left
//! alone. Pure: the view turns a key event into a [`Press`] and runs the [`Command`] it gets
//! (`model/commands.rs`).

/// What a shortcut asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// The next row (older), or, while reading, open it.
    Next,
    Previous,
    /// Open the row the cursor is on.
    Open,
    /// Back to the list.
    Back,
    Archive,
    Delete,
    /// Put the cursor in the search box.
    Search,
    Reply,
    ReplyAll,
    Forward,
    Compose,
    /// Flag or unflag.
    Flag,
    MarkRead,
    MarkUnread,
    /// Show the shortcuts.
    Help,
}

/// One key press, as the view saw it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Press<'a> {
    /// `KeyboardEvent.key`: "j", "J" with Shift, "#", "ArrowDown", "Enter"…
    pub key: &'a str,
    pub ctrl: bool,
    pub alt: bool,
    pub meta: bool,
    /// The focus is where text is typed (an input, a textarea, a select, contenteditable).
    pub typing: bool,
    /// The focus is on a row of the message list (arrows and Enter belong to it there only;
    /// elsewhere Enter presses buttons and arrows scroll).
    pub in_list: bool,
    /// A modal dialog is open: it has the keyboard.
    pub modal: bool,
}

/// Every shortcut with its description, for the help dialog (keys as shown to the user).
pub const HELP: &[(&str, &str)] = &[
    ("j / ↓", "Next conversation"),
    ("k / ↑", "Previous conversation"),
    ("o / Enter", "Open"),
    ("u", "Back to the list"),
    ("e", "Archive"),
    ("#", "Delete"),
    ("s", "Flag or unflag"),
    ("Shift + i", "Mark as read"),
    ("Shift + u", "Mark as unread"),
    ("r", "Reply"),
    ("a", "Reply all"),
    ("f", "Forward"),
    ("c", "New message"),
    ("/", "Search"),
    ("?", "These shortcuts"),
];

/// The command `press` stands for, if any.
pub fn command(press: &Press<'_>) -> Option<Command> {
    // The browser's and the system's own shortcuts, typing, and dialogs are left alone.
    if press.ctrl || press.alt || press.meta || press.typing || press.modal {
        return None;
    }
    Some(match press.key {
        "j" => Command::Next,
        "k" => Command::Previous,
        "ArrowDown" if press.in_list => Command::Next,
        "ArrowUp" if press.in_list => Command::Previous,
        "o" => Command::Open,
        "Enter" if press.in_list => Command::Open,
        "u" => Command::Back,
        "e" => Command::Archive,
        "#" => Command::Delete,
        "/" => Command::Search,
        "r" => Command::Reply,
        "a" => Command::ReplyAll,
        "f" => Command::Forward,
        "c" => Command::Compose,
        "s" => Command::Flag,
        "I" => Command::MarkRead,
        "U" => Command::MarkUnread,
        "?" => Command::Help,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn check(press: Press<'_>, expected: Option<Command>) {
        assert_eq!(command(&press), expected, "{press:?}");
    }

    fn key(key: &str) -> Press<'_> {
        Press {
            key,
            ..Press::default()
        }
    }

    #[test]
    fn gmails_keys() {
        for (k, c) in [
            ("j", Command::Next),
            ("k", Command::Previous),
            ("o", Command::Open),
            ("u", Command::Back),
            ("e", Command::Archive),
            ("#", Command::Delete),
            ("/", Command::Search),
            ("r", Command::Reply),
            ("a", Command::ReplyAll),
            ("f", Command::Forward),
            ("c", Command::Compose),
            ("s", Command::Flag),
            ("I", Command::MarkRead),
            ("U", Command::MarkUnread),
            ("?", Command::Help),
        ] {
            check(key(k), Some(c));
        }
        check(key("x"), None);
        check(key("J"), None);
    }

    #[test]
    fn arrows_and_enter_only_in_the_list() {
        let in_list = |k| Press {
            in_list: true,
            ..key(k)
        };
        check(in_list("ArrowDown"), Some(Command::Next));
        check(in_list("ArrowUp"), Some(Command::Previous));
        check(in_list("Enter"), Some(Command::Open));
        check(key("ArrowDown"), None);
        check(key("Enter"), None);
    }

    #[test]
    fn typing_modifiers_and_dialogs_keep_their_keys() {
        check(
            Press {
                typing: true,
                ..key("j")
            },
            None,
        );
        check(
            Press {
                typing: true,
                in_list: true,
                ..key("Enter")
            },
            None,
        );
        check(
            Press {
                ctrl: true,
                ..key("r")
            },
            None,
        );
        check(
            Press {
                meta: true,
                ..key("c")
            },
            None,
        );
        check(
            Press {
                alt: true,
                ..key("f")
            },
            None,
        );
        check(
            Press {
                modal: true,
                ..key("#")
            },
            None,
        );
    }
}
