//! Which queued deployments may start now, and which are skipped: first in, first out; one at
//! a time per stack; at most so many at a time per organization; nothing from a paused stack or
//! organization; and a deployment with `skipIntermediateDeployments` supersedes the ones queued
//! before it on its stack. Which agent starts one is the agents' to say: each claims what it can
//! run.

use std::collections::{HashMap, HashSet};

use crate::store::{DeploymentId, StackId};

/// A deployment waiting in the queue, in queue order.
#[derive(Clone, Debug)]
pub struct Waiting {
    pub id: DeploymentId,
    pub org: String,
    pub stack_id: StackId,
    pub skip_intermediate: bool,
}

/// A running deployment, on any agent.
#[derive(Clone, Debug)]
pub struct Busy {
    pub org: String,
    pub stack_id: StackId,
}

/// The paused organizations and stacks.
#[derive(Clone, Debug, Default)]
pub struct Pauses {
    pub orgs: HashSet<String>,
    pub stacks: HashSet<StackId>,
}

impl Pauses {
    /// From the store's list: (organization, stack id or `None` for the organization).
    pub fn from_list(list: Vec<(String, Option<StackId>)>) -> Self {
        let mut pauses = Self::default();
        for (org, stack) in list {
            match stack {
                Some(stack) => pauses.stacks.insert(stack),
                None => pauses.orgs.insert(org),
            };
        }
        pauses
    }
}

/// What to do now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub start: Vec<DeploymentId>,
    /// Superseded deployments, each with the id of the one that supersedes it.
    pub skip: Vec<(DeploymentId, DeploymentId)>,
}

/// Decides what may start and what is skipped, with at most `per_org` deployments of one
/// organization running at once.
pub fn plan(waiting: &[Waiting], running: &[Busy], pauses: &Pauses, per_org_limit: usize) -> Plan {
    let mut plan = Plan::default();
    // The last deployment of each stack that skips intermediate ones.
    let mut superseding: HashMap<&StackId, &DeploymentId> = HashMap::new();
    for w in waiting.iter().filter(|w| w.skip_intermediate) {
        superseding.insert(&w.stack_id, &w.id);
    }
    let mut busy: HashSet<&StackId> = running.iter().map(|b| &b.stack_id).collect();
    let mut per_org: HashMap<&str, usize> = HashMap::new();
    for b in running {
        *per_org.entry(&b.org).or_default() += 1;
    }
    let mut seen_superseding: HashSet<&StackId> = HashSet::new();
    for w in waiting {
        if let Some(&last) = superseding.get(&w.stack_id) {
            if w.id == *last {
                seen_superseding.insert(&w.stack_id);
            } else if !seen_superseding.contains(&w.stack_id) {
                plan.skip.push((w.id.clone(), last.clone()));
                continue;
            }
        }
        if pauses.orgs.contains(&w.org) || pauses.stacks.contains(&w.stack_id) {
            continue;
        }
        let count = per_org.entry(&w.org).or_default();
        if busy.contains(&w.stack_id) || *count >= per_org_limit {
            continue;
        }
        *count += 1;
        busy.insert(&w.stack_id);
        plan.start.push(w.id.clone());
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(id: &str, org: &str, stack: &str, skip: bool) -> Waiting {
        Waiting {
            id: id.into(),
            org: org.into(),
            stack_id: stack.into(),
            skip_intermediate: skip,
        }
    }

    fn ids(list: &[&str]) -> Vec<DeploymentId> {
        list.iter().map(|&s| s.into()).collect()
    }

    #[test]
    fn one_per_stack_in_order() {
        let q = [
            waiting("1", "acme", "a", false),
            waiting("2", "acme", "a", false),
            waiting("3", "acme", "b", false),
        ];
        let p = plan(&q, &[], &Pauses::default(), 4);
        assert_eq!(p.start, ids(&["1", "3"]));
        let running = [Busy {
            org: "acme".into(),
            stack_id: "a".into(),
        }];
        assert_eq!(
            plan(&q[1..], &running, &Pauses::default(), 4).start,
            ids(&["3"])
        );
    }

    #[test]
    fn organization_limit_counts_running_ones() {
        let q = [
            waiting("1", "acme", "a", false),
            waiting("2", "acme", "b", false),
            waiting("3", "globex", "c", false),
            waiting("4", "acme", "d", false),
        ];
        let running = [Busy {
            org: "acme".into(),
            stack_id: "z".into(),
        }];
        let p = plan(&q, &running, &Pauses::default(), 2);
        assert_eq!(p.start, ids(&["1", "3"]));
    }

    #[test]
    fn runs_anywhere_hold_their_stacks_and_organizations() {
        let q = [
            waiting("1", "acme", "a", false),
            waiting("2", "acme", "b", false),
            waiting("3", "acme", "c", false),
            waiting("4", "globex", "d", false),
        ];
        let elsewhere = |org: &str, stack: &str| Busy {
            org: org.into(),
            stack_id: stack.into(),
        };
        let running = [elsewhere("acme", "a"), elsewhere("umbrella", "z")];
        assert_eq!(
            plan(&q, &running, &Pauses::default(), 2).start,
            ids(&["2", "4"])
        );
    }

    #[test]
    fn pauses_hold_stacks_and_organizations() {
        let q = [
            waiting("1", "acme", "a", false),
            waiting("2", "acme", "b", false),
            waiting("3", "globex", "c", false),
        ];
        let pauses = Pauses::from_list(vec![
            ("acme".into(), Some("a".into())),
            ("globex".into(), None),
        ]);
        assert_eq!(plan(&q, &[], &pauses, 4).start, ids(&["2"]));
    }

    #[test]
    fn skipping_supersedes_only_earlier_queued_ones() {
        let q = [
            waiting("1", "acme", "a", false),
            waiting("2", "acme", "a", false),
            waiting("3", "acme", "a", true),
            waiting("4", "acme", "a", false),
            waiting("5", "acme", "b", false),
        ];
        let running = [Busy {
            org: "acme".into(),
            stack_id: "a".into(),
        }];
        let p = plan(&q, &running, &Pauses::default(), 4);
        assert_eq!(
            p.skip,
            vec![("1".into(), "3".into()), ("2".into(), "3".into())]
        );
        assert_eq!(p.start, ids(&["5"]));
        // Paused stacks still skip, so that resuming runs only the latest.
        let pauses = Pauses::from_list(vec![("acme".into(), Some("a".into()))]);
        assert_eq!(plan(&q, &[], &pauses, 4).skip.len(), 2);
    }
}
