//! The ids the store gives stacks and deployments, as types: both are UUID strings, and a
//! stack's id passed where a deployment's is expected would compile if they were `&str`.

use std::fmt;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Debug, PartialEq, Eq, Hash, sqlx::Type, serde::Serialize, serde::Deserialize,
        )]
        #[sqlx(transparent)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id, for the store to give a new row.
            pub(crate) fn random() -> Self {
                Self(uuid::Uuid::new_v4().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        /// An id as written in a request (a path, a queue entry); whether it names anything is
        /// the store's to say.
        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        /// The id as the API's types carry it.
        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id!(
    /// A stack's stable id (it outlives renames of nothing; Pulumi's `stackId` claim).
    StackId
);
id!(
    /// A deployment's id, as in `…/deployments/{id}`.
    DeploymentId
);
