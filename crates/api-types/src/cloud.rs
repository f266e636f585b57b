//! The clouds Keyless exchanges OIDC tokens with: one type for the wire, the exchange, the
//! server and the console, and a value per cloud ([`PerCloud`]) instead of hand-written
//! indices. Adding a cloud starts here; `ARCHITECTURE.md` lists the rest.

use std::fmt;
use std::ops::{Index, IndexMut};

use serde::{Deserialize, Serialize};

/// A cloud with an OIDC integration. On the wire it is its [`key`](Cloud::key), the key of
/// its block under `operationContext.oidc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Aws,
    Azure,
    Gcp,
}

impl Cloud {
    /// Every cloud, in the order the console shows them and the deployment exchanges with them.
    pub const ALL: [Cloud; 3] = [Cloud::Aws, Cloud::Azure, Cloud::Gcp];

    /// The key under `operationContext.oidc`, and the cloud's name on the wire.
    pub fn key(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Azure => "azure",
            Cloud::Gcp => "gcp",
        }
    }

    /// The cloud's name for people.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Aws => "AWS",
            Cloud::Azure => "Azure",
            Cloud::Gcp => "Google Cloud",
        }
    }

    /// The cloud whose [`key`](Cloud::key) this is.
    pub fn from_key(key: &str) -> Option<Cloud> {
        Cloud::ALL.into_iter().find(|cloud| cloud.key() == key)
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value for each cloud, indexed by [`Cloud`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerCloud<T>([T; 3]);

impl<T> PerCloud<T> {
    /// Each cloud's value, made by `value`.
    pub fn new(mut value: impl FnMut(Cloud) -> T) -> Self {
        Self(Cloud::ALL.map(&mut value))
    }

    /// Each cloud with its value, in [`Cloud::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (Cloud, &T)> {
        Cloud::ALL.into_iter().zip(self.0.iter())
    }
}

impl<T> Index<Cloud> for PerCloud<T> {
    type Output = T;

    fn index(&self, cloud: Cloud) -> &T {
        &self.0[cloud.index()]
    }
}

impl<T> IndexMut<Cloud> for PerCloud<T> {
    fn index_mut(&mut self, cloud: Cloud) -> &mut T {
        &mut self.0[cloud.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_wire_names_and_round_trip() {
        for cloud in Cloud::ALL {
            let wire = serde_json::to_value(cloud).unwrap();
            assert_eq!(wire, cloud.key());
            assert_eq!(serde_json::from_value::<Cloud>(wire).unwrap(), cloud);
            assert_eq!(Cloud::from_key(cloud.key()), Some(cloud));
        }
        assert_eq!(Cloud::from_key("AWS"), None);
        assert_eq!(Cloud::Gcp.to_string(), "Google Cloud");
    }

    #[test]
    fn a_per_cloud_value_is_found_by_its_cloud() {
        let mut names = PerCloud::new(|cloud| cloud.key().len());
        names[Cloud::Gcp] = 0;
        assert_eq!(names[Cloud::Azure], 5);
        let listed: Vec<_> = names.iter().map(|(cloud, n)| (cloud, *n)).collect();
        assert_eq!(
            listed,
            [(Cloud::Aws, 3), (Cloud::Azure, 5), (Cloud::Gcp, 0)]
        );
    }
}
