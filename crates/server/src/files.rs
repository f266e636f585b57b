//! Files only the server's own user may read: the data directory, the encryption key and
//! the demo tokens.

use std::fs::{DirBuilder, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` with mode 0600. With `create_new`, fails if the file exists.
pub fn write_private(path: &Path, bytes: &[u8], create_new: bool) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // The mode above applies only when the file is created; tighten an existing one too.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates the directory `path` (and any missing parents) with mode 0700; an existing
/// directory is left as it is.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn private_files_and_dirs_are_owner_only() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("a/data");
        create_private_dir(&dir).expect("creates");
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("tokens.json");
        std::fs::write(&file, "old").expect("writes");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        write_private(&file, b"new", false).expect("overwrites");
        assert_eq!(
            (mode(&file), std::fs::read(&file).expect("reads")),
            (0o600, b"new".to_vec())
        );
        assert!(
            write_private(&file, b"x", true).is_err(),
            "create_new keeps existing files"
        );
    }
}
