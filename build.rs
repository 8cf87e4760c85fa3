// The migrations are embedded by `sqlx::migrate!`, which cannot tell cargo that a new file in
// the folder should rebuild the crate; this does (as `sqlx migrate build-script` writes).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
