//! AWS session names: `${…}` templates expanded for one deployment, kept within STS's rules
//! (at most 64 characters of `[\w+=,.@-]`). When a name would be too long, the organization,
//! project and stack parts are shortened; the operation, version and id are kept whole.

use crate::StackRef;

/// The longest `RoleSessionName` AWS STS accepts.
pub const MAX_LEN: usize = 64;

/// The longest template: room for every placeholder and more text than fits in [`MAX_LEN`],
/// while expanding one stays cheap.
pub const MAX_TEMPLATE_CHARS: usize = 256;

/// The placeholders a session name may use.
pub const PLACEHOLDERS: &[&str] = &[
    "organization.name",
    "project.name",
    "stack.name",
    "operation",
    "deployment.version",
    "deployment.id",
];

/// The values placeholders expand to for one deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionVars {
    pub org: String,
    pub project: String,
    pub stack: String,
    pub operation: String,
    pub version: String,
    pub id: String,
}

impl SessionVars {
    /// The values of run `version` (id `id`) of `operation` on `stack`.
    pub fn new(stack: &StackRef, operation: &str, version: impl ToString, id: &str) -> Self {
        Self {
            org: stack.org.clone(),
            project: stack.project.clone(),
            stack: stack.stack.clone(),
            operation: operation.into(),
            version: version.to_string(),
            id: id.into(),
        }
    }

    /// The longest values a deployment of this stack can have, for checking a template.
    pub fn worst_case(org: &str, project: &str, stack: &str) -> Self {
        Self {
            org: org.into(),
            project: project.into(),
            stack: stack.into(),
            operation: "remediate-drift".into(),
            version: "999999".into(),
            id: "00000000-0000-0000-0000-000000000000".into(),
        }
    }
}

enum Part<'t> {
    Text(&'t str),
    /// Index into [`PLACEHOLDERS`].
    Var(usize),
}

fn parse(template: &str) -> Result<Vec<Part<'_>>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            parts.push(Part::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "has a \"${\" without its closing \"}\"".to_owned())?;
        let name = &after[..end];
        let index = PLACEHOLDERS
            .iter()
            .position(|p| *p == name)
            .ok_or_else(|| {
                format!(
                    "uses an unknown placeholder ${{{name}}}; use ${{{}}}",
                    PLACEHOLDERS.join("}, ${")
                )
            })?;
        parts.push(Part::Var(index));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    Ok(parts)
}

/// Whether `c` may appear in a `RoleSessionName`.
pub fn allowed_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// Expands `template` for one deployment, shortening the name parts to fit [`MAX_LEN`].
pub fn expand(template: &str, vars: &SessionVars) -> Result<String, String> {
    if template.trim().is_empty() {
        return Err("is required".into());
    }
    let length = template.chars().count();
    if length > MAX_TEMPLATE_CHARS {
        return Err(format!(
            "is {length} characters long; a session name template may have at most \
             {MAX_TEMPLATE_CHARS}"
        ));
    }
    let parts = parse(template)?;
    let mut values: [String; 6] = [
        vars.org.clone(),
        vars.project.clone(),
        vars.stack.clone(),
        vars.operation.clone(),
        vars.version.clone(),
        vars.id.clone(),
    ];
    let render = |values: &[String; 6]| -> String {
        parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => *t,
                Part::Var(i) => values[*i].as_str(),
            })
            .collect()
    };
    let mut name = render(&values);
    while name.chars().count() > MAX_LEN {
        // Shorten the longest name part that the template uses, one character at a time.
        let longest = (0..3)
            .filter(|i| parts.iter().any(|p| matches!(p, Part::Var(v) if v == i)))
            .filter(|i| !values[*i].is_empty())
            .max_by_key(|i| values[*i].chars().count());
        let Some(i) = longest else {
            return Err(format!(
                "expands to {} characters even with the organization, project and stack names shortened; AWS allows {MAX_LEN}",
                name.chars().count()
            ));
        };
        values[i].pop();
        name = render(&values);
    }
    if let Some(bad) = name.chars().find(|c| !allowed_char(*c)) {
        return Err(format!(
            "expands to \"{name}\", which has \"{bad}\": AWS allows only letters, digits and _ + = , . @ -"
        ));
    }
    if name.chars().count() < 2 {
        return Err(format!(
            "expands to \"{name}\"; AWS needs at least 2 characters"
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn vars() -> SessionVars {
        SessionVars {
            org: "acme".into(),
            project: "website".into(),
            stack: "prod".into(),
            operation: "update".into(),
            version: "42".into(),
            id: "d3b07384-d9a0-4c6b-9f1e-0123456789ab".into(),
        }
    }

    #[test]
    fn expands_every_placeholder() {
        assert_eq!(
            expand(
                "${organization.name}-${project.name}-${stack.name}-${operation}-${deployment.version}",
                &vars()
            ),
            Ok("acme-website-prod-update-42".into())
        );
        assert_eq!(expand("pulumi", &vars()), Ok("pulumi".into()));
    }

    #[test]
    fn shortens_names_but_keeps_operation_version_and_id() {
        let mut long = vars();
        long.project = "p".repeat(60);
        let name = expand("${project.name}-${operation}-${deployment.id}", &long)
            .expect("fits after trimming");
        assert_eq!(name.len(), MAX_LEN);
        assert!(
            name.ends_with("-update-d3b07384-d9a0-4c6b-9f1e-0123456789ab"),
            "{name}"
        );
    }

    #[test]
    fn rejects_what_sts_rejects() {
        assert!(expand("", &vars()).is_err());
        assert!(expand("has space", &vars()).unwrap_err().contains("\" \""));
        assert!(
            expand("${stack}", &vars())
                .unwrap_err()
                .contains("unknown placeholder ${stack}")
        );
        assert!(
            expand("x-${operation", &vars())
                .unwrap_err()
                .contains("closing")
        );
        let fixed = "x".repeat(70);
        assert!(
            expand(&fixed, &vars())
                .unwrap_err()
                .contains("AWS allows 64")
        );
    }

    #[test]
    fn long_templates_are_refused() {
        let long = "${stack.name}".repeat(80_000);
        assert_eq!(
            expand(&long, &vars()),
            Err("is 1040000 characters long; a session name template may have at most 256".into())
        );
        let longest = format!("x{}", "${organization.name}".repeat(12));
        assert!(longest.len() < MAX_TEMPLATE_CHARS);
        assert!(expand(&longest, &vars()).is_ok());
    }

    proptest! {
        #[test]
        fn any_template_expands_or_is_refused(
            template in r"(\$\{|\}|[a-z.]|organization\.name|stack\.name|deployment\.id){0,200}",
        ) {
            if let Ok(name) = expand(&template, &vars()) {
                prop_assert!((2..=MAX_LEN).contains(&name.chars().count()), "{name}");
            }
        }

        #[test]
        fn any_text_expands_or_is_refused(template in "\\PC{0,400}") {
            let _ = expand(&template, &vars());
        }
    }
}
