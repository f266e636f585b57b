//! CLI commands for POSIX shells (bash, zsh), with every argument quoted as needed.

use keyless_api_types::trust::Command;

/// A command: `program` followed by `args`, each quoted for the shell.
pub(crate) fn command(summary: impl Into<String>, program: &str, args: &[&str]) -> Command {
    let mut line = program.to_owned();
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    Command {
        summary: summary.into(),
        line,
    }
}

/// Quotes one word: bare when it is safe (so `--role=roles/x` stays readable), in double quotes
/// when it holds single quotes but nothing a shell expands in double quotes (CEL conditions), in
/// single quotes otherwise (JSON), with `'\''` for any single quote inside.
pub(crate) fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-.,:/=@%+".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else if !word.contains('\'') {
        format!("'{word}'")
    } else if !word.contains(['"', '$', '`', '\\', '!']) {
        format!("\"{word}\"")
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(
            quote("--role=roles/iam.workloadIdentityUser"),
            "--role=roles/iam.workloadIdentityUser"
        );
        assert_eq!(quote(""), "''");
        assert_eq!(quote(r#"{"a": "b c"}"#), r#"'{"a": "b c"}'"#);
        assert_eq!(quote("a == 'b' && c"), r#""a == 'b' && c""#);
        assert_eq!(quote(r#"{"v": "it's $x"}"#), r#"'{"v": "it'\''s $x"}'"#);
    }
}
