//! Secret values on the wire: read back as `{"secret":"[secret]","ciphertext":"…"}`, never in
//! plaintext; written in any form Pulumi's clients send (see [`SecretValue`]).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// What the API returns in place of a secret's plaintext.
pub const REDACTED: &str = "[secret]";

/// A secret value as the API carries it.
///
/// On input it takes every form of Pulumi's `SecretValue`: a bare JSON string (a plain value,
/// which a secret slot seals all the same), `{"secret": "v"}`, `{"ciphertext": "…"}` as read
/// back (keeps the stored value; Pulumi's CLI and provider send it so), both together, and the
/// explicit `{"isSecret": true, "value": "v"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretValue {
    /// The plaintext on input; [`REDACTED`] on output.
    pub secret: String,
    /// The encrypted value (base64), opaque to clients. Sent back unchanged to keep a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext: Option<String>,
}

impl SecretValue {
    /// A new secret to be encrypted by the server.
    pub fn new(plaintext: impl Into<String>) -> Self {
        Self {
            secret: plaintext.into(),
            ciphertext: None,
        }
    }

    /// Whether this is a stored secret echoed back as read (redacted, with its ciphertext).
    pub fn is_stored(&self) -> bool {
        self.secret == REDACTED && self.ciphertext.is_some()
    }
}

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(deserializer.deserialize_any(WireVisitor)?.into_secret())
    }
}

/// An environment variable's value: plain text, or a secret. A bare string, `{"plaintext": "v"}`
/// and `{"isSecret": false, "value": "v"}` are plain; every other [`SecretValue`] form is secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EnvValue {
    Plain(String),
    Secret(SecretValue),
}

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = deserializer.deserialize_any(WireVisitor)?;
        Ok(match wire {
            Wire::Plain(value) => Self::Plain(value),
            secret @ Wire::Secret { .. } => Self::Secret(secret.into_secret()),
        })
    }
}

/// A value as written, before a slot decides what it becomes.
enum Wire {
    Plain(String),
    /// `plaintext` is `None` when only a ciphertext was sent.
    Secret {
        plaintext: Option<String>,
        ciphertext: Option<String>,
    },
}

impl Wire {
    /// As a secret slot keeps it: a ciphertext alone stands for the stored value it seals.
    fn into_secret(self) -> SecretValue {
        match self {
            Self::Plain(value) => SecretValue::new(value),
            Self::Secret {
                plaintext,
                ciphertext,
            } => SecretValue {
                secret: plaintext.unwrap_or_else(|| REDACTED.into()),
                ciphertext,
            },
        }
    }
}

/// Without `": "`, so that the server's decoder messages keep it whole.
const EXPECTED: &str =
    "a string, {\"secret\":\"…\"}, or the {\"ciphertext\":\"…\"} this server returned";

struct WireVisitor;

impl<'de> Visitor<'de> for WireVisitor {
    type Value = Wire;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Wire, E> {
        Ok(Wire::Plain(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Wire, E> {
        Ok(Wire::Plain(value))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wire, A::Error> {
        let (mut secret, mut ciphertext, mut plaintext) = (None, None, None);
        let (mut is_secret, mut value) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "secret" => secret = Some(map.next_value::<String>()?),
                "ciphertext" => ciphertext = Some(map.next_value::<String>()?),
                "plaintext" => plaintext = Some(map.next_value::<String>()?),
                "isSecret" => is_secret = Some(map.next_value::<bool>()?),
                "value" => value = Some(map.next_value::<String>()?),
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        match (is_secret, plaintext) {
            (Some(false), _) => value.map(Wire::Plain),
            (None, Some(plain)) if secret.is_none() && ciphertext.is_none() => {
                Some(Wire::Plain(plain))
            }
            _ => {
                let plaintext = secret.or(value);
                (plaintext.is_some() || ciphertext.is_some()).then_some(Wire::Secret {
                    plaintext,
                    ciphertext,
                })
            }
        }
        .ok_or_else(|| de::Error::custom(format!("expected {EXPECTED}")))
    }
}

/// The answer to `POST …/deployments/settings/encrypt`: the value sealed for the stack, to send
/// in settings as `{"ciphertext": …}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedSecret {
    pub ciphertext: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(value: serde_json::Value) -> SecretValue {
        serde_json::from_value(value).expect("a secret")
    }

    fn env(value: serde_json::Value) -> EnvValue {
        serde_json::from_value(value).expect("an env value")
    }

    #[test]
    fn secret_slots_take_every_form_pulumi_sends() {
        assert_eq!(secret(json!("git")), SecretValue::new("git"));
        assert_eq!(secret(json!({"secret": "pw"})), SecretValue::new("pw"));
        assert_eq!(
            secret(json!({"isSecret": true, "value": "pw"})),
            SecretValue::new("pw")
        );
        assert_eq!(
            secret(json!({"isSecret": false, "value": "git"})),
            SecretValue::new("git")
        );
        let kept = secret(json!({"ciphertext": "c2VhbGVk"}));
        assert!(kept.is_stored(), "{kept:?}");
        let echoed = secret(json!({"secret": REDACTED, "ciphertext": "c2VhbGVk"}));
        assert_eq!(echoed, kept);
        // A new value beside an old ciphertext is the new value.
        assert!(!secret(json!({"secret": "new", "ciphertext": "c2VhbGVk"})).is_stored());
    }

    #[test]
    fn environment_values_stay_plain_unless_marked_secret() {
        assert_eq!(env(json!("us-west-2")), EnvValue::Plain("us-west-2".into()));
        assert_eq!(env(json!({"plaintext": "x"})), EnvValue::Plain("x".into()));
        assert_eq!(
            env(json!({"isSecret": false, "value": "x"})),
            EnvValue::Plain("x".into())
        );
        assert_eq!(
            env(json!({"secret": "s"})),
            EnvValue::Secret(SecretValue::new("s"))
        );
        assert!(matches!(
            env(json!({"ciphertext": "c2VhbGVk"})),
            EnvValue::Secret(s) if s.is_stored()
        ));
    }

    #[test]
    fn shapes_without_a_value_are_refused_with_what_is_expected() {
        for bad in [
            json!({}),
            json!({"isSecret": true}),
            json!({"isSecret": false}),
            json!(5),
            json!(["x"]),
        ] {
            let err = serde_json::from_value::<SecretValue>(bad.clone()).expect_err("refused");
            assert!(err.to_string().contains("ciphertext"), "{bad}: {err}");
        }
        let err = serde_json::from_value::<SecretValue>(json!({"secret": 5})).expect_err("typed");
        assert!(err.to_string().contains("expected a string"), "{err}");
    }

    #[test]
    fn output_is_the_redacted_object_or_a_plain_string() {
        let stored = SecretValue {
            secret: REDACTED.into(),
            ciphertext: Some("c2VhbGVk".into()),
        };
        assert_eq!(
            serde_json::to_value(&stored).expect("serialises"),
            json!({"secret": "[secret]", "ciphertext": "c2VhbGVk"})
        );
        assert_eq!(
            serde_json::to_value(EnvValue::Plain("x".into())).expect("serialises"),
            json!("x")
        );
    }
}
