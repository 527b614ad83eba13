//! A message is saved whole or not at all: its bytes go to a temporary file beside the final
//! one, which is flushed to disk and renamed only once the server ended the message. A
//! temporary file that is dropped (a failed download, an error anywhere) is removed.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A message being written.
pub struct Partial {
    /// `Some` until committed or dropped.
    file: Option<BufWriter<File>>,
    temp: PathBuf,
    path: PathBuf,
}

impl Partial {
    /// Starts `dir/name` by creating `dir/name.part` (truncating a leftover of a killed run).
    /// The temporary name ends in `.part`, never `.eml`, so it is never taken for a message.
    pub fn create(dir: &Path, name: &str) -> io::Result<Partial> {
        let temp = dir.join(format!("{name}.part"));
        let file = File::create(&temp)?;
        Ok(Partial {
            file: Some(BufWriter::new(file)),
            temp,
            path: dir.join(name),
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.as_mut().expect("not committed").write_all(bytes)
    }

    /// Flushes the bytes to disk, renames the file to its final name and flushes the folder,
    /// so that the message is durably there before anything (a `DELE`) relies on it.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        let file = self.file.take().expect("not committed");
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        fs::rename(&self.temp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            // A directory can be opened and synced on Unix; elsewhere the rename stands as is.
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(std::mem::take(&mut self.path))
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn whole_or_nothing() {
        let dir = std::env::temp_dir().join(format!("postbag-fetch-saving-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();

        let mut whole = Partial::create(&dir, "a.eml").unwrap();
        whole.write(b"Subject: a\r\n\r\nbody\r\n").unwrap();
        assert_eq!(files(&dir), ["a.eml.part"]);
        let path = whole.commit().unwrap();
        assert_eq!(fs::read(path).unwrap(), b"Subject: a\r\n\r\nbody\r\n");

        let mut cut = Partial::create(&dir, "b.eml").unwrap();
        cut.write(b"Subject: b\r\n").unwrap();
        drop(cut);
        assert_eq!(files(&dir), ["a.eml"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
