//! The key file: one base64 key (32 bytes) per line, newest first; blank lines and `#` comments are
//! ignored. Created with mode 0600, never written over: a new file is linked into place only if no
//! file is there (two instances starting together keep one key), and `secrets rotate` replaces it by
//! renaming a complete new file over it.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{source_name}: line {line} is not a base64 key of 32 bytes")]
    Malformed { source_name: String, line: usize },
    #[error("{0}: no key in it")]
    Empty(String),
    #[error("secret key file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

pub fn generate_key() -> [u8; 32] {
    rand::random()
}

/// Keys from text: one per line or comma-separated, newest first.
pub fn parse(text: &str, source_name: &str) -> Result<Vec<[u8; 32]>, KeyFileError> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for item in line.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let bytes = STANDARD.decode(item).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
            keys.push(
                bytes.ok_or_else(|| KeyFileError::Malformed {
                    source_name: source_name.into(),
                    line: n + 1,
                })?,
            );
        }
    }
    if keys.is_empty() {
        return Err(KeyFileError::Empty(source_name.into()));
    }
    Ok(keys)
}

/// The file's keys, or None if there is no file.
pub fn read(path: &Path) -> Result<Option<Vec<[u8; 32]>>, KeyFileError> {
    let io = |source| KeyFileError::Io { path: path.to_path_buf(), source };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(file = %path.display(), mode = format!("{:o}", mode & 0o777), "the secret key file can be read by other users; chmod 600 it");
    }
    parse(&text, &path.display().to_string()).map(Some)
}

/// Creates the file holding `key`, unless one exists: then its keys are answered.
pub fn create(path: &Path, key: &[u8; 32]) -> Result<Option<Vec<[u8; 32]>>, KeyFileError> {
    let io = |source| KeyFileError::Io { path: path.to_path_buf(), source };
    let temp = write_temp(path, &[*key])?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(io(e)),
    }
}

/// Replaces the file with `keys` (newest first) in one rename.
pub fn replace(path: &Path, keys: &[[u8; 32]]) -> Result<(), KeyFileError> {
    let temp = write_temp(path, keys)?;
    std::fs::rename(&temp, path).map_err(|source| KeyFileError::Io { path: path.to_path_buf(), source })
}

/// A complete, synced file beside `path`, mode 0600.
fn write_temp(path: &Path, keys: &[[u8; 32]]) -> Result<PathBuf, KeyFileError> {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(name);
    let io = |source| KeyFileError::Io { path: temp.clone(), source };
    let mut text = String::from(
        "# chatgate secret keys, newest first. Keep this file: without it the database's secrets cannot be read.\n",
    );
    for key in keys {
        text.push_str(&STANDARD.encode(key));
        text.push('\n');
    }
    let _ = std::fs::remove_file(&temp);
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(temp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_from_lines_and_lists() {
        let (a, b) = (generate_key(), generate_key());
        let text = format!("# comment\n{}\n\n{} # older\n", STANDARD.encode(a), STANDARD.encode(b));
        assert_eq!(parse(&text, "f").unwrap(), vec![a, b]);
        assert_eq!(
            parse(&format!("{}, {}", STANDARD.encode(b), STANDARD.encode(a)), "env").unwrap(),
            vec![b, a]
        );
        assert!(matches!(parse("c2hvcnQ=", "env"), Err(KeyFileError::Malformed { line: 1, .. })));
        assert!(matches!(parse("# nothing\n", "f"), Err(KeyFileError::Empty(_))));
    }
}
