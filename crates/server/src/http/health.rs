//! `GET /healthz`: answers once the server is up, for scripts waiting on startup.

use super::Routes;

pub fn router() -> Routes {
    Routes::default().get("/healthz", || async { "ok" })
}
