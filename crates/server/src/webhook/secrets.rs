//! Which secret a delivery must be signed with: its repository's own, when an admin made one,
//! else its organization's. The repository is read from the body before it is verified, so
//! only to pick the key; whatever the body says, it then verifies under that key or not at all.

use serde::Deserialize;

/// The one payload field that picks the secret.
#[derive(Deserialize)]
struct Payload {
    repository: Option<Repository>,
}

#[derive(Deserialize)]
struct Repository {
    full_name: String,
}

/// The payload's `repository.full_name`, lowercase, if it names one.
pub fn repository_of(body: &[u8]) -> Option<String> {
    let payload: Payload = serde_json::from_slice(body).ok()?;
    Some(payload.repository?.full_name.to_ascii_lowercase())
}

/// `owner/name` as a repository's secret is kept under (lowercase, as GitHub matches names),
/// or why it is not a GitHub repository name.
pub fn repository_name(owner: &str, name: &str) -> Result<String, String> {
    let owner_ok = (1..=39).contains(&owner.len())
        && owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let name_ok = (1..=100).contains(&name.len())
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if owner_ok && name_ok {
        Ok(format!("{owner}/{name}").to_ascii_lowercase())
    } else {
        Err(format!("{owner}/{name} is not a GitHub repository name"))
    }
}

/// What a secret is sealed for: it opens for its organization (and repository) only.
pub fn context(org: &str, repository: Option<&str>) -> String {
    match repository {
        Some(repository) => format!("github-webhook:{org}/{repository}"),
        None => format!("github-webhook:{org}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payloads_repository_picks_the_secret() {
        let body = br#"{"ref": "refs/heads/main", "repository": {"full_name": "Acme/Website"}}"#;
        assert_eq!(repository_of(body).as_deref(), Some("acme/website"));
        assert_eq!(repository_of(br#"{"zen": "ping"}"#), None);
        assert_eq!(repository_of(b"not json"), None);
    }

    #[test]
    fn repository_names_are_githubs() {
        assert_eq!(
            repository_name("Acme", "web.site_2-x").as_deref(),
            Ok("acme/web.site_2-x")
        );
        for (owner, name) in [("acme", ".."), ("ac/me", "x"), ("", "x"), ("acme", "a b")] {
            assert!(repository_name(owner, name).is_err(), "{owner}/{name}");
        }
    }
}
