//! A stack's git credentials (`sourceContext.git.gitAuth`), opened and put in the forms git
//! takes them in: an `Authorization: Basic` header (an access token or basic auth), or an SSH
//! private key. The deployment's `Get source` step and the webhook's reachability check both
//! hand them to git this way, never on a command line.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyless_api_types::{GitAuthConfig, SecretValue};

/// What git is given.
pub enum GitCredentials {
    None,
    /// The value of an `http.extraHeader`: `Authorization: Basic …`.
    Header(String),
    /// An SSH private key without a passphrase, ending with a newline.
    SshKey(String),
}

/// Opened credentials, with every string that must stay out of logs and messages.
pub struct Opened {
    pub credentials: GitCredentials,
    pub secrets: Vec<String>,
}

/// Opens `auth`'s secrets with `open` (which answers `None` when one cannot be decrypted).
pub fn open(
    auth: Option<&GitAuthConfig>,
    open: impl Fn(&SecretValue) -> Option<String>,
) -> Result<Opened, String> {
    let open = |secret, what: &str| open(secret).ok_or(format!("cannot decrypt the git {what}"));
    let none = || Opened {
        credentials: GitCredentials::None,
        secrets: Vec::new(),
    };
    let Some(auth) = auth else {
        return Ok(none());
    };
    if let Some(ssh) = &auth.ssh_auth {
        if ssh.password.is_some() {
            return Err(
                "passphrase-protected SSH keys are not supported; use a key without a passphrase"
                    .into(),
            );
        }
        let mut key = open(&ssh.ssh_private_key, "SSH key")?;
        if !key.ends_with('\n') {
            key.push('\n');
        }
        return Ok(Opened {
            secrets: vec![key.clone()],
            credentials: GitCredentials::SshKey(key),
        });
    }
    let (basic, secret) = if let Some(token) = &auth.access_token {
        let token = open(token, "access token")?;
        (format!("x-access-token:{token}"), token)
    } else if let Some(basic) = &auth.basic_auth {
        let user = open(&basic.user_name, "user name")?;
        let password = open(&basic.password, "password")?;
        (format!("{user}:{password}"), password)
    } else {
        return Ok(none());
    };
    let encoded = STANDARD.encode(basic);
    Ok(Opened {
        credentials: GitCredentials::Header(format!("Authorization: Basic {encoded}")),
        secrets: vec![secret, encoded],
    })
}

/// The password in `https://user:password@host/…`, if any.
pub fn url_password(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password.to_owned()).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless_api_types::{BasicAuth, SshAuth};

    fn secret(value: &str) -> SecretValue {
        SecretValue {
            secret: String::new(),
            ciphertext: Some(value.to_owned()),
        }
    }

    fn opened(auth: GitAuthConfig) -> Result<Opened, String> {
        open(Some(&auth), |s| s.ciphertext.clone())
    }

    #[test]
    fn tokens_and_passwords_become_a_basic_header() {
        let token = opened(GitAuthConfig {
            access_token: Some(secret("ghp_abc")),
            ..GitAuthConfig::default()
        })
        .expect("opens");
        let GitCredentials::Header(header) = &token.credentials else {
            panic!("a header");
        };
        let encoded = STANDARD.encode("x-access-token:ghp_abc");
        assert_eq!(header, &format!("Authorization: Basic {encoded}"));
        assert_eq!(token.secrets, ["ghp_abc".to_owned(), encoded]);
        let basic = opened(GitAuthConfig {
            basic_auth: Some(BasicAuth {
                user_name: secret("git"),
                password: secret("pw"),
            }),
            ..GitAuthConfig::default()
        })
        .expect("opens");
        assert!(basic.secrets.contains(&"pw".to_owned()));
    }

    #[test]
    fn ssh_keys_end_with_a_newline_and_passphrases_are_refused() {
        let key = opened(GitAuthConfig {
            ssh_auth: Some(SshAuth {
                ssh_private_key: secret("KEY"),
                password: None,
            }),
            ..GitAuthConfig::default()
        })
        .expect("opens");
        assert!(matches!(key.credentials, GitCredentials::SshKey(ref k) if k == "KEY\n"));
        let refused = opened(GitAuthConfig {
            ssh_auth: Some(SshAuth {
                ssh_private_key: secret("KEY"),
                password: Some(secret("pass")),
            }),
            ..GitAuthConfig::default()
        });
        assert!(refused.is_err());
        assert!(open(None, |_| None).is_ok());
        let undecryptable = open(
            Some(&GitAuthConfig {
                access_token: Some(secret("x")),
                ..GitAuthConfig::default()
            }),
            |_| None,
        );
        assert_eq!(
            undecryptable.err().as_deref(),
            Some("cannot decrypt the git access token")
        );
    }

    #[test]
    fn url_passwords() {
        let url = "https://bob:s3cret@git.example.com/acme/infra.git";
        assert_eq!(url_password(url).as_deref(), Some("s3cret"));
        assert_eq!(url_password("git@github.com:acme/infra.git"), None);
    }
}
