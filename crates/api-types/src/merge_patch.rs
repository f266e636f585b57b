//! JSON merge patch (RFC 7396): how `POST …/deployments/settings` changes stored settings.
//! Objects merge recursively, `null` removes, everything else replaces.

use serde_json::{Map, Value};

/// Applies `patch` to `target` in place.
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(fields) = target else {
        unreachable!("target was just made an object")
    };
    for (key, change) in changes {
        if change.is_null() {
            fields.remove(key);
        } else {
            apply(fields.entry(key.clone()).or_insert(Value::Null), change);
        }
    }
}

/// The smallest merge patch that turns `from` into `to`, or `None` when they are equal.
///
/// Both must be objects for a partial patch; otherwise the patch is `to` itself. A `null`
/// inside `to` cannot be expressed by a merge patch and is treated as absent.
pub fn diff(from: &Value, to: &Value) -> Option<Value> {
    match (from, to) {
        (Value::Object(old), Value::Object(new)) => {
            let mut patch = Map::new();
            for (key, old_value) in old {
                match new.get(key) {
                    None | Some(Value::Null) => {
                        patch.insert(key.clone(), Value::Null);
                    }
                    Some(new_value) => {
                        if let Some(change) = diff(old_value, new_value) {
                            patch.insert(key.clone(), change);
                        }
                    }
                }
            }
            for (key, new_value) in new {
                if !old.contains_key(key) && !new_value.is_null() {
                    patch.insert(key.clone(), without_nulls(new_value));
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ if from == to => None,
        _ => Some(without_nulls(to)),
    }
}

fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The examples of RFC 7396, appendix A.
    #[test]
    fn rfc_7396_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, expected) in cases {
            let mut result = target.clone();
            apply(&mut result, &patch);
            assert_eq!(result, expected, "{target} + {patch}");
        }
    }

    #[test]
    fn diff_then_apply_gives_the_new_value() {
        let old = json!({"operationContext":{"oidc":{"aws":{"roleArn":"a","duration":"1h0m0s"},"gcp":{"projectId":"1"}},"preRunCommands":["x"]},"tag":"t"});
        let new = json!({"operationContext":{"oidc":{"aws":{"roleArn":"b"},"azure":{"clientId":"c"}},"preRunCommands":["x","y"]}});
        let patch = diff(&old, &new).expect("they differ");
        assert_eq!(
            patch,
            json!({"tag":null,"operationContext":{"oidc":{"aws":{"roleArn":"b","duration":null},"gcp":null,"azure":{"clientId":"c"}},"preRunCommands":["x","y"]}})
        );
        let mut applied = old.clone();
        apply(&mut applied, &patch);
        assert_eq!(applied, new);
        assert_eq!(diff(&new, &new), None);
    }
}
