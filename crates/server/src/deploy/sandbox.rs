//! The sandbox every process of a deployment runs in: bubblewrap, with new user, PID, IPC,
//! UTS and mount namespaces (the network is shared, so that deployments reach their clouds and
//! git hosts).
//!
//! Inside, the system is read-only (`/usr`, and from `/etc` only what resolving names, TLS and
//! the dynamic linker need), `/proc` shows the sandbox's own processes, `/tmp` is private, and
//! the deployment's work dir, bound at its own path, is the only writable place; `HOME` is a
//! fresh folder in it. Nothing else of the host is there: not the data dir (the key that seals
//! every secret, the OIDC signing keys, the database), not the operator's home, not the
//! server's environment, not other deployments. The kernel's settings in `/proc` are read-only,
//! and no user namespace can be made inside. The process runs as an unprivileged uid, and
//! when the sandbox's first process ends, or the server dies, the PID namespace ends with
//! every process in it, including ones that called `setsid`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::process::Spec;

/// The user id a deployment's processes have inside the sandbox.
const UID: u32 = 1000;
/// The user name that id has, in the sandbox's own `/etc/passwd`.
const USER: &str = "deployer";
/// `PATH` inside the sandbox: only the system's directories (and, prepended by the job, the
/// pulumi CLI's).
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// What of the host's `/etc` a deployment sees, read-only: name resolution, TLS roots, the
/// dynamic linker's cache, time zone, and Debian's alternatives (symlinks into `/usr`).
const ETC: &[&str] = &[
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/alternatives",
    "/etc/ssh/ssh_config",
    "/etc/ssh/ssh_config.d",
];
/// Top-level directories that are symlinks into `/usr` on merged-/usr systems (and bound
/// read-only where they are real directories).
const USR_LINKS: &[&str] = &["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];
/// What of the sandbox's `/proc` is read-only besides what bubblewrap makes so: the kernel's
/// settings and triggers. A server running as root maps the sandbox's user to root, which may
/// write them (`kernel.core_pattern` runs a program as real root).
const PROC_READ_ONLY: &[&str] = &["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"];

/// How this server runs deployment processes.
#[derive(Clone, Debug)]
pub enum Sandbox {
    /// In bubblewrap, at this path, checked to work on this machine at start.
    Bubblewrap(PathBuf),
    /// Without a sandbox (`--no-sandbox`).
    Off,
    /// bubblewrap is missing or does not work here: deployments refuse to start, saying this.
    Unavailable(String),
}

/// What one deployment's sandbox shows besides the system.
#[derive(Clone, Debug, Default)]
pub struct View {
    /// The deployment's work dir, the only writable place.
    pub work_dir: PathBuf,
    /// Host paths shown read-only at the same path (the pulumi CLI's folder, a local
    /// repository's git dir).
    pub read_only: Vec<PathBuf>,
}

/// The line that opens every deployment's log on a server started with `--no-sandbox`.
pub const NO_SANDBOX_WARNING: &str = "Warning: this server runs deployments without a sandbox \
    (--no-sandbox): this deployment's commands run as the server's own user and can read \
    whatever it can";

impl Sandbox {
    /// The sandbox of a server started with `no_sandbox` or not: bubblewrap at `bwrap` when
    /// given, else found on `PATH` (or in `/usr/bin`), and tried once, in a scratch folder
    /// under `work_root`.
    pub fn detect(no_sandbox: bool, bwrap: Option<&Path>, work_root: &Path) -> Self {
        if no_sandbox {
            return Self::Off;
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        let found = match bwrap {
            Some(bwrap) => Some(bwrap.to_owned()).filter(|b| b.is_file()),
            None => std::env::split_paths(&path)
                .chain([PathBuf::from("/usr/bin")])
                .map(|dir| dir.join("bwrap"))
                .find(|candidate| candidate.is_file()),
        };
        let Some(bwrap) = found else {
            return Self::Unavailable(
                "deployments run in a bubblewrap sandbox, and bubblewrap (bwrap) is not installed \
                 on this server: install it (Debian and Ubuntu: apt-get install bubblewrap; \
                 Fedora: dnf install bubblewrap), or start the server with --no-sandbox if it \
                 runs in a container of its own"
                    .into(),
            );
        };
        let sandbox = Self::Bubblewrap(bwrap);
        match sandbox.probe(work_root) {
            Ok(()) => sandbox,
            Err(why) => Self::Unavailable(format!(
                "deployments run in a bubblewrap sandbox, and bubblewrap does not work on this \
                 machine ({why}); it needs unprivileged user namespaces (sysctl \
                 kernel.unprivileged_userns_clone=1, or on Ubuntu an AppArmor profile for bwrap), \
                 or start the server with --no-sandbox if it runs in a container of its own"
            )),
        }
    }

    /// Runs `true` in a sandbox like a deployment's.
    fn probe(&self, work_root: &Path) -> Result<(), String> {
        let scratch = work_root.join(format!(".probe-{}", uuid::Uuid::new_v4()));
        self.prepare(&scratch)
            .map_err(|err| format!("cannot create {}: {err}", scratch.display()))?;
        let spec = self.wrap(
            Spec {
                program: PathBuf::from("/bin/sh"),
                args: vec!["-c".into(), "true".into()],
                cwd: scratch.clone(),
                env: BTreeMap::new(),
            },
            &View {
                work_dir: scratch.clone(),
                read_only: Vec::new(),
            },
        );
        let output = std::process::Command::new(&spec.program)
            .args(&spec.args)
            .env_clear()
            .output();
        let _ = remove(&scratch);
        match output {
            Ok(output) if output.status.success() => Ok(()),
            Ok(output) => Err(String::from_utf8_lossy(&output.stderr).trim().to_owned()),
            Err(err) => Err(err.to_string()),
        }
    }

    /// Creates `work_dir` with the fresh `HOME` in it and, beside it, the `/etc/passwd` and
    /// `/etc/group` naming the sandbox's user (ssh and others look the user up).
    pub fn prepare(&self, work_dir: &Path) -> std::io::Result<()> {
        crate::files::create_private_dir(work_dir)?;
        std::fs::create_dir_all(home(work_dir))?;
        if matches!(self, Self::Bubblewrap(_)) {
            let etc = etc_dir(work_dir);
            crate::files::create_private_dir(&etc)?;
            let home = home(work_dir);
            let passwd = format!(
                "root:x:0:0:root:/root:/usr/sbin/nologin\n\
                 {USER}:x:{UID}:{UID}:Keyless deployment:{}:/bin/sh\n\
                 nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                home.display()
            );
            let group = format!("root:x:0:\n{USER}:x:{UID}:\nnogroup:x:65534:\n");
            std::fs::write(etc.join("passwd"), passwd)?;
            std::fs::write(etc.join("group"), group)?;
        }
        Ok(())
    }

    /// The environment every process of a deployment with `work_dir` starts from: a fresh
    /// `HOME`, and a `PATH` of the system's folders (in the sandbox) or the server's.
    pub fn base_env(&self, work_dir: &Path) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let inherit = |env: &mut BTreeMap<String, String>, name: &str| {
            if let Ok(value) = std::env::var(name) {
                env.insert(name.to_owned(), value);
            }
        };
        for name in ["LANG", "LC_ALL"] {
            inherit(&mut env, name);
        }
        env.insert("HOME".into(), home(work_dir).display().to_string());
        match self {
            Self::Off => {
                for name in [
                    "PATH",
                    "USER",
                    "LOGNAME",
                    "TMPDIR",
                    "SSL_CERT_FILE",
                    "SSL_CERT_DIR",
                ] {
                    inherit(&mut env, name);
                }
            }
            Self::Bubblewrap(_) | Self::Unavailable(_) => {
                env.insert("PATH".into(), PATH.into());
                env.insert("USER".into(), USER.into());
                env.insert("LOGNAME".into(), USER.into());
                env.insert("TMPDIR".into(), "/tmp".into());
            }
        }
        env
    }

    /// `spec` as it runs in this sandbox, showing `view`.
    pub fn wrap(&self, spec: Spec, view: &View) -> Spec {
        let Self::Bubblewrap(bwrap) = self else {
            return spec;
        };
        let mut args: Vec<String> = [
            "--unshare-all",
            "--share-net",
            "--unshare-user",
            "--die-with-parent",
            "--hostname",
            "keyless-deployment",
        ]
        .map(String::from)
        .to_vec();
        args.extend(["--uid".into(), UID.to_string()]);
        args.extend(["--gid".into(), UID.to_string()]);
        args.extend(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"].map(String::from));
        // No user namespaces inside: they would give its processes every capability there.
        args.push("--disable-userns".into());
        let mut bind = |flag: &str, from: &Path, to: &Path| {
            args.extend([
                flag.to_owned(),
                from.display().to_string(),
                to.display().to_string(),
            ]);
        };
        bind("--ro-bind", Path::new("/usr"), Path::new("/usr"));
        for dir in USR_LINKS.iter().map(Path::new) {
            match std::fs::read_link(dir) {
                Ok(target) => bind("--symlink", &target, dir),
                Err(_) => bind("--ro-bind-try", dir, dir),
            }
        }
        for path in ETC.iter().chain(PROC_READ_ONLY).map(Path::new) {
            bind("--ro-bind-try", path, path);
        }
        let etc = etc_dir(&view.work_dir);
        bind("--ro-bind", &etc.join("passwd"), Path::new("/etc/passwd"));
        bind("--ro-bind", &etc.join("group"), Path::new("/etc/group"));
        bind("--bind", &view.work_dir, &view.work_dir);
        // Never a source the sandbox can write: bubblewrap follows links in bind sources, as the
        // server, at every start.
        for path in view
            .read_only
            .iter()
            .filter(|p| !p.starts_with(&view.work_dir))
        {
            bind("--ro-bind", path, path);
        }
        args.extend([
            "--chdir".into(),
            spec.cwd.display().to_string(),
            "--".into(),
        ]);
        args.push(spec.program.display().to_string());
        args.extend(spec.args);
        Spec {
            program: bwrap.clone(),
            args,
            // bubblewrap itself runs in the work dir; the process gets `--chdir`.
            cwd: view.work_dir.clone(),
            env: spec.env,
        }
    }
}

/// Removes a deployment's work dir and the sandbox's files beside it.
pub fn remove(work_dir: &Path) -> std::io::Result<()> {
    let removed = std::fs::remove_dir_all(work_dir);
    let _ = std::fs::remove_dir_all(etc_dir(work_dir));
    match removed {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Where the sandbox's `/etc/passwd` and `/etc/group` are kept: beside the work dir, never in
/// it, so that nothing a deployment runs can replace them (with a link to the data dir, say)
/// before its next process starts.
fn etc_dir(work_dir: &Path) -> PathBuf {
    let mut name = work_dir.file_name().unwrap_or_default().to_owned();
    name.push(".etc");
    work_dir.with_file_name(name)
}

/// The deployment's `HOME`, inside its work dir.
pub fn home(work_dir: &Path) -> PathBuf {
    work_dir.join("home")
}

/// What deployments are never shown.
#[derive(Clone, Copy, Debug)]
pub struct Guarded<'a> {
    /// The server's data dir: the key that seals every secret, the database (an agent has
    /// none).
    pub data_dir: Option<&'a Path>,
    /// Where every deployment's work dir is.
    pub work_root: &'a Path,
    /// The secret key, when `--secret-key-file` keeps it outside the data dir.
    pub secret_key: Option<&'a Path>,
}

/// Whether the host folder `path` (absolute, symlinks resolved) may be shown to deployments
/// read-only. Not the root, nor a folder that holds or is inside what is [`Guarded`], nor one
/// that holds the server user's home (`~/.ssh`, `~/.aws`, `~/.pulumi`).
pub fn may_show(path: &Path, guarded: &Guarded) -> Result<(), String> {
    // The home as the system knows it too: `HOME` may be unset (a service) or a link.
    let account_home = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|user| user.dir);
    let homes: Vec<PathBuf> = std::env::var_os("HOME")
        .map(PathBuf::from)
        .into_iter()
        .chain(account_home)
        .map(|home| home.canonicalize().unwrap_or(home))
        .collect();
    let overlaps = |guarded: &Path| guarded.starts_with(path) || path.starts_with(guarded);
    if path.parent().is_none() || !path.is_absolute() {
        Err(format!(
            "{} would show the whole filesystem",
            path.display()
        ))
    } else if guarded.data_dir.is_some_and(overlaps) {
        Err(format!("{} overlaps the server's data dir", path.display()))
    } else if overlaps(guarded.work_root) {
        Err(format!(
            "{} overlaps the work dirs of deployments",
            path.display()
        ))
    } else if guarded.secret_key.is_some_and(overlaps) {
        Err(format!("{} holds the server's secret key", path.display()))
    } else if homes.iter().any(|home| home.starts_with(path)) {
        Err(format!("{} holds the server user's home", path.display()))
    } else {
        Ok(())
    }
}

/// Whether every sandbox shows `path` (absolute, symlinks resolved): it is under `/usr`, a
/// directory linked into it, or one of the files of `/etc` deployments see.
pub fn always_shown(path: &Path) -> bool {
    std::iter::once("/usr")
        .chain(USR_LINKS.iter().copied())
        .chain(ETC.iter().copied())
        .any(|shown| path.starts_with(shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_around_the_data_dir_the_work_root_the_key_or_home_is_shown() {
        let guarded = Guarded {
            data_dir: Some(Path::new("/srv/keyless/data")),
            work_root: Path::new("/var/tmp/keyless-work"),
            secret_key: Some(Path::new("/etc/keyless/secret.key")),
        };
        assert!(may_show(Path::new("/srv/repos/infra/.git"), &guarded).is_ok());
        for refused in [
            "/",
            "/srv",
            "/srv/keyless",
            "/srv/keyless/data",
            "/srv/keyless/data/x",
            "/var/tmp",
            "/var/tmp/keyless-work/other-deployment",
            "/etc",
            "/etc/keyless",
        ] {
            assert!(may_show(Path::new(refused), &guarded).is_err(), "{refused}");
        }
        if let Some(home) = std::env::var_os("HOME").map(PathBuf::from)
            && home.parent().is_some()
        {
            assert!(may_show(&home, &guarded).is_err());
            assert!(may_show(home.parent().unwrap_or(&home), &guarded).is_err());
        }
    }

    #[test]
    fn what_every_sandbox_shows() {
        for shown in [
            "/usr/share/keyless/secret.key",
            "/lib/x",
            "/etc/ssl/private/k",
        ] {
            assert!(always_shown(Path::new(shown)), "{shown}");
        }
        for hidden in ["/etc/keyless/secret.key", "/srv/secret.key", "/usrx/k"] {
            assert!(!always_shown(Path::new(hidden)), "{hidden}");
        }
    }

    #[test]
    fn without_bubblewrap_a_spec_runs_as_it_is() {
        let spec = Spec {
            program: PathBuf::from("/bin/true"),
            args: vec!["x".into()],
            cwd: PathBuf::from("/w"),
            env: BTreeMap::new(),
        };
        let wrapped = Sandbox::Off.wrap(spec.clone(), &View::default());
        assert_eq!((wrapped.program, wrapped.args), (spec.program, spec.args));
    }

    #[test]
    fn bubblewrap_shows_the_work_dir_writable_and_the_rest_read_only() {
        let spec = Spec {
            program: PathBuf::from("/usr/bin/git"),
            args: vec!["clone".into()],
            cwd: PathBuf::from("/w/d/source"),
            env: BTreeMap::new(),
        };
        let view = View {
            work_dir: PathBuf::from("/w/d"),
            read_only: vec![PathBuf::from("/opt/pulumi")],
        };
        let wrapped = Sandbox::Bubblewrap(PathBuf::from("/usr/bin/bwrap")).wrap(spec, &view);
        let args = wrapped.args.join(" ");
        for expected in [
            "--unshare-all --share-net --unshare-user --die-with-parent",
            "--uid 1000 --gid 1000",
            "--ro-bind /usr /usr",
            "--bind /w/d /w/d",
            "--ro-bind /opt/pulumi /opt/pulumi",
            "--ro-bind /w/d.etc/passwd /etc/passwd",
            "--ro-bind-try /proc/sys /proc/sys",
            "--disable-userns",
            "--proc /proc",
            "--tmpfs /tmp",
            "--chdir /w/d/source -- /usr/bin/git clone",
        ] {
            assert!(args.contains(expected), "{expected:?} not in {args}");
        }
        assert_eq!(wrapped.program, PathBuf::from("/usr/bin/bwrap"));
        assert_eq!(
            args.matches("--bind ").count(),
            1,
            "one writable place: {args}"
        );
    }
}
