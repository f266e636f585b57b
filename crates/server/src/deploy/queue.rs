//! Which queued deployments start now, and which are skipped: first in, first out; one at a
//! time per stack; at most so many at a time per organization and on the server; nothing from a
//! paused stack or
//! organization; and a deployment with `skipIntermediateDeployments` supersedes the ones queued
//! before it on its stack.

use std::collections::{HashMap, HashSet};

use crate::store::{DeploymentId, StackId};

/// A deployment waiting in the queue, in queue order.
#[derive(Clone, Debug)]
pub struct Waiting {
    pub id: DeploymentId,
    pub org: String,
    pub stack_id: StackId,
    pub skip_intermediate: bool,
    /// The agent pool it runs on (`agentPoolID`); `None` for the server's own.
    pub pool: Option<String>,
}

/// A running deployment, on this server or another that shares the store.
#[derive(Clone, Debug)]
pub struct Busy {
    pub org: String,
    pub stack_id: StackId,
    /// Whether this server runs it (the server-wide limit counts only those).
    pub here: bool,
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

/// How many deployments may run at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Of one organization.
    pub per_org: usize,
    /// On this server, all organizations together (other servers sharing the store have
    /// their own; agents claim only what they can run).
    pub total: usize,
}

/// What to do now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub start: Vec<DeploymentId>,
    /// Superseded deployments, each with the id of the one that supersedes it.
    pub skip: Vec<(DeploymentId, DeploymentId)>,
}

/// Decides what starts and what is skipped.
pub fn plan(waiting: &[Waiting], running: &[Busy], pauses: &Pauses, limits: Limits) -> Plan {
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
    let mut total = running.iter().filter(|b| b.here).count();
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
        let here = w.pool.is_none();
        if busy.contains(&w.stack_id) || *count >= limits.per_org || here && total >= limits.total {
            continue;
        }
        *count += 1;
        total += usize::from(here);
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
            pool: None,
        }
    }

    fn per_org(per_org: usize) -> Limits {
        Limits {
            per_org,
            total: 100,
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
        let p = plan(&q, &[], &Pauses::default(), per_org(4));
        assert_eq!(p.start, ids(&["1", "3"]));
        let running = [Busy {
            org: "acme".into(),
            stack_id: "a".into(),
            here: true,
        }];
        assert_eq!(
            plan(&q[1..], &running, &Pauses::default(), per_org(4)).start,
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
            here: true,
        }];
        let p = plan(&q, &running, &Pauses::default(), per_org(2));
        assert_eq!(p.start, ids(&["1", "3"]));
    }

    #[test]
    fn the_server_limit_counts_every_organization() {
        let q = [
            waiting("1", "acme", "a", false),
            waiting("2", "globex", "b", false),
            waiting("3", "initech", "c", false),
        ];
        let running = [Busy {
            org: "umbrella".into(),
            stack_id: "z".into(),
            here: true,
        }];
        let limits = Limits {
            per_org: 4,
            total: 3,
        };
        assert_eq!(
            plan(&q, &running, &Pauses::default(), limits).start,
            ids(&["1", "2"])
        );
    }

    #[test]
    fn other_servers_runs_hold_stacks_and_organizations_but_not_this_servers_limit() {
        let q = [
            waiting("1", "acme", "a", false),
            waiting("2", "acme", "b", false),
            waiting("3", "acme", "c", false),
            waiting("4", "globex", "d", false),
        ];
        let elsewhere = |org: &str, stack: &str| Busy {
            org: org.into(),
            stack_id: stack.into(),
            here: false,
        };
        let running = [elsewhere("acme", "a"), elsewhere("umbrella", "z")];
        let limits = Limits {
            per_org: 2,
            total: 2,
        };
        assert_eq!(
            plan(&q, &running, &Pauses::default(), limits).start,
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
        assert_eq!(plan(&q, &[], &pauses, per_org(4)).start, ids(&["2"]));
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
            here: true,
        }];
        let p = plan(&q, &running, &Pauses::default(), per_org(4));
        assert_eq!(
            p.skip,
            vec![("1".into(), "3".into()), ("2".into(), "3".into())]
        );
        assert_eq!(p.start, ids(&["5"]));
        // Paused stacks still skip, so that resuming runs only the latest.
        let pauses = Pauses::from_list(vec![("acme".into(), Some("a".into()))]);
        assert_eq!(plan(&q, &[], &pauses, per_org(4)).skip.len(), 2);
    }
}
