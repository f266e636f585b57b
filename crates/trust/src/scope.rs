//! Which tokens a trust configuration admits: the [`Target`] a [`Scope`] applies to.
//!
//! Keyless tokens carry `aud` = the organization name in lowercase and
//! `sub` = `pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:<op>:scope:write`,
//! with the organization name as spelled (see `keyless-oidc`'s `DeploymentClaims`).

pub use keyless_api_types::trust::Scope;
use keyless_api_types::{PulumiOperation, StackRef};
use serde::{Deserialize, Serialize};

/// The operations that need credentials unless the admin says otherwise. Stacks that use drift
/// detection add `detect-drift` and `remediate-drift`.
pub const STANDARD_OPERATIONS: [PulumiOperation; 4] = [
    PulumiOperation::Update,
    PulumiOperation::Preview,
    PulumiOperation::Refresh,
    PulumiOperation::Destroy,
];

/// What to generate trust for: this stack, the issuer its tokens name, and the scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// The stack whose settings are being edited.
    pub stack: StackRef,
    /// The issuer URL: the tokens' `iss`, e.g. `https://keyless.example.com/oidc`.
    pub issuer: String,
    pub scope: Scope,
    /// The operations to list where a cloud needs one exact subject per operation (Azure);
    /// [`STANDARD_OPERATIONS`] by default.
    #[serde(default = "standard_operations")]
    pub operations: Vec<PulumiOperation>,
    /// Further stacks the organization has: [`Scope::Project`] and [`Scope::Org`] list the ones
    /// in scope where a cloud needs one exact subject per stack (Azure).
    #[serde(default)]
    pub stacks: Vec<StackRef>,
}

fn standard_operations() -> Vec<PulumiOperation> {
    STANDARD_OPERATIONS.to_vec()
}

impl Target {
    /// This stack, every standard operation, no further stacks.
    pub fn new(stack: StackRef, issuer: impl Into<String>, scope: Scope) -> Self {
        Self {
            stack,
            issuer: issuer.into(),
            scope,
            operations: standard_operations(),
            stacks: Vec::new(),
        }
    }

    /// The `aud` every token of the organization carries: its name in lowercase.
    pub fn audience(&self) -> String {
        self.stack.org.to_lowercase()
    }

    /// The `sub` pattern for `StringLike`-style matching: `*` stands for any project, stack or
    /// operation the scope leaves open.
    pub fn subject_pattern(&self) -> String {
        let s = &self.stack;
        let (project, stack, operation) = match self.scope {
            Scope::StackOperation(op) => (s.project.as_str(), s.stack.as_str(), op.as_str()),
            Scope::Stack => (s.project.as_str(), s.stack.as_str(), "*"),
            Scope::Project => (s.project.as_str(), "*", "*"),
            Scope::Org => ("*", "*", "*"),
        };
        format_subject(&s.org, project, stack, operation)
    }

    /// This stack and every further stack in scope, this one first, without repeats.
    pub fn stacks_in_scope(&self) -> Vec<StackRef> {
        let mut stacks = vec![self.stack.clone()];
        for other in &self.stacks {
            let any_op = PulumiOperation::Update;
            let in_scope = match self.scope {
                Scope::Project | Scope::Org => self.scope.covers(&self.stack, other, any_op),
                Scope::StackOperation(_) | Scope::Stack => false,
            };
            if in_scope && !stacks.contains(other) {
                stacks.push(other.clone());
            }
        }
        stacks
    }

    /// The operations in scope: the one picked, or [`Target::operations`].
    pub fn operations_in_scope(&self) -> Vec<PulumiOperation> {
        match self.scope {
            Scope::StackOperation(op) => vec![op],
            _ => self.operations.clone(),
        }
    }

    /// Every exact subject in scope, stack by stack, operation by operation.
    pub fn subjects(&self) -> Vec<(StackRef, PulumiOperation, String)> {
        let operations = self.operations_in_scope();
        self.stacks_in_scope()
            .into_iter()
            .flat_map(|stack| {
                operations.iter().map(move |&op| {
                    let sub = subject(&stack, op);
                    (stack.clone(), op, sub)
                })
            })
            .collect()
    }
}

/// The `sub` of a token for `stack`'s deployment running `operation`.
pub fn subject(stack: &StackRef, operation: PulumiOperation) -> String {
    format_subject(&stack.org, &stack.project, &stack.stack, operation.as_str())
}

fn format_subject(org: &str, project: &str, stack: &str, operation: &str) -> String {
    format!(
        "pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:{operation}:scope:write"
    )
}

/// The parts of a Keyless subject (or subject pattern), by name.
const PARTS: [&str; 5] = ["org", "project", "stack", "operation", "scope"];

/// Splits a Keyless subject into its five named parts; `None` when it has another shape.
fn parts(subject: &str) -> Option<[&str; 5]> {
    let fields: Vec<&str> = subject.split(':').collect();
    let shaped = fields.len() == 12
        && fields[..2] == ["pulumi", "deploy"]
        && (0..5).all(|i| fields[2 + 2 * i] == PARTS[i]);
    shaped.then(|| [fields[3], fields[5], fields[7], fields[9], fields[11]])
}

/// Names the first part where `subject` differs from `expected`, e.g.
/// "allows stack `prod`, the token is for stack `dev`"; `matches` compares one part.
/// `None` when either is not a Keyless subject or no part differs.
pub(crate) fn describe_difference(
    expected: &str,
    subject: &str,
    matches: impl Fn(&str, &str) -> bool,
) -> Option<String> {
    let (want, got) = (parts(expected)?, parts(subject)?);
    (0..5).find(|&i| !matches(want[i], got[i])).map(|i| {
        let part = PARTS[i];
        format!(
            "allows {part} `{}`, the token is for {part} `{}`",
            want[i], got[i]
        )
    })
}

/// How many of the five parts two Keyless subjects share (0 when either has another shape).
pub(crate) fn shared_parts(a: &str, b: &str) -> usize {
    match (parts(a), parts(b)) {
        (Some(a), Some(b)) => a.iter().zip(b).filter(|(x, y)| **x == *y).count(),
        _ => 0,
    }
}

/// A Keyless subject's stack as `org/project/stack`, and its operation.
pub(crate) fn stack_and_operation(subject: &str) -> Option<(String, &str)> {
    let p = parts(subject)?;
    Some((format!("{}/{}/{}", p[0], p[1], p[2]), p[3]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(scope: Scope) -> Target {
        let mut t = Target::new(
            StackRef::new("Acme", "website", "prod"),
            "https://keyless.example.com/oidc",
            scope,
        );
        t.stacks = vec![
            StackRef::new("Acme", "website", "dev"),
            StackRef::new("Acme", "api", "prod"),
            StackRef::new("Other", "website", "prod"),
            StackRef::new("Acme", "website", "prod"),
        ];
        t
    }

    #[test]
    fn subject_patterns_widen_with_the_scope() {
        let destroy = Scope::StackOperation(PulumiOperation::Destroy);
        let cases = [
            (destroy, "project:website:stack:prod:operation:destroy"),
            (Scope::Stack, "project:website:stack:prod:operation:*"),
            (Scope::Project, "project:website:stack:*:operation:*"),
            (Scope::Org, "project:*:stack:*:operation:*"),
        ];
        for (scope, middle) in cases {
            assert_eq!(
                target(scope).subject_pattern(),
                format!("pulumi:deploy:org:Acme:{middle}:scope:write")
            );
        }
        assert_eq!(target(Scope::Stack).audience(), "acme");
    }

    #[test]
    fn exact_subjects_are_stacks_in_scope_times_operations() {
        let count = |scope| target(scope).subjects().len();
        assert_eq!(count(Scope::StackOperation(PulumiOperation::Preview)), 1);
        assert_eq!(count(Scope::Stack), 4);
        assert_eq!(count(Scope::Project), 8);
        assert_eq!(count(Scope::Org), 12);
        let (stack, op, sub) = &target(Scope::Stack).subjects()[3];
        assert_eq!(
            (stack.stack.as_str(), *op),
            ("prod", PulumiOperation::Destroy)
        );
        assert_eq!(
            sub,
            "pulumi:deploy:org:Acme:project:website:stack:prod:operation:destroy:scope:write"
        );
    }

    #[test]
    fn wire_shape_for_the_server_api() {
        let scope = Scope::StackOperation(PulumiOperation::Destroy);
        assert_eq!(
            serde_json::to_value(scope).expect("scope"),
            serde_json::json!({"kind": "stack-operation", "operation": "destroy"})
        );
        let target: Target = serde_json::from_value(serde_json::json!({
            "stack": {"org": "Acme", "project": "website", "stack": "prod"},
            "issuer": "https://keyless.example.com/oidc",
            "scope": {"kind": "project"},
        }))
        .expect("target");
        assert_eq!(target.scope, Scope::Project);
        assert_eq!(target.operations, STANDARD_OPERATIONS);
        assert!(target.stacks.is_empty());
    }

    #[test]
    fn differences_name_the_part() {
        let want = "pulumi:deploy:org:Acme:project:website:stack:prod:operation:*:scope:write";
        let got = "pulumi:deploy:org:Acme:project:website:stack:dev:operation:update:scope:write";
        let like = |p: &str, v: &str| p == "*" || p == v;
        assert_eq!(
            describe_difference(want, got, like).as_deref(),
            Some("allows stack `prod`, the token is for stack `dev`")
        );
        assert_eq!(describe_difference("repo:x", got, like), None);
        assert_eq!((shared_parts(want, got), shared_parts(want, "x")), (3, 0));
        assert_eq!(
            stack_and_operation(got),
            Some(("Acme/website/dev".into(), "update"))
        );
    }
}
