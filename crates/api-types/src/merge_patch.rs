//! JSON merge patch (RFC 7396): how `POST …/deployments/settings` changes stored settings.
//! Objects merge recursively, `null` removes, everything else replaces.
//!
//! The functions here recurse once per level of nesting. Their values come from serde_json's
//! parser (request bodies, stored documents), which refuses input nested 128 levels deep or more,
//! and merging never nests deeper than its inputs, so the recursion is bounded.

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
        Value::Object(fields) => {
            // Inserted one by one: collecting into the map would sort what is already in
            // order, and the sort is kilobytes of the console's wasm.
            let mut kept = Map::new();
            for (key, value) in fields.iter().filter(|(_, v)| !v.is_null()) {
                kept.insert(key.clone(), without_nulls(value));
            }
            Value::Object(kept)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
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

    /// JSON objects nested `depth` levels deep, around an empty list.
    fn nested(depth: usize) -> String {
        let (open, close) = (r#"{"a":"#.repeat(depth - 1), "}".repeat(depth - 1));
        format!("{open}[]{close}")
    }

    #[test]
    fn the_deepest_parsed_values_merge_and_diff() {
        assert!(serde_json::from_str::<Value>(&nested(128)).is_err());
        let deepest: Value = serde_json::from_str(&nested(127)).expect("127 levels parse");
        let mut target = json!({"b": 1});
        apply(&mut target, &deepest);
        assert!(target["a"]["a"]["a"].is_object());
        let patch = diff(&json!({"b": 1}), &deepest).expect("they differ");
        let mut applied = json!({"b": 1});
        apply(&mut applied, &patch);
        assert_eq!(applied, deepest);
    }

    /// JSON without nulls, which a merge patch cannot set.
    fn values() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-c]{0,3}".prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 48, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::btree_map("[a-c]", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn applying_a_diff_gives_the_new_value(from in values(), to in values()) {
            let mut applied = from.clone();
            if let Some(patch) = diff(&from, &to) {
                apply(&mut applied, &patch);
            }
            prop_assert_eq!(applied, to);
        }
    }
}
