//! Rebuilds the server when a migration is added: `sqlx::migrate!` embeds the migration
//! folders at compile time, and cargo does not watch them by itself.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations-postgres");
}
