//! One set of validators, enforced by the server and run by the console as the admin types.
//! Each field validator returns the message to show beside that field; [`settings`] checks a
//! whole [`DeploymentSettings`] and names each failing field by its dotted path.

use crate::error::ErrorType;
use crate::session_name::{self, SessionVars};
use crate::settings::{
    AwsOidc, AzureOidc, DeploymentSettings, GcpOidc, GitHubSettings, SourceContextGit,
    VCS_PROVIDERS, VcsSettings,
};
use crate::stack::StackRef;
use crate::{duration, glob};

/// A problem with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path, e.g. `operationContext.oidc.aws.roleArn`.
    pub attribute: String,
    pub kind: ErrorType,
    pub message: String,
}

/// The operations a deployment can run.
pub const OPERATIONS: &[&str] = &[
    "update",
    "preview",
    "destroy",
    "refresh",
    "detect-drift",
    "remediate-drift",
];

/// Checks whole settings for `stack`; an empty result means they are valid.
pub fn settings(settings: &DeploymentSettings, stack: &StackRef) -> Vec<FieldError> {
    let mut errors = Errors::default();
    if let Some(git) = settings
        .source_context
        .as_ref()
        .and_then(|s| s.git.as_ref())
    {
        let github_repository = settings
            .github
            .as_ref()
            .and_then(|g| g.repository.as_deref())
            .is_some_and(|r| !r.trim().is_empty());
        check_git(git, github_repository, &mut errors);
    }
    if let Some(github) = &settings.github {
        check_github(github, &mut errors);
    }
    if let Some(vcs) = &settings.vcs {
        check_vcs(vcs, &mut errors);
    }
    if let Some(ctx) = &settings.operation_context {
        if let Some(op) = &ctx.operation {
            errors.check("operationContext.operation", operation(op));
        }
        for (i, command) in ctx.pre_run_commands.iter().flatten().enumerate() {
            if command.trim().is_empty() {
                errors.check(
                    &format!("operationContext.preRunCommands.{i}"),
                    Err("is empty".into()),
                );
            }
        }
        for name in ctx
            .environment_variables
            .iter()
            .flat_map(|vars| vars.keys())
        {
            errors.check(
                &format!("operationContext.environmentVariables.{name}"),
                env_var_name(name),
            );
        }
        if let Some(oidc) = &ctx.oidc {
            if let Some(aws) = &oidc.aws {
                check_aws(aws, stack, &mut errors);
            }
            if let Some(azure) = &oidc.azure {
                check_azure(azure, &mut errors);
            }
            if let Some(gcp) = &oidc.gcp {
                check_gcp(gcp, &mut errors);
            }
        }
    }
    errors.0
}

#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn check(&mut self, attribute: &str, result: Result<(), String>) {
        if let Err(message) = result {
            let kind = if message == REQUIRED {
                ErrorType::Required
            } else {
                ErrorType::Invalid
            };
            self.0.push(FieldError {
                attribute: attribute.into(),
                kind,
                message,
            });
        }
    }
}

const REQUIRED: &str = "is required";

fn required(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err(REQUIRED.into())
    } else {
        Ok(())
    }
}

/// `repoUrl` may be left out when the `gitHub` block names the repository deployed from.
fn check_git(git: &SourceContextGit, github_repository: bool, errors: &mut Errors) {
    match git.repo_url.as_deref() {
        None if github_repository => {}
        url => errors.check("sourceContext.git.repoUrl", repo_url(url.unwrap_or(""))),
    }
    if git.branch.as_deref().is_some_and(|b| !b.is_empty())
        && git.commit.as_deref().is_some_and(|c| !c.is_empty())
    {
        errors.check(
            "sourceContext.git.commit",
            Err("cannot be set together with a branch".into()),
        );
    }
    if let Some(commit) = git.commit.as_deref().filter(|c| !c.is_empty()) {
        let hex = commit.chars().all(|c| c.is_ascii_hexdigit());
        if !hex || !(4..=64).contains(&commit.len()) {
            errors.check(
                "sourceContext.git.commit",
                Err("must be a commit hash (hex digits)".into()),
            );
        }
    }
}

/// A repository URL: required, and holding no credentials. Settings are readable by every
/// member, and an `https://user:token@host/…` URL would hand them the token; credentials go in
/// `gitAuth`, which is sealed. `ssh://git@host/…` names a user, not a secret, and is fine.
pub fn repo_url(url: &str) -> Result<(), String> {
    required(url)?;
    let Some((scheme, rest)) = url.trim().split_once("://") else {
        return Ok(());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Ok(());
    };
    if scheme.eq_ignore_ascii_case("ssh") && !userinfo.contains(':') {
        return Ok(());
    }
    Err(
        "must not hold credentials (user:token@); put them in gitAuth (an access token, \
         basic auth or an SSH key), which is stored encrypted"
            .into(),
    )
}

fn check_github(github: &GitHubSettings, errors: &mut Errors) {
    match github
        .repository
        .as_deref()
        .filter(|r| !r.trim().is_empty())
    {
        Some(repository) => errors.check("gitHub.repository", github_repository(repository)),
        None => {
            let triggers = [
                github.deploy_commits,
                github.preview_pull_requests,
                github.deploy_tags,
            ];
            if triggers.contains(&Some(true)) {
                errors.check(
                    "gitHub.repository",
                    Err("is required to deploy on pushes, pull requests or tags".into()),
                );
            }
        }
    }
    for (i, pattern) in github.paths.iter().flatten().enumerate() {
        errors.check(&format!("gitHub.paths.{i}"), glob::check(pattern));
    }
    for (i, pattern) in github.tag_filters.iter().flatten().enumerate() {
        errors.check(&format!("gitHub.tagFilters.{i}"), glob::check(pattern));
    }
}

fn check_vcs(vcs: &VcsSettings, errors: &mut Errors) {
    errors.check("vcs.provider", vcs_provider(&vcs.provider));
}

/// One of Pulumi's VCS providers ([`VCS_PROVIDERS`]).
pub fn vcs_provider(value: &str) -> Result<(), String> {
    required(value)?;
    if VCS_PROVIDERS.contains(&value) {
        Ok(())
    } else {
        Err(format!("must be one of {}", VCS_PROVIDERS.join(", ")))
    }
}

fn check_aws(aws: &AwsOidc, stack: &StackRef, errors: &mut Errors) {
    let base = "operationContext.oidc.aws";
    errors.check(&format!("{base}.roleArn"), aws_role_arn(&aws.role_arn));
    errors.check(
        &format!("{base}.sessionName"),
        aws_session_name(&aws.session_name, stack).map(drop),
    );
    if let Some(d) = &aws.duration {
        errors.check(&format!("{base}.duration"), aws_duration(d));
    }
    for (i, arn) in aws.policy_arns.iter().flatten().enumerate() {
        errors.check(&format!("{base}.policyArns.{i}"), aws_policy_arn(arn));
    }
}

/// Each id is checked when given: Pulumi's schema requires none of them.
fn check_azure(azure: &AzureOidc, errors: &mut Errors) {
    let base = "operationContext.oidc.azure";
    let ids = [
        ("clientId", &azure.client_id),
        ("tenantId", &azure.tenant_id),
        ("subscriptionId", &azure.subscription_id),
    ];
    for (field, id) in ids {
        if !id.is_empty() {
            errors.check(&format!("{base}.{field}"), guid(id));
        }
    }
}

fn check_gcp(gcp: &GcpOidc, errors: &mut Errors) {
    let base = "operationContext.oidc.gcp";
    errors.check(
        &format!("{base}.projectId"),
        gcp_project_number(&gcp.project_id),
    );
    errors.check(
        &format!("{base}.workloadPoolId"),
        gcp_pool_id(&gcp.workload_pool_id),
    );
    errors.check(
        &format!("{base}.providerId"),
        gcp_provider_id(&gcp.provider_id),
    );
    errors.check(
        &format!("{base}.serviceAccount"),
        gcp_service_account(&gcp.service_account),
    );
    if let Some(region) = gcp.region.as_deref().filter(|r| !r.is_empty()) {
        errors.check(&format!("{base}.region"), gcp_region(region));
    }
    if let Some(lifetime) = &gcp.token_lifetime {
        errors.check(
            &format!("{base}.tokenLifetime"),
            gcp_token_lifetime(lifetime),
        );
    }
}

/// A GitHub repository as `owner/repo`: the owner 1–39 letters, digits or single inner
/// hyphens; the name 1–100 letters, digits, `-`, `_` or `.`, and not `.` or `..`.
pub fn github_repository(value: &str) -> Result<(), String> {
    required(value)?;
    let shape = || "must be owner/repo, like acme/website".to_owned();
    let (owner, name) = value.trim().split_once('/').ok_or_else(shape)?;
    let owner_ok = (1..=39).contains(&owner.len())
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !owner.starts_with('-')
        && !owner.ends_with('-')
        && !owner.contains("--");
    if !owner_ok {
        return Err(format!(
            "has owner \"{owner}\"; a GitHub owner is 1 to 39 letters, digits or single \
             hyphens, not at either end"
        ));
    }
    let name_ok = (1..=100).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name != "."
        && name != "..";
    if name_ok {
        Ok(())
    } else if name.is_empty() || name.contains('/') {
        Err(shape())
    } else {
        Err(format!(
            "has repository name \"{name}\"; it may hold only letters, digits, -, _ and ."
        ))
    }
}

/// A pulumi operation name.
pub fn operation(value: &str) -> Result<(), String> {
    if OPERATIONS.contains(&value) {
        Ok(())
    } else {
        Err(format!("must be one of {}", OPERATIONS.join(", ")))
    }
}

/// An environment variable name: a letter or `_`, then letters, digits or `_`.
pub fn env_var_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(())
    } else {
        Err("must start with a letter or _ and hold only letters, digits and _".into())
    }
}

const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

/// Splits `arn:<partition>:iam::<account>:<kind>/<path/name>` into account and resource name.
fn iam_arn<'a>(value: &'a str, kind: &str) -> Option<(&'a str, &'a str)> {
    let mut parts = value.splitn(6, ':');
    let (arn, partition, service, region) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let (account, resource) = (parts.next()?, parts.next()?);
    if arn != "arn" || !PARTITIONS.contains(&partition) || service != "iam" || !region.is_empty() {
        return None;
    }
    let path_and_name = resource.strip_prefix(kind)?.strip_prefix('/')?;
    let name = path_and_name.rsplit('/').next()?;
    let name_ok = (1..=128).contains(&name.len()) && name.chars().all(session_name::allowed_char);
    let path_ok = path_and_name
        .split('/')
        .all(|segment| !segment.is_empty() && segment.chars().all(|c| c.is_ascii_graphic()));
    (name_ok && path_ok).then_some((account, name))
}

fn twelve_digits(account: &str) -> bool {
    account.len() == 12 && account.chars().all(|c| c.is_ascii_digit())
}

/// An IAM role ARN: `arn:aws:iam::123456789012:role/name` (a path before the name is allowed).
pub fn aws_role_arn(value: &str) -> Result<(), String> {
    required(value)?;
    match iam_arn(value.trim(), "role") {
        Some((account, name)) if twelve_digits(account) && name.len() <= 64 => Ok(()),
        Some((account, _)) if !twelve_digits(account) => Err(format!(
            "has account \"{account}\"; an AWS account id is 12 digits"
        )),
        _ => Err("must look like arn:aws:iam::123456789012:role/my-role".into()),
    }
}

/// An IAM managed policy ARN, AWS-managed (`arn:aws:iam::aws:policy/…`) or customer-managed.
pub fn aws_policy_arn(value: &str) -> Result<(), String> {
    required(value)?;
    match iam_arn(value.trim(), "policy") {
        Some((account, _)) if account == "aws" || twelve_digits(account) => Ok(()),
        _ => Err("must look like arn:aws:iam::aws:policy/ReadOnlyAccess or arn:aws:iam::123456789012:policy/name".into()),
    }
}

/// A session name template, checked for every deployment of `stack`; returns the expansion for
/// its next `update` as an example.
pub fn aws_session_name(template: &str, stack: &StackRef) -> Result<String, String> {
    session_name::expand(
        template,
        &SessionVars::worst_case(&stack.org, &stack.project, &stack.stack),
    )?;
    let example = SessionVars::new(stack, "update", 1, "00000000-0000-0000-0000-000000000000");
    session_name::expand(template, &example)
}

fn duration_between(value: &str, min: u64, max: u64, what: &str) -> Result<(), String> {
    required(value)?;
    let seconds = duration::parse(value)?;
    if (min..=max).contains(&seconds) {
        Ok(())
    } else {
        Err(format!(
            "is {}; {what} must be between {} and {}",
            duration::format(seconds),
            duration::format(min),
            duration::format(max)
        ))
    }
}

/// AWS session duration: 15 minutes to 12 hours.
pub fn aws_duration(value: &str) -> Result<(), String> {
    duration_between(value, 15 * 60, 12 * 3600, "an AWS session")
}

/// GCP access token lifetime: up to 12 hours (more than 1 hour needs an organization policy).
pub fn gcp_token_lifetime(value: &str) -> Result<(), String> {
    duration_between(
        value,
        1,
        12 * 3600,
        "a Google Cloud access token's lifetime",
    )
}

/// A GUID as Azure prints them: `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits.
pub fn guid(value: &str) -> Result<(), String> {
    required(value)?;
    let groups: Vec<&str> = value.trim().split('-').collect();
    let lengths_ok = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]);
    if lengths_ok
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
    {
        Ok(())
    } else {
        Err("must be a GUID like 00000000-0000-0000-0000-000000000000".into())
    }
}

/// The GCP project NUMBER (digits), not the project id.
pub fn gcp_project_number(value: &str) -> Result<(), String> {
    required(value)?;
    if value.trim().chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err("must be the project number (digits only), not the project id".into())
    }
}

/// Workload identity pool and provider ids: 4–32 of `[a-z0-9-]`, not starting with `gcp-`.
fn gcp_id(value: &str) -> Result<(), String> {
    required(value)?;
    let ok_chars = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !(4..=32).contains(&value.len()) || !ok_chars {
        Err("must be 4 to 32 lowercase letters, digits or hyphens".into())
    } else if value.starts_with("gcp-") {
        Err("cannot start with \"gcp-\" (reserved by Google)".into())
    } else if value.starts_with('-') || value.ends_with('-') {
        Err("cannot start or end with a hyphen".into())
    } else {
        Ok(())
    }
}

/// A workload identity pool id.
pub fn gcp_pool_id(value: &str) -> Result<(), String> {
    gcp_id(value)
}

/// A workload identity pool provider id.
pub fn gcp_provider_id(value: &str) -> Result<(), String> {
    gcp_id(value)
}

/// A service account email, e.g. `deployer@my-project.iam.gserviceaccount.com`.
pub fn gcp_service_account(value: &str) -> Result<(), String> {
    required(value)?;
    let (local, domain) = value
        .trim()
        .split_once('@')
        .ok_or("must be an email address")?;
    let local_ok = (1..=64).contains(&local.len())
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    let domain_ok = domain.contains('.')
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err("must be an email address like deployer@my-project.iam.gserviceaccount.com".into())
    }
}

/// A GCP region like `us-central1`.
pub fn gcp_region(value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split('-').collect();
    let ok = parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.ends_with(|c: char| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err("must be a region like us-central1".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{OidcConfig, OperationContext, SourceContext};

    #[test]
    fn repository_urls_hold_no_credentials() {
        for ok in [
            "https://github.com/acme/infra.git",
            "git@github.com:acme/infra.git",
            "ssh://git@github.com/acme/infra.git",
            "/srv/repos/infra",
            "file:///srv/repos/infra",
            "https://github.com/acme/infra?ref=a@b",
        ] {
            assert_eq!(repo_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "https://bob:ghp_token@github.com/acme/infra.git",
            "https://ghp_token@github.com/acme/infra.git",
            "HTTP://x:y@host/repo",
            "ssh://git:password@github.com/acme/infra.git",
        ] {
            let message = repo_url(bad).expect_err(bad);
            assert!(message.contains("gitAuth"), "{message}");
        }
        assert_eq!(repo_url(" "), Err(REQUIRED.into()));
    }

    #[test]
    fn role_arns() {
        for ok in [
            "arn:aws:iam::123456789012:role/deploy",
            "arn:aws:iam::123456789012:role/pulumi/deploy-prod",
            "arn:aws-us-gov:iam::123456789012:role/a+b=c,d.e@f_g-h",
        ] {
            assert_eq!(aws_role_arn(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "arn:aws:iam::12345:role/deploy",
            "arn:aws:iam::123456789012:user/deploy",
            "arn:aws:s3:::bucket",
            "arn:aws:iam:us-east-1:123456789012:role/deploy",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/has space",
        ] {
            assert!(aws_role_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn policy_arns() {
        assert_eq!(
            aws_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            Ok(())
        );
        assert_eq!(
            aws_policy_arn("arn:aws:iam::123456789012:policy/team/deploy"),
            Ok(())
        );
        assert!(aws_policy_arn("arn:aws:iam::aws:role/ReadOnlyAccess").is_err());
    }

    #[test]
    fn durations_and_ids() {
        assert_eq!(aws_duration("1h"), Ok(()));
        assert!(
            aws_duration("14m")
                .unwrap_err()
                .contains("between 15m0s and 12h0m0s")
        );
        assert!(aws_duration("13h").is_err());
        assert!(gcp_token_lifetime("13h").is_err());
        assert_eq!(guid("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"), Ok(()));
        assert!(guid("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9fg").is_err());
        assert!(guid("not-a-guid").is_err());
        assert_eq!(gcp_project_number("123456789012"), Ok(()));
        assert!(
            gcp_project_number("my-project")
                .unwrap_err()
                .contains("project number")
        );
        assert_eq!(gcp_pool_id("pulumi-pool"), Ok(()));
        assert!(gcp_pool_id("gcp-pool").is_err());
        assert!(gcp_pool_id("abc").is_err());
        assert!(gcp_provider_id("Pulumi").is_err());
        assert_eq!(
            gcp_service_account("deployer@acme.iam.gserviceaccount.com"),
            Ok(())
        );
        assert!(gcp_service_account("deployer").is_err());
        assert_eq!(gcp_region("europe-west4"), Ok(()));
        assert!(gcp_region("Europe").is_err());
    }

    #[test]
    fn github_repositories() {
        for ok in [
            "acme/website",
            "Acme-Corp/web.site_2",
            "a/b",
            "octo-org/.github",
        ] {
            assert_eq!(github_repository(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "acme",
            "acme/",
            "/website",
            "acme/web/site",
            "-acme/website",
            "ac--me/website",
            "acme/web site",
            "acme/..",
            "https://github.com/acme/website",
        ] {
            assert!(github_repository(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn github_settings_errors_name_their_fields() {
        let input = DeploymentSettings {
            github: Some(GitHubSettings {
                repository: Some("acme/website".into()),
                paths: Some(vec!["infra/**".into(), "!docs/**".into(), "a!b".into()]),
                tag_filters: Some(vec!["v[0-9".into()]),
                ..GitHubSettings::default()
            }),
            ..DeploymentSettings::default()
        };
        let errors = settings(&input, &StackRef::new("acme", "web", "prod"));
        let attributes: Vec<_> = errors.iter().map(|e| e.attribute.as_str()).collect();
        assert_eq!(attributes, ["gitHub.paths.2", "gitHub.tagFilters.0"]);

        let no_repository = DeploymentSettings {
            github: Some(GitHubSettings {
                deploy_tags: Some(true),
                ..GitHubSettings::default()
            }),
            ..DeploymentSettings::default()
        };
        let errors = settings(&no_repository, &StackRef::new("acme", "web", "prod"));
        assert_eq!(errors[0].attribute, "gitHub.repository");
    }

    #[test]
    fn a_github_repository_stands_in_for_the_repo_url() {
        let stack = StackRef::new("acme", "web", "prod");
        let git_without_url = SourceContext {
            git: Some(SourceContextGit {
                branch: Some("refs/heads/main".into()),
                ..SourceContextGit::default()
            }),
            ..SourceContext::default()
        };
        let mut input = DeploymentSettings {
            source_context: Some(git_without_url),
            ..DeploymentSettings::default()
        };
        let errors = settings(&input, &stack);
        assert_eq!(errors[0].attribute, "sourceContext.git.repoUrl");
        assert_eq!(input.git_source(), None);

        input.github = Some(GitHubSettings {
            repository: Some("acme/website".into()),
            ..GitHubSettings::default()
        });
        assert_eq!(settings(&input, &stack), []);
        let source = input.git_source().expect("the GitHub repository");
        assert_eq!(
            source.repo_url.as_deref(),
            Some("https://github.com/acme/website.git")
        );
        assert_eq!(source.branch.as_deref(), Some("refs/heads/main"));
    }

    #[test]
    fn vcs_providers_are_pulumis() {
        for ok in VCS_PROVIDERS {
            assert_eq!(vcs_provider(ok), Ok(()));
        }
        assert_eq!(vcs_provider(""), Err(REQUIRED.into()));
        let message = vcs_provider("GitHub").expect_err("case matters");
        assert!(message.contains("azure_devops"), "{message}");
    }

    #[test]
    fn azure_ids_are_checked_only_when_given() {
        let stack = StackRef::new("acme", "web", "prod");
        let with = |azure: AzureOidc| DeploymentSettings {
            operation_context: Some(OperationContext {
                oidc: Some(OidcConfig {
                    azure: Some(azure),
                    ..OidcConfig::default()
                }),
                ..OperationContext::default()
            }),
            ..DeploymentSettings::default()
        };
        assert_eq!(settings(&with(AzureOidc::default()), &stack), []);
        let errors = settings(
            &with(AzureOidc {
                subscription_id: "sub".into(),
                ..AzureOidc::default()
            }),
            &stack,
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].attribute,
            "operationContext.oidc.azure.subscriptionId"
        );
    }

    #[test]
    fn settings_errors_name_their_fields() {
        let input = DeploymentSettings {
            operation_context: Some(OperationContext {
                oidc: Some(OidcConfig {
                    aws: Some(AwsOidc {
                        role_arn: "nope".into(),
                        ..AwsOidc::default()
                    }),
                    azure: Some(AzureOidc {
                        client_id: "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0".into(),
                        tenant_id: "tenant".into(),
                        subscription_id: "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0".into(),
                    }),
                    gcp: None,
                }),
                ..OperationContext::default()
            }),
            ..DeploymentSettings::default()
        };
        let errors = settings(&input, &StackRef::new("acme", "web", "prod"));
        let attributes: Vec<_> = errors
            .iter()
            .map(|e| (e.attribute.as_str(), e.kind))
            .collect();
        assert_eq!(
            attributes,
            [
                ("operationContext.oidc.aws.roleArn", ErrorType::Invalid),
                ("operationContext.oidc.aws.sessionName", ErrorType::Required),
                ("operationContext.oidc.azure.tenantId", ErrorType::Invalid),
            ]
        );
    }
}
