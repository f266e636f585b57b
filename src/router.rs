//! The console's router: which page the address names, links that change it without a reload,
//! and the browser's back and forward buttons.
//!
//! The console has a dozen routes, all known when it is built, so they are a static table of
//! plain function pointers ([`Route`]) matched segment by segment. `leptos_router` did the
//! same through nested generic route types: replacing it took 44 of the 217 KB (gzipped) that
//! every page's first visit loads (`cargo xtask bench sizes`).

use leptos::ev;
use leptos::prelude::*;
use leptos::tachys::reactive_graph::OwnedView;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlAnchorElement, MouseEvent};

/// One route: a path pattern (`/orgs/:org/deployments`; `:name` binds one segment), the page
/// it shows, routes below it, which the page shows through its [`Outlet`], and what starts
/// fetching its page's code.
pub struct Route {
    pub path: &'static str,
    pub view: fn() -> AnyView,
    pub children: &'static [Route],
    /// Starts fetching the page's module, if it has one. Every page of the matched chain is
    /// fetched at once: a page below another would otherwise wait for the one above to arrive
    /// and show it (after sign-in is checked) before its own fetch began.
    pub preload: Option<fn()>,
}

impl Route {
    /// A route with no routes below it.
    pub const fn leaf(path: &'static str, view: fn() -> AnyView) -> Self {
        Self {
            path,
            view,
            children: &[],
            preload: None,
        }
    }

    /// This route, fetching its page's module with `preload`.
    pub const fn preloaded(self, preload: fn()) -> Self {
        Self {
            preload: Some(preload),
            ..self
        }
    }
}

/// The address the console shows: path, query (`?…` or empty) and fragment (`#…` or empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Url {
    pub path: String,
    pub search: String,
    pub hash: String,
}

impl Url {
    /// The browser's current address.
    fn current() -> Self {
        let location = window().location();
        Self {
            path: location.pathname().unwrap_or_default(),
            search: location.search().unwrap_or_default(),
            hash: location.hash().unwrap_or_default(),
        }
    }
}

/// The current address, and navigation; in context under [`Router`].
#[derive(Clone, Copy)]
pub struct Location {
    url: RwSignal<Url>,
}

impl Location {
    /// The current address (tracked).
    pub fn url(&self) -> Url {
        self.url.get()
    }

    /// The query parameter `key`, decoded (tracked).
    pub fn query(&self, key: &str) -> Option<String> {
        self.url.with(|url| {
            url.search
                .trim_start_matches('?')
                .split('&')
                .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
                .find(|(name, _)| decode(name) == key)
                .map(|(_, value)| decode(&value.replace('+', " ")))
        })
    }

    /// Goes to `href` (a path in this app), as a new entry in the browser's history.
    pub fn navigate(&self, href: &str) {
        self.go(href, false);
    }

    /// Goes to `href` in place of the current history entry (for redirects).
    pub fn replace(&self, href: &str) {
        self.go(href, true);
    }

    /// Shows `url`; nothing reruns when it is the address already shown.
    fn set(&self, url: Url) {
        if self.url.with_untracked(|shown| *shown != url) {
            self.url.set(url);
        }
    }

    fn go(&self, href: &str, replace: bool) {
        let Ok(history) = window().history() else {
            return;
        };
        let state = wasm_bindgen::JsValue::NULL;
        let moved = if replace {
            history.replace_state_with_url(&state, "", Some(href))
        } else {
            history.push_state_with_url(&state, "", Some(href))
        };
        if moved.is_err() {
            return;
        }
        // The page changes in a task of its own, once the caller has finished: code that
        // navigates and then updates its page (`busy.set(false)`), and the effects that wakes,
        // runs while that page is still there.
        let location = *self;
        set_timeout(
            move || {
                let url = Url::current();
                if url.hash.is_empty() {
                    window().scroll_to_with_x_and_y(0.0, 0.0);
                }
                location.set(url);
            },
            std::time::Duration::ZERO,
        );
    }
}

/// The [`Location`] of the enclosing [`Router`].
pub fn use_location() -> Location {
    expect_context()
}

/// Follows the browser's address: provides [`Location`], takes over clicks on links inside
/// the app and follows back and forward.
#[component]
pub fn Router(children: Children) -> impl IntoView {
    let location = Location {
        url: RwSignal::new(Url::current()),
    };
    provide_context(location);
    let on_pop = window_event_listener(ev::popstate, move |_| location.set(Url::current()));
    let on_click = window_event_listener(ev::click, move |event| {
        let Some(anchor) = in_app_link(&event) else {
            return;
        };
        let (path, search) = (anchor.pathname(), anchor.search());
        let here = location.url.get_untracked();
        if path == here.path && search == here.search && !anchor.hash().is_empty() {
            // A fragment of this page: the browser scrolls to it.
            return;
        }
        event.prevent_default();
        if path != here.path || search != here.search || anchor.hash() != here.hash {
            location.navigate(&format!("{path}{search}{}", anchor.hash()));
        }
    });
    on_cleanup(move || {
        on_pop.remove();
        on_click.remove();
    });
    children()
}

/// The link a click follows when it is to a page of this app in this tab: a plain left click,
/// not already handled, on a same-origin link without `target`, `download` or
/// `rel="external"`.
pub fn in_app_link(event: &MouseEvent) -> Option<HtmlAnchorElement> {
    if event.default_prevented()
        || event.button() != 0
        || event.meta_key()
        || event.ctrl_key()
        || event.shift_key()
        || event.alt_key()
    {
        return None;
    }
    let anchor = event
        .target()?
        .dyn_into::<Element>()
        .ok()?
        .closest("a[href]")
        .ok()??
        .dyn_into::<HtmlAnchorElement>()
        .ok()?;
    let same_origin = window()
        .location()
        .origin()
        .is_ok_and(|o| o == anchor.origin());
    let new_context = !matches!(anchor.target().as_str(), "" | "_self");
    let external = anchor
        .get_attribute("rel")
        .is_some_and(|rel| rel.split_whitespace().any(|r| r == "external"));
    (same_origin && !new_context && !external && !anchor.has_attribute("download"))
        .then_some(anchor)
}

/// The routes matched by the current address: the index of the route taken at each level,
/// and the segments their patterns bound.
#[derive(Clone, Debug, Default, PartialEq)]
struct Match {
    chain: Vec<usize>,
    params: Vec<(&'static str, String)>,
}

/// The first route of `routes` (in order, depth first) whose whole chain matches `path`.
fn match_path(routes: &'static [Route], path: &str) -> Option<Match> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut found = Match::default();
    find(routes, &segments, &mut found).then_some(found)
}

fn find(routes: &'static [Route], segments: &[&str], found: &mut Match) -> bool {
    for (index, route) in routes.iter().enumerate() {
        let (depth, bound) = (found.chain.len(), found.params.len());
        let mut rest = segments;
        let mut fits = true;
        for part in route.path.split('/').filter(|s| !s.is_empty()) {
            let Some((segment, after)) = rest.split_first() else {
                fits = false;
                break;
            };
            match part.strip_prefix(':') {
                Some(name) => found.params.push((name, decode(segment))),
                None if part == *segment => {}
                None => {
                    fits = false;
                    break;
                }
            }
            rest = after;
        }
        if fits {
            found.chain.push(index);
            let matched = if route.children.is_empty() {
                rest.is_empty()
            } else {
                find(route.children, rest, found)
            };
            if matched {
                return true;
            }
        }
        found.chain.truncate(depth);
        found.params.truncate(bound);
    }
    false
}

/// `text` with its percent-escapes decoded; as it is when they do not decode to UTF-8.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// What [`Routes`] matched, for the [`Outlet`]s and [`use_param`] below it.
#[derive(Clone, Copy)]
struct Matched {
    routes: &'static [Route],
    found: Memo<Option<Match>>,
}

/// How deep in the route table an [`Outlet`] shows.
#[derive(Clone, Copy)]
struct Depth(usize);

/// Shows the page of the first route in `routes` that the address matches, else `fallback`.
#[component]
pub fn Routes(routes: &'static [Route], fallback: fn() -> AnyView) -> impl IntoView {
    let location = use_location();
    let found = Memo::new(move |_| location.url.with(|url| match_path(routes, &url.path)));
    provide_context(Matched { routes, found });
    Effect::new(move |_| {
        found.with(|found| {
            if let Some(found) = found {
                preload_chain(routes, found);
            }
        })
    });
    level(0, fallback)
}

/// Starts fetching the modules of every page the browser's address shows (before the console
/// is mounted, so that they arrive while it reads its configuration).
pub fn preload(routes: &'static [Route]) {
    if let Some(found) = match_path(routes, &Url::current().path) {
        preload_chain(routes, &found);
    }
}

fn preload_chain(routes: &'static [Route], found: &Match) {
    let mut level = routes;
    for &index in &found.chain {
        let route = &level[index];
        if let Some(preload) = route.preload {
            preload();
        }
        level = route.children;
    }
}

/// Shows the page of the route below the enclosing route's.
#[component]
pub fn Outlet() -> impl IntoView {
    let Depth(depth) = expect_context();
    level(depth, || ().into_any())
}

/// The page at `depth` of the matched chain; built again only when the route taken at `depth`
/// or above changes (a page reads new parameters itself).
///
/// Each page has an owner of its own, held by its view and dropped (its signals disposed, its
/// `on_cleanup`s run) only once the next page has replaced it, as leptos's own `OwnedView`
/// does: a page's effects already queued, and its cleanups, may still read what it shows.
fn level(depth: usize, fallback: fn() -> AnyView) -> impl IntoView {
    let Matched { routes, found } = expect_context();
    let parent = Owner::current().expect("routes are built under an owner");
    // Reference-counted, not owned by the page above: a page's teardown must not dispose what
    // its own last rerun reads.
    let taken = ArcMemo::new(move |_| {
        found.with(|found| {
            found
                .as_ref()
                .and_then(|found| found.chain.get(..=depth).map(<[usize]>::to_vec))
        })
    });
    move || {
        let chain = taken.get();
        let owner = parent.child();
        let view = owner.with(|| match chain {
            Some(chain) => {
                let route = chain[1..]
                    .iter()
                    .fold(&routes[chain[0]], |route, &index| &route.children[index]);
                provide_context(Depth(depth + 1));
                (route.view)()
            }
            None => fallback(),
        });
        OwnedView::new_with_owner(view, owner)
    }
}

/// The route parameter `name` (`:name` in a matched pattern), decoded.
pub fn use_param(name: &'static str) -> Memo<Option<String>> {
    let Matched { found, .. } = expect_context();
    Memo::new(move |_| {
        found.with(|found| {
            found.as_ref().and_then(|found| {
                found
                    .params
                    .iter()
                    .find(|(bound, _)| *bound == name)
                    .map(|(_, value)| value.clone())
            })
        })
    })
}

/// A link inside the app, marked `aria-current="page"` while its page is shown: on exactly
/// `href` when `exact`, else on `href` and the pages below it.
#[component]
pub fn A(
    #[prop(into)] href: String,
    #[prop(optional)] exact: bool,
    #[prop(optional)] class: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let location = use_location();
    let target = href.trim_end_matches('/').to_owned();
    let current = move || {
        let path = location.url.read();
        let path = path.path.trim_end_matches('/');
        let below = !exact
            && path
                .strip_prefix(target.as_str())
                .is_some_and(|rest| rest.starts_with('/'));
        (path == target || below).then_some("page")
    };
    view! { <a href=href class=class aria-current=current>{children()}</a> }
}

/// Goes to `path` in place of the current page, once it has been built.
#[component]
pub fn Redirect(#[prop(into)] path: String) -> impl IntoView {
    let location = use_location();
    queue_microtask(move || location.replace(&path));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> AnyView {
        ().into_any()
    }

    static ROUTES: &[Route] = &[
        Route::leaf("/stacks", page),
        Route::leaf("/orgs/:org/deployments", page),
        Route {
            path: "/:org/:project/:stack",
            view: page,
            children: &[
                Route::leaf("", page),
                Route::leaf("deployments/:version", page),
                Route {
                    path: "settings",
                    view: page,
                    children: &[Route::leaf("deploy", page)],
                    preload: None,
                },
            ],
            preload: None,
        },
    ];

    /// The match of `chain` binding `params`.
    fn taking(chain: &[usize], params: &[(&'static str, &str)]) -> Option<Match> {
        Some(Match {
            chain: chain.to_vec(),
            params: params.iter().map(|&(k, v)| (k, v.to_owned())).collect(),
        })
    }

    fn matched(path: &str) -> Option<Match> {
        match_path(ROUTES, path)
    }

    #[test]
    fn segments_and_queries_are_percent_decoded_when_they_make_utf8() {
        assert_eq!(decode("a%20b%2Fc"), "a b/c");
        assert_eq!(decode("caf%C3%A9"), "café");
        for kept in ["100%", "%zz", "%+1", "%C3", "plain"] {
            assert_eq!(decode(kept), kept);
        }
    }

    #[test]
    fn static_routes_come_before_patterns_that_would_also_match() {
        assert_eq!(matched("/stacks"), taking(&[0], &[]));
        assert_eq!(
            matched("/orgs/acme/deployments"),
            taking(&[1], &[("org", "acme")])
        );
    }

    #[test]
    fn nested_routes_bind_every_level_and_need_the_whole_path() {
        let stack = [("org", "acme"), ("project", "web"), ("stack", "prod")];
        assert_eq!(matched("/acme/web/prod"), taking(&[2, 0], &stack));
        assert_eq!(matched("/acme/web/prod/"), taking(&[2, 0], &stack));
        assert_eq!(
            matched("/acme/web/prod/deployments/7"),
            taking(&[2, 1], &[stack[0], stack[1], stack[2], ("version", "7")])
        );
        assert_eq!(
            matched("/acme/web/prod/settings/deploy"),
            taking(&[2, 2, 0], &stack)
        );
        assert_eq!(
            matched("/acme/web%20app/prod"),
            taking(&[2, 0], &[stack[0], ("project", "web app"), stack[2]])
        );
        for unknown in [
            "/",
            "/acme",
            "/acme/web/prod/deployments",
            "/acme/web/prod/settings",
            "/acme/web/prod/deployments/7/more",
            "/stacks/extra",
        ] {
            assert_eq!(matched(unknown), None, "{unknown}");
        }
    }
}
