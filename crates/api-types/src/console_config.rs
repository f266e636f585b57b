//! The console's runtime configuration, `config.json` beside its `index.html`: which API it
//! calls. Read by the console at start and, for its Content-Security-Policy, by the server that
//! serves it: one set of rules, so that the two never disagree about a file.

use serde_json::Value;

/// Where the file is served, beside `index.html`.
pub const PATH: &str = "/config.json";

/// The API base URL a `config.json` names: `{"apiBaseUrl": "https://api.example.com"}` (an
/// `http(s)` URL, or a path on the console's origin); absent or empty means the console's own
/// origin. The answer has no trailing `/`, since every API path starts with one.
pub fn api_base_url(text: &str) -> Result<String, String> {
    let broken = |why: &str| format!("{PATH} is not a valid console configuration: {why}.");
    let config: Value = serde_json::from_str(text).map_err(|e| broken(&e.to_string()))?;
    let Value::Object(config) = config else {
        return Err(broken("it must be a JSON object"));
    };
    let base = match config.get("apiBaseUrl") {
        None | Some(Value::Null) => "",
        Some(Value::String(url)) => url.trim(),
        Some(_) => return Err(broken("apiBaseUrl must be a string")),
    };
    let lower = base.to_ascii_lowercase();
    let absolute = ["http://", "https://"].iter().any(|scheme| {
        lower
            .strip_prefix(scheme)
            .is_some_and(|rest| !rest.is_empty())
    });
    let path = base.starts_with('/') && !base.starts_with("//");
    if base.is_empty() || absolute || path {
        Ok(base.trim_end_matches('/').to_owned())
    } else {
        Err(broken(&format!(
            "apiBaseUrl {base:?} is neither an http(s) URL nor a path"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_names_the_api_base_or_leaves_the_console_origin() {
        assert_eq!(
            api_base_url(r#"{"apiBaseUrl": "https://api.example.com/"}"#),
            Ok("https://api.example.com".into())
        );
        assert_eq!(
            api_base_url(r#"{"apiBaseUrl": "http://127.0.0.1:8080"}"#),
            Ok("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            api_base_url(r#"{"apiBaseUrl": "/pulumi"}"#),
            Ok("/pulumi".into())
        );
        assert_eq!(api_base_url("{}"), Ok(String::new()));
        assert_eq!(api_base_url(r#"{"apiBaseUrl": ""}"#), Ok(String::new()));
    }

    #[test]
    fn a_broken_config_is_an_error_that_says_why() {
        for (text, why) in [
            ("{\"apiBaseUrl\": ", "EOF"),
            ("[]", "JSON object"),
            (r#"{"apiBaseUrl": 8080}"#, "must be a string"),
            (
                r#"{"apiBaseUrl": "api.example.com"}"#,
                "neither an http(s) URL",
            ),
            (
                r#"{"apiBaseUrl": "//api.example.com"}"#,
                "neither an http(s) URL",
            ),
            (r#"{"apiBaseUrl": "https://"}"#, "neither an http(s) URL"),
        ] {
            let error = api_base_url(text).expect_err(text);
            assert!(
                error.contains("config.json") && error.contains(why),
                "{error}"
            );
        }
    }
}
