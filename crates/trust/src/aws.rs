//! AWS: an IAM OIDC identity provider for the issuer, and a role trust policy that lets the
//! scope's tokens call `sts:AssumeRoleWithWebIdentity`.

use std::collections::BTreeMap;

use keyless_api_types::{AwsOidc, duration};
use serde::Serialize;
use serde_json::Value;

use crate::explain::iam::{self, ACTION, Request};
use crate::explain::{Claims, ExplainError, Verdict, check_time};
use crate::{Command, Level, Note, Target, shell};

/// AWS's default role `MaxSessionDuration`: longer sessions need the role raised first.
const DEFAULT_MAX_SESSION: u64 = 3600;

/// Everything to set up in the AWS account.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsTrust {
    pub provider: OidcProvider,
    /// The role's trust policy (`AssumeRolePolicyDocument`).
    pub trust_policy: PolicyDocument,
    pub commands: Vec<Command>,
    pub notes: Vec<Note>,
}

impl AwsTrust {
    /// The trust policy as indented JSON, for display and copying.
    pub fn trust_policy_json(&self) -> String {
        serde_json::to_string_pretty(&self.trust_policy).unwrap_or_default()
    }
}

/// The IAM OIDC identity provider to create once per account and issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcProvider {
    /// The issuer URL, `https://…`, exactly as tokens carry it in `iss`.
    pub url: String,
    /// The issuer without `https://`: the ARN suffix and the condition keys' prefix.
    pub host_path: String,
    /// The one audience ("client ID") to register: the organization name in lowercase.
    pub audience: String,
    /// `arn:aws:iam::<account>:oidc-provider/<host_path>`.
    pub arn: String,
    /// What to do about the thumbprint list.
    pub thumbprint_note: String,
}

/// An IAM policy document, keys in the order AWS's own examples use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: String,
    pub statement: Vec<PolicyStatement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyStatement {
    pub sid: String,
    pub effect: String,
    pub principal: BTreeMap<String, String>,
    pub action: String,
    /// Operator → condition key → value.
    pub condition: BTreeMap<String, BTreeMap<String, String>>,
}

const THUMBPRINT_NOTE: &str = "No thumbprint is needed: without --thumbprint-list IAM fetches the \
    thumbprint of the issuer's top intermediate CA itself, and for certificates from well-known \
    CAs it verifies against its own trusted roots. Pass --thumbprint-list only for an issuer \
    behind a private CA.";

/// The provider, trust policy and commands for `target`'s tokens to assume `settings.role_arn`.
pub fn generate(target: &Target, settings: &AwsOidc) -> AwsTrust {
    let mut notes = Vec::new();
    let role = RoleArn::parse(&settings.role_arn);
    if role.is_none() {
        notes.push(Note::new(
            Level::Error,
            format!(
                "The Role ARN `{}` is not `arn:aws:iam::<12-digit account>:role/<name>`: the \
                 policy below uses placeholders until it is",
                settings.role_arn
            ),
        ));
    }
    let role = role.unwrap_or(RoleArn {
        partition: "aws",
        account: "<account-id>",
        path: "/".into(),
        name: "<role-name>",
    });
    let host_path = host_path(&target.issuer, &mut notes);
    let audience = target.audience();
    let arn = format!(
        "arn:{}:iam::{}:oidc-provider/{host_path}",
        role.partition, role.account
    );
    let trust_policy = PolicyDocument {
        version: "2012-10-17".into(),
        statement: vec![PolicyStatement {
            sid: "KeylessDeployments".into(),
            effect: "Allow".into(),
            principal: BTreeMap::from([("Federated".into(), arn.clone())]),
            action: ACTION.into(),
            condition: BTreeMap::from([
                (
                    "StringEquals".into(),
                    BTreeMap::from([(format!("{host_path}:aud"), audience.clone())]),
                ),
                (
                    "StringLike".into(),
                    BTreeMap::from([(format!("{host_path}:sub"), target.subject_pattern())]),
                ),
            ]),
        }],
    };
    let document = serde_json::to_string(&trust_policy).unwrap_or_default();
    let mut commands = vec![
        shell::command(
            "Create the OIDC identity provider (once per account)",
            "aws iam create-open-id-connect-provider",
            &["--url", &target.issuer, "--client-id-list", &audience],
        ),
        shell::command(
            "Create the role with this trust policy",
            "aws iam create-role",
            &[
                "--role-name",
                role.name,
                "--path",
                &role.path,
                "--assume-role-policy-document",
                &document,
            ],
        ),
        shell::command(
            "Or replace the trust policy of the existing role",
            "aws iam update-assume-role-policy",
            &["--role-name", role.name, "--policy-document", &document],
        ),
    ];
    let session = settings.duration.as_deref().map(duration::parse);
    if let Some(Ok(seconds)) = session
        && seconds > DEFAULT_MAX_SESSION
    {
        commands.push(shell::command(
            "Let the role's sessions last as long as the Session Duration",
            "aws iam update-role",
            &[
                "--role-name",
                role.name,
                "--max-session-duration",
                &seconds.to_string(),
            ],
        ));
        notes.push(Note::new(
            Level::Warning,
            format!(
                "The Session Duration {} exceeds AWS's default maximum of 1h: raise the role's \
                 MaxSessionDuration, or STS refuses the exchange",
                duration::format(seconds)
            ),
        ));
    }
    AwsTrust {
        provider: OidcProvider {
            url: target.issuer.clone(),
            host_path,
            audience,
            arn,
            thumbprint_note: THUMBPRINT_NOTE.into(),
        },
        trust_policy,
        commands,
        notes,
    }
}

/// Evaluates a pasted trust policy (the document itself, or `aws iam get-role` output) for a
/// token, as STS does after checking the issuer and the token's validity window. `settings`
/// supply the role's account: a role trusts only providers of its own account.
pub fn explain(
    claims: &Claims,
    now: u64,
    settings: &AwsOidc,
    trust_policy: &Value,
) -> Result<Verdict, ExplainError> {
    let document = trust_policy
        .pointer("/Role/AssumeRolePolicyDocument")
        .unwrap_or(trust_policy);
    let iss = claims.iss();
    let Some(provider) = iss.strip_prefix("https://") else {
        return Ok(Verdict::rejected(
            "iss",
            format!(
                "the token's issuer `{iss}` is not an https:// URL, and AWS registers OIDC providers only for https issuers"
            ),
            "Serve the Keyless issuer over https and set its public https URL as the issuer",
        ));
    };
    if let Some(expired) = check_time(claims, now) {
        return Ok(expired);
    }
    let request = Request {
        provider,
        account: RoleArn::parse(&settings.role_arn).map(|role| role.account),
        claims,
    };
    iam::evaluate(document, &request)
}

/// `arn:<partition>:iam::<account>:role/<path><name>`, split up.
struct RoleArn<'a> {
    partition: &'a str,
    account: &'a str,
    /// `/` or `/team/`.
    path: String,
    name: &'a str,
}

impl<'a> RoleArn<'a> {
    fn parse(arn: &'a str) -> Option<Self> {
        let rest = arn.strip_prefix("arn:")?;
        let (partition, rest) = rest.split_once(":iam::")?;
        let (account, resource) = rest.split_once(":role/")?;
        let (path, name) = match resource.rsplit_once('/') {
            Some((inner, name)) => (format!("/{inner}/"), name),
            None => ("/".to_owned(), resource),
        };
        let valid = partition.starts_with("aws")
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && !name.is_empty();
        valid.then_some(Self {
            partition,
            account,
            path,
            name,
        })
    }
}

/// The issuer without `https://`, noting what AWS will not accept.
fn host_path(issuer: &str, notes: &mut Vec<Note>) -> String {
    let Some(host_path) = issuer.strip_prefix("https://") else {
        notes.push(Note::new(
            Level::Error,
            format!("AWS registers OIDC providers only for https:// issuers, and the issuer is `{issuer}`"),
        ));
        return issuer
            .split_once("://")
            .map_or(issuer, |(_, rest)| rest)
            .to_owned();
    };
    let host = host_path.split('/').next().unwrap_or_default();
    if host.contains(':') {
        notes.push(Note::new(
            Level::Warning,
            format!("AWS expects an issuer URL without a port, and `{host}` has one"),
        ));
    }
    if host_path.ends_with('/') {
        notes.push(Note::new(
            Level::Warning,
            "The issuer ends with a slash: the provider URL, the Federated ARN and the condition \
             keys must then carry it too, exactly as the tokens' iss does",
        ));
    }
    host_path.to_owned()
}
