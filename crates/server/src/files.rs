//! Files only the server's own user may read: the encryption key and the demo tokens.

use std::fs::OpenOptions;
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
