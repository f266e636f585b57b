//! Google Cloud: a workload identity pool provider that admits the scope's tokens, and
//! `roles/iam.workloadIdentityUser` on the service account for the identities they become.

use std::collections::BTreeMap;

use keyless_api_types::{GcpOidc, duration};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::explain::cel::{self, Path};
use crate::explain::{Claims, ExplainError, Verdict, check_time, issuer_difference};
use crate::scope::{describe_difference, subject};
use crate::{Command, Level, Note, Scope, Target, shell};

/// The role that lets a federated identity impersonate the service account.
pub const WORKLOAD_IDENTITY_USER: &str = "roles/iam.workloadIdentityUser";

/// Also grants `iam.serviceAccounts.getAccessToken`, so it admits the identity too.
const TOKEN_CREATOR: &str = "roles/iam.serviceAccountTokenCreator";

/// Google rejects tokens whose mapped `google.subject` is longer than this many bytes.
pub const MAX_SUBJECT_BYTES: usize = 127;

/// The attribute mapping the generator writes, and the explainer assumes when none is given.
pub const MAPPING: [(&str, &str); 5] = [
    ("google.subject", "assertion.sub"),
    ("attribute.org", "assertion.org"),
    ("attribute.project", "assertion.project"),
    ("attribute.stack", "assertion.stack"),
    ("attribute.operation", "assertion.operation"),
];

/// A workload identity pool provider, in the REST resource's shape, so that
/// `gcloud iam workload-identity-pools providers describe … --format=json` pastes straight in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadIdentityProvider {
    /// `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<id>`, when
    /// described; checked against the settings.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// Target attribute → CEL expression. Empty means [`MAPPING`].
    #[serde(default)]
    pub attribute_mapping: BTreeMap<String, String>,
    /// A CEL expression every token must satisfy; empty admits all.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub attribute_condition: String,
    pub oidc: OidcSettings,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcSettings {
    pub issuer_uri: String,
    /// Empty means Google's default: `https://iam.googleapis.com/<provider name>`.
    #[serde(default)]
    pub allowed_audiences: Vec<String>,
}

/// A service account's IAM policy, as `gcloud iam service-accounts get-iam-policy --format=json`
/// prints it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamPolicy {
    #[serde(default)]
    pub bindings: Vec<Binding>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    pub role: String,
    #[serde(default)]
    pub members: Vec<String>,
}

/// The provider, bindings and commands to set up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GcpTrust {
    pub provider: WorkloadIdentityProvider,
    /// The bindings to add to the service account's policy.
    pub policy: IamPolicy,
    pub commands: Vec<Command>,
    pub notes: Vec<Note>,
}

/// The pool resource path, `projects/<number>/locations/global/workloadIdentityPools/<pool>`.
fn pool_path(settings: &GcpOidc) -> String {
    format!(
        "projects/{}/locations/global/workloadIdentityPools/{}",
        settings.project_id, settings.workload_pool_id
    )
}

/// The provider and bindings that let `target`'s tokens impersonate `settings.service_account`.
pub fn generate(target: &Target, settings: &GcpOidc) -> GcpTrust {
    let mut notes = Vec::new();
    let settings = &with_placeholders(settings, &mut notes);
    let s = &target.stack;
    let mut condition = vec![format!("assertion.org == '{}'", s.org)];
    if matches!(
        target.scope,
        Scope::Stack | Scope::StackOperation(_) | Scope::Project
    ) {
        condition.push(format!("assertion.project == '{}'", s.project));
    }
    if matches!(target.scope, Scope::Stack | Scope::StackOperation(_)) {
        condition.push(format!("assertion.stack == '{}'", s.stack));
    }
    if let Scope::StackOperation(op) = target.scope {
        condition.push(format!("assertion.operation == '{}'", op.as_str()));
    }
    let condition = condition.join(" && ");
    let pool = format!("iam.googleapis.com/{}", pool_path(settings));
    let member = match target.scope {
        Scope::StackOperation(op) => format!("principal://{pool}/subject/{}", subject(s, op)),
        Scope::Stack => format!("principalSet://{pool}/attribute.stack/{}", s.stack),
        Scope::Project => format!("principalSet://{pool}/attribute.project/{}", s.project),
        Scope::Org => format!("principalSet://{pool}/attribute.org/{}", s.org),
    };
    let mapping: Vec<String> = MAPPING.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let audience = target.audience();
    let project = format!("--project={}", settings.project_id);
    let commands = vec![
        shell::command(
            "Create the workload identity pool (skip if it exists)",
            "gcloud iam workload-identity-pools create",
            &[
                &settings.workload_pool_id,
                &project,
                "--location=global",
                "--display-name=Keyless",
            ],
        ),
        shell::command(
            "Create the OIDC provider",
            "gcloud iam workload-identity-pools providers create-oidc",
            &[
                &settings.provider_id,
                &project,
                "--location=global",
                "--workload-identity-pool",
                &settings.workload_pool_id,
                "--issuer-uri",
                &target.issuer,
                "--allowed-audiences",
                &audience,
                "--attribute-mapping",
                &mapping.join(","),
                "--attribute-condition",
                &condition,
            ],
        ),
        shell::command(
            "Let the identities impersonate the service account",
            "gcloud iam service-accounts add-iam-policy-binding",
            &[
                &settings.service_account,
                "--role",
                WORKLOAD_IDENTITY_USER,
                "--member",
                &member,
            ],
        ),
    ];
    advise(target, settings, &mut notes);
    GcpTrust {
        provider: WorkloadIdentityProvider {
            name: String::new(),
            disabled: false,
            attribute_mapping: MAPPING
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            attribute_condition: condition,
            oidc: OidcSettings {
                issuer_uri: target.issuer.clone(),
                allowed_audiences: vec![audience],
            },
        },
        policy: IamPolicy {
            bindings: vec![Binding {
                role: WORKLOAD_IDENTITY_USER.into(),
                members: vec![member],
            }],
        },
        commands,
        notes,
    }
}

/// The settings with `<placeholders>` for what is missing, each noted as an error.
fn with_placeholders(settings: &GcpOidc, notes: &mut Vec<Note>) -> GcpOidc {
    let mut filled = settings.clone();
    if !settings.project_id.bytes().all(|b| b.is_ascii_digit()) || settings.project_id.is_empty() {
        notes.push(Note::new(
            Level::Error,
            format!(
                "The Project Number `{}` is not numeric: use the project's number, not its id",
                settings.project_id
            ),
        ));
        filled.project_id = "<project-number>".into();
    }
    for (value, label, placeholder) in [
        (
            &mut filled.workload_pool_id,
            "Workload Pool ID",
            "<pool-id>",
        ),
        (
            &mut filled.provider_id,
            "Identity Provider ID",
            "<provider-id>",
        ),
        (
            &mut filled.service_account,
            "Service Account Email Address",
            "<service-account>",
        ),
    ] {
        if value.trim().is_empty() {
            notes.push(Note::new(Level::Error, format!("The {label} is empty")));
            *value = placeholder.into();
        }
    }
    filled
}

/// Limits and caveats of the generated configuration.
fn advise(target: &Target, settings: &GcpOidc, notes: &mut Vec<Note>) {
    if !target.issuer.starts_with("https://") {
        notes.push(Note::new(
            Level::Error,
            format!(
                "Google accepts only https:// issuers, and the issuer is `{}`",
                target.issuer
            ),
        ));
    }
    if let Some((_, _, sub)) = target
        .subjects()
        .into_iter()
        .find(|(_, _, sub)| sub.len() > MAX_SUBJECT_BYTES)
    {
        notes.push(Note::new(
            Level::Error,
            format!(
                "`{sub}` is {} bytes, and Google rejects a google.subject over \
                 {MAX_SUBJECT_BYTES}: shorten the project or stack name",
                sub.len()
            ),
        ));
    }
    if !matches!(target.scope, Scope::StackOperation(_)) {
        notes.push(Note::new(
            Level::Info,
            "The principalSet member admits every identity of the pool with that attribute: keep \
             the pool for this organization's Keyless tokens, which the provider's condition \
             confines it to",
        ));
    }
    if let Some(Ok(seconds)) = settings.token_lifetime.as_deref().map(duration::parse)
        && seconds > 3600
    {
        notes.push(Note::new(
            Level::Warning,
            format!(
                "Service account tokens last at most 1h unless the organization policy \
                 constraints/iam.allowServiceAccountCredentialLifetimeExtension lists {}; the \
                 Session Duration is {}",
                settings.service_account,
                duration::format(seconds)
            ),
        ));
    }
    notes.push(Note::new(
        Level::Info,
        "Google fetches the issuer's discovery document and keys over the internet; for an \
         issuer it cannot reach, upload the keys with --jwk-json-path",
    ));
}

/// Evaluates a pasted provider and service account policy for a token, in Google's order:
/// provider, issuer, validity, audience, attribute mapping, attribute condition, then the
/// service account's bindings. `settings` name the pool and provider the exchange uses.
pub fn explain(
    claims: &Claims,
    now: u64,
    settings: &GcpOidc,
    provider: &WorkloadIdentityProvider,
    policy: &IamPolicy,
) -> Result<Verdict, ExplainError> {
    // Google stores no such provider, so it is refused before anything else is judged.
    cel::check_length(&provider.attribute_condition)?;
    let expected = format!("{}/providers/{}", pool_path(settings), settings.provider_id);
    if !provider.name.is_empty() && provider.name != expected {
        return Ok(Verdict::rejected(
            "provider",
            format!(
                "the settings exchange through `{expected}`, but the pasted provider is `{}`",
                provider.name
            ),
            "Paste that provider, or correct the Project Number, Workload Pool ID or Identity \
             Provider ID",
        ));
    }
    if provider.disabled {
        return Ok(Verdict::rejected(
            "disabled",
            "the provider is disabled, and Google's STS refuses its tokens",
            "Enable it: gcloud iam workload-identity-pools providers update-oidc … --no-disabled",
        ));
    }
    if let Some(difference) = issuer_difference(&provider.oidc.issuer_uri, claims.iss()) {
        return Ok(Verdict::rejected(
            "oidc.issuerUri",
            format!("the provider does not accept this token's issuer: {difference}"),
            format!(
                "Set the provider's issuer URI to `{}` exactly",
                claims.iss()
            ),
        ));
    }
    if let Some(expired) = check_time(claims, now) {
        return Ok(expired);
    }
    if let Some(rejected) = check_audience(claims, &provider.oidc.allowed_audiences, &expected) {
        return Ok(rejected);
    }
    let attributes = map_attributes(claims, &provider.attribute_mapping)?;
    let subject = attributes.get("google.subject").cloned().flatten();
    let Some(subject) = subject else {
        return Ok(Verdict::rejected(
            "attributeMapping",
            "the attribute mapping gives no google.subject for this token",
            "Map google.subject=assertion.sub",
        ));
    };
    if subject.len() > MAX_SUBJECT_BYTES {
        return Ok(Verdict::rejected(
            "google.subject",
            format!(
                "google.subject `{subject}` is {} bytes, and Google accepts at most \
                 {MAX_SUBJECT_BYTES}",
                subject.len()
            ),
            "Shorten the project or stack name",
        ));
    }
    let attribute = |name: &str| {
        attributes
            .get(&format!("attribute.{name}"))
            .cloned()
            .flatten()
    };
    let lookup = |path: &Path| -> Result<Option<String>, ExplainError> {
        match path {
            Path::Assertion(claim) => claim_text(claims, claim),
            Path::Attribute(name) => Ok(attribute(name)),
            Path::GoogleSubject => Ok(Some(subject.clone())),
        }
    };
    let condition = provider.attribute_condition.trim();
    if !condition.is_empty() {
        let outcome = cel::Condition::parse(condition)?.evaluate(&lookup)?;
        let hint = "Widen the condition to the scope you mean (the generator writes one per \
                    scope), or use another provider for this stack";
        match outcome.value {
            cel::Value::True => {}
            cel::Value::False => {
                return Ok(Verdict::rejected(
                    "attributeCondition",
                    format!(
                        "the attribute condition `{condition}` is false: {}",
                        outcome.why
                    ),
                    hint,
                ));
            }
            cel::Value::Error => {
                return Ok(Verdict::rejected(
                    "attributeCondition",
                    format!(
                        "the attribute condition `{condition}` fails to evaluate, which rejects \
                         the token: {}",
                        outcome.why
                    ),
                    hint,
                ));
            }
        }
    }
    Ok(check_bindings(settings, policy, &subject, &attribute))
}

/// A claim as text for CEL; `None` when absent. Non-string claims are beyond the subset.
fn claim_text(claims: &Claims, claim: &str) -> Result<Option<String>, ExplainError> {
    match claims.get(claim) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ExplainError::unsupported(
            "attribute condition",
            format!("claim `{claim}` is `{other}`, and the explainer compares string claims only"),
        )),
    }
}

/// Target attribute → value (`None` when its claim is absent), from `mapping` or [`MAPPING`].
fn map_attributes(
    claims: &Claims,
    mapping: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Option<String>>, ExplainError> {
    let standard: BTreeMap<String, String> = MAPPING
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mapping = if mapping.is_empty() {
        &standard
    } else {
        mapping
    };
    mapping
        .iter()
        .map(|(attribute, expression)| {
            let value = match cel::path(expression)? {
                Path::Assertion(claim) => claim_text(claims, &claim)?,
                _ => {
                    return Err(ExplainError::unsupported(
                        "attribute mapping",
                        format!(
                            "`{attribute}={expression}` maps from something other than a claim"
                        ),
                    ));
                }
            };
            Ok((attribute.clone(), value))
        })
        .collect()
}

/// Rejects a token none of whose audiences the provider allows.
fn check_audience(claims: &Claims, allowed: &[String], provider: &str) -> Option<Verdict> {
    let default = [format!("https://iam.googleapis.com/{provider}")];
    let (allowed, which) = if allowed.is_empty() {
        (
            &default[..],
            "no allowed audiences are set, so Google expects",
        )
    } else {
        (allowed, "the provider allows")
    };
    let aud = claims.aud();
    if aud.iter().any(|a| allowed.contains(a)) {
        return None;
    }
    let case = aud
        .iter()
        .any(|a| allowed.iter().any(|x| x.eq_ignore_ascii_case(a)));
    let (allowed, token) = (allowed.join("`, `"), aud.join("`, `"));
    let compare = if case {
        " — Google compares audiences case-sensitively"
    } else {
        ""
    };
    Some(Verdict::rejected(
        "oidc.allowedAudiences",
        format!("{which} `{allowed}`, tokens carry `{token}`{compare}"),
        format!("Allow the audience `{token}`: the organization name in lowercase"),
    ))
}

/// A member of the service account's policy, split at its pool.
struct Member<'a> {
    text: &'a str,
    /// `projects/<number>/locations/global/workloadIdentityPools/<pool>`.
    pool: &'a str,
    /// After the pool: `subject/<sub>`, `attribute.<name>/<value>`, `*`, `group/<g>`.
    rest: &'a str,
}

fn member(text: &str) -> Option<Member<'_>> {
    let path = text
        .strip_prefix("principal://")
        .or_else(|| text.strip_prefix("principalSet://"))?
        .strip_prefix("iam.googleapis.com/")?;
    let pools = path.find("/workloadIdentityPools/")? + "/workloadIdentityPools/".len();
    let end = path[pools..].find('/').map(|i| pools + i)?;
    Some(Member {
        text,
        pool: &path[..end],
        rest: &path[end + 1..],
    })
}

/// Finds a binding that lets the identity impersonate the service account, or explains the
/// nearest miss: the right member with another role, a member of another pool, another
/// subject or another attribute value.
fn check_bindings(
    settings: &GcpOidc,
    policy: &IamPolicy,
    subject: &str,
    attribute: &dyn Fn(&str) -> Option<String>,
) -> Verdict {
    let pool = pool_path(settings);
    // Nearest misses first: 0 right member but role, 1 another pool, 2 another identity.
    let mut misses: Vec<(u8, String)> = Vec::new();
    for binding in &policy.bindings {
        let impersonates = binding.role == WORKLOAD_IDENTITY_USER || binding.role == TOKEN_CREATOR;
        for m in binding.members.iter().filter_map(|text| member(text)) {
            let admitted = if m.pool == pool {
                admits(&m, subject, attribute)
            } else {
                Err((
                    1,
                    format!(
                        "`{}` belongs to pool `{}`, but the settings exchange through `{pool}`",
                        m.text, m.pool
                    ),
                ))
            };
            match (admitted, impersonates) {
                (Ok(()), true) => {
                    return Verdict::Accepted {
                        matched: format!(
                            "`{}` holds {} on the service account",
                            m.text, binding.role
                        ),
                    };
                }
                (Ok(()), false) => misses.push((
                    0,
                    format!(
                        "`{}` holds {}, which does not let it impersonate the service account",
                        m.text, binding.role
                    ),
                )),
                (Err(miss), true) => misses.push(miss),
                (Err(_), false) => {}
            }
        }
    }
    misses.sort_by_key(|(rank, _)| *rank);
    let reason = misses.into_iter().next().map_or_else(
        || format!("no member with {WORKLOAD_IDENTITY_USER} on the service account names the pool `{pool}`"),
        |(_, reason)| reason,
    );
    Verdict::rejected(
        format!("{WORKLOAD_IDENTITY_USER} binding"),
        reason,
        format!("Add the generated binding: {WORKLOAD_IDENTITY_USER} for this identity"),
    )
}

/// Whether a member of the settings' pool stands for the token's identity, or (ranked 2) why not.
fn admits(
    m: &Member<'_>,
    subject: &str,
    attribute: &dyn Fn(&str) -> Option<String>,
) -> Result<(), (u8, String)> {
    let why = if m.rest == "*" {
        return Ok(());
    } else if let Some(want) = m.rest.strip_prefix("subject/") {
        if want == subject {
            return Ok(());
        }
        describe_difference(want, subject, |a, b| a == b)
            .map(|how| format!("`{}` {how}", m.text))
            .unwrap_or_else(|| format!("`{}` names another subject than `{subject}`", m.text))
    } else if let Some((name, want)) = m
        .rest
        .strip_prefix("attribute.")
        .and_then(|r| r.split_once('/'))
    {
        match attribute(name) {
            Some(value) if value == want => return Ok(()),
            Some(value) => format!(
                "`{}` admits attribute.{name} `{want}`, the token's is `{value}`",
                m.text
            ),
            None => format!(
                "`{}` needs attribute.{name}, which the provider does not map for this token",
                m.text
            ),
        }
    } else {
        format!(
            "`{}` does not name a single identity or attribute of the pool",
            m.text
        )
    };
    Err((2, why))
}
