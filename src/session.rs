//! The signed-in session: the access token (kept in `localStorage`) and the user it belongs to,
//! provided to the whole app by [`SessionProvider`] and read with [`use_session`].

use keyless_api_types::{OrgRole, User};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{ApiFailure, Client};

/// The `localStorage` key holding the access token.
pub const TOKEN_KEY: &str = "keyless.token";

/// The app-wide session. Cheap to copy; every field is a signal.
#[derive(Clone, Copy)]
pub struct Session {
    /// The access token, when signed in.
    pub token: RwSignal<Option<String>>,
    /// The user the token belongs to, once known.
    pub user: RwSignal<Option<User>>,
    /// Why the user could not be loaded for a stored token (the API was unreachable).
    pub load_error: RwSignal<Option<String>>,
}

impl Session {
    /// A session for `token` and `user`, touching neither storage nor the network.
    pub fn new(token: Option<String>, user: Option<User>) -> Self {
        Self {
            token: RwSignal::new(token),
            user: RwSignal::new(user),
            load_error: RwSignal::new(None),
        }
    }

    /// An API client for the current token; a 401 from it signs out.
    pub fn client(&self) -> Client {
        let session = *self;
        Client::new(
            self.token.get_untracked().unwrap_or_default(),
            Some(Callback::new(move |()| session.sign_out())),
        )
    }

    /// Stores a validated token and its user.
    pub fn sign_in(&self, token: String, user: User) {
        // Storage can be unavailable (private mode); the session then lasts for this page only.
        if let Some(storage) = local_storage() {
            let _ = storage.set_item(TOKEN_KEY, &token);
        }
        self.load_error.set(None);
        self.user.set(Some(user));
        self.token.set(Some(token));
    }

    /// Forgets the token and the user.
    pub fn sign_out(&self) {
        if let Some(storage) = local_storage() {
            let _ = storage.remove_item(TOKEN_KEY);
        }
        self.token.set(None);
        self.user.set(None);
        self.load_error.set(None);
    }

    /// Whether the signed-in user is an admin of `org`.
    pub fn is_admin_of(&self, org: &str) -> bool {
        self.user
            .read()
            .as_ref()
            .and_then(|u| u.role_in(org))
            .is_some_and(|role| role == OrgRole::Admin)
    }

    /// Whether the signed-in user may start, cancel and pause `org`'s deployments: admins and
    /// members may; any other role (Pulumi's stack collaborators, billing managers …) only reads.
    pub fn can_deploy_in(&self, org: &str) -> bool {
        self.user
            .read()
            .as_ref()
            .and_then(|u| u.role_in(org))
            .is_some_and(OrgRole::can_deploy)
    }

    /// Loads the user for the stored token.
    fn load_user(&self) {
        let session = *self;
        spawn_local(async move {
            match session.client().user().await {
                Ok(user) => session.user.set(Some(user)),
                // A 401 has already signed out through the client.
                Err(ApiFailure::Api(error)) if error.code == 401 => {}
                Err(failure) => session.load_error.set(Some(failure.to_string())),
            }
        });
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// The session provided by [`SessionProvider`].
pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// Provides the [`Session`] to its children, restoring a stored token and loading its user.
#[component]
pub fn SessionProvider(children: Children) -> impl IntoView {
    // Earlier consoles stored the token as a JSON string, in quotes.
    let stored = local_storage()
        .and_then(|storage| storage.get_item(TOKEN_KEY).ok().flatten())
        .map(|t| t.trim_matches('"').to_owned())
        .filter(|t| !t.is_empty());
    let session = Session::new(stored, None);
    if session.token.get_untracked().is_some() {
        session.load_user();
    }
    provide_context(session);
    children()
}

/// The sign-in page's path.
pub const SIGN_IN: &str = "/signin";

/// Where to go after signing in: `next` when it is a path inside this app (other than sign-in
/// itself), else the stacks.
pub fn after_sign_in(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.starts_with(SIGN_IN) =>
        {
            path.to_owned()
        }
        _ => "/stacks".to_owned(),
    }
}

/// The sign-in page, asked to come back to `here` afterwards.
pub fn sign_in_path(here: &str) -> String {
    let mut encoded = String::with_capacity(here.len());
    for byte in here.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{SIGN_IN}?next={encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Guards against an open redirect through `/signin?next=`.
    #[test]
    fn after_sign_in_stays_inside_the_app() {
        assert_eq!(
            after_sign_in(Some("/acme/web/prod/settings/deploy")),
            "/acme/web/prod/settings/deploy"
        );
        for outside in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "/signin?next=/signin",
            "",
        ] {
            assert_eq!(after_sign_in(Some(outside)), "/stacks", "{outside}");
        }
        assert_eq!(after_sign_in(None), "/stacks");
    }

    #[test]
    fn sign_in_path_encodes_where_to_come_back() {
        assert_eq!(
            sign_in_path("/acme/web/prod/settings/deploy"),
            "/signin?next=/acme/web/prod/settings/deploy"
        );
        assert_eq!(
            sign_in_path("/stacks?q=a&b=c d"),
            "/signin?next=/stacks%3Fq%3Da%26b%3Dc%20d"
        );
    }
}
