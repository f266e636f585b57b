//! The stacks the user can see, grouped by organization and project.

use std::collections::BTreeMap;

use keyless_api_types::StackSummary;
use leptos::prelude::*;

use crate::components::{PageTitle, RelativeTime};
use crate::load::{load, load_failed, loading};
use crate::router::A;
use crate::session::use_session;

/// The stacks of one project.
pub type ProjectStacks = (String, Vec<StackSummary>);

/// Groups stacks by organization, then project, each level sorted by name.
pub fn group_stacks(stacks: &[StackSummary]) -> Vec<(String, Vec<ProjectStacks>)> {
    let mut orgs: BTreeMap<&str, BTreeMap<&str, BTreeMap<&str, &StackSummary>>> = BTreeMap::new();
    for stack in stacks {
        orgs.entry(&stack.org_name)
            .or_default()
            .entry(&stack.project_name)
            .or_default()
            .insert(&stack.stack_name, stack);
    }
    orgs.into_iter()
        .map(|(org, projects)| {
            let projects = projects
                .into_iter()
                .map(|(project, stacks)| {
                    (project.to_owned(), stacks.into_values().cloned().collect())
                })
                .collect();
            (org.to_owned(), projects)
        })
        .collect()
}

/// When the stack was last updated, and how many resources it has.
fn stack_meta(stack: &StackSummary) -> impl IntoView + use<> {
    let update = match stack.last_update {
        Some(seconds) => view! { "Updated " <RelativeTime ms=seconds * 1_000 /> }.into_any(),
        None => "Never updated".into_any(),
    };
    let resources = match stack.resource_count {
        Some(1) => " · 1 resource".to_owned(),
        Some(n) => format!(" · {n} resources"),
        None => String::new(),
    };
    view! { {update}{resources} }
}

/// The signed-in user's stacks, grouped by organization and project.
#[component]
pub fn StacksPage() -> impl IntoView {
    let session = use_session();
    let stacks = load(move || {
        let client = session.client();
        async move { client.stacks().await }
    });
    view! {
        <PageTitle text="Stacks" />
        <div class="page-header">
            <h1>"Stacks"</h1>
        </div>
        {move || match stacks.get() {
                    None => loading("stacks"),
                    Some(Ok(list)) if list.stacks.is_empty() => view! {
                        <section class="empty-state">
                            <h2>"No stacks yet"</h2>
                            <p>
                                "Stacks appear here once they are created in an organization you belong to, "
                                "for example with " <code>"pulumi stack init"</code> "."
                            </p>
                        </section>
                    }
                    .into_any(),
                    Some(Ok(list)) => group_stacks(&list.stacks)
                        .into_iter()
                        .map(|(org, projects)| view! { <OrgStacks org projects /> })
                        .collect_view()
                        .into_any(),
                    Some(Err(failure)) => load_failed("stacks", &failure),
        }}
    }
}

/// One organization's projects and their stacks.
#[component]
fn OrgStacks(
    /// The organization's name.
    org: String,
    /// Its projects, each with its stacks.
    projects: Vec<ProjectStacks>,
) -> impl IntoView {
    let heading_id = format!("org-{org}");
    let labelled_by = heading_id.clone();
    view! {
        <section class="org" aria-labelledby=labelled_by>
            <h2 id=heading_id>{org}</h2>
            {projects
                .into_iter()
                .map(|(project, stacks)| view! {
                    <div class="project card">
                        <h3>{project}</h3>
                        <ul class="stack-list">
                            {stacks
                                .into_iter()
                                .map(|stack| {
                                    let href = format!("/{}", stack.stack_ref());
                                    let meta = stack_meta(&stack);
                                    view! {
                                        <li>
                                            <A href=href>{stack.stack_name}</A>
                                            <span class="meta">{meta}</span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </div>
                })
                .collect_view()}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(org: &str, project: &str, stack: &str) -> StackSummary {
        StackSummary {
            id: format!("{org}/{project}/{stack}"),
            org_name: org.into(),
            project_name: project.into(),
            stack_name: stack.into(),
            last_update: None,
            resource_count: None,
        }
    }

    #[test]
    fn groups_by_org_then_project_sorted() {
        let stacks = [
            summary("zeta", "api", "prod"),
            summary("acme", "web", "prod"),
            summary("acme", "api", "staging"),
            summary("acme", "web", "dev"),
        ];
        let rendered: Vec<String> = group_stacks(&stacks)
            .into_iter()
            .map(|(org, projects)| {
                let projects: Vec<String> = projects
                    .iter()
                    .map(|(project, stacks)| {
                        let names: Vec<&str> =
                            stacks.iter().map(|s| s.stack_name.as_str()).collect();
                        format!("{project}[{}]", names.join(","))
                    })
                    .collect();
                format!("{org}: {}", projects.join(" "))
            })
            .collect();
        assert_eq!(
            rendered,
            ["acme: api[staging] web[dev,prod]", "zeta: api[prod]"]
        );
    }
}
