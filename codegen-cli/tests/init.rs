//! `syncwright init`: a new crate scaffolded by it, then released, generated, checked and built
//! exactly as the printed next steps say.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn syncwright(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_syncwright"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "syncwright {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A fresh binary crate depending on the workspace's crates by path, as `cargo new` plus the
/// dependency lines `init` prints would make it.
fn new_crate(dir: &Path) {
    let ws = workspace();
    let manifest = format!(
        "[package]\nname = \"first-app\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [dependencies]\nsyncwright = {{ path = {:?} }}\n\n\
         [build-dependencies]\nsyncwright-codegen = {{ path = {:?}, default-features = false, features = [\"generate\"] }}\n\n\
         [workspace]\n",
        ws.join("runtime"),
        ws.join("codegen-cli"),
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The workspace's versions of every dependency: an offline build reuses its artifacts.
    std::fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
}

/// The `src/main.rs` lines the printed next steps give.
fn main_rs_from(stdout: &str) -> String {
    let start =
        stdout.find("2. in src/main.rs:").expect("a main.rs step") + "2. in src/main.rs:".len();
    let end = stdout.find("3. cargo run").expect("a run step");
    stdout[start..end].trim().to_owned()
}

#[test]
fn init_then_release_generate_check_and_build_the_scaffolded_crate() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path();
    new_crate(app);
    let init = syncwright(app, &["init", "--rust"]);
    let stdout = String::from_utf8(init.stdout).unwrap();
    assert!(stdout.contains("created ./syncwright.toml"), "{stdout}");
    assert!(
        stdout.contains(r#"default-features = false, features = ["generate"]"#),
        "{stdout}"
    );
    assert!(stdout.contains("syncwright migrate new init"), "{stdout}");

    syncwright(app, &["migrate", "new", "init"]);
    syncwright(app, &["generate"]);
    let check = syncwright(app, &["check"]);
    assert!(String::from_utf8_lossy(&check.stdout).contains("ok: version 1 is released"));

    // main.rs as printed, plus a typed query and a write, run once.
    let main_rs = main_rs_from(&stdout).replace(
        "    println!",
        "    let item = db.insert(&model::Item { title: \"first\".into(), done: false })?;\n    \
         db.modify::<model::Item>(item.id, |i| i.done = true)?;\n    \
         assert_eq!(db.query::<model::Item>().filter_by(model::Item::DONE.eq(true)).count()?, 1);\n    \
         println!",
    );
    std::fs::write(app.join("src/main.rs"), main_rs).unwrap();
    let run = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--offline"])
        .current_dir(app)
        .env("CARGO_TARGET_DIR", workspace().join("target"))
        // The workspace's dev profile, so the shared target directory is reused.
        .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "the scaffolded crate failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("schema version 1"));
}

#[test]
fn init_writes_a_toml_project_whose_first_release_works() {
    let dir = tempfile::tempdir().unwrap();
    let init = syncwright(dir.path(), &["init"]);
    let stdout = String::from_utf8(init.stdout).unwrap();
    assert!(stdout.contains("created ./schema/item.toml"), "{stdout}");
    assert!(stdout.contains("syncwright_entities.rs"), "{stdout}");
    syncwright(dir.path(), &["migrate", "new", "init"]);
    syncwright(dir.path(), &["check"]);
    let sql = std::fs::read_to_string(dir.path().join("migrations/0001_init.sql")).unwrap();
    assert!(
        sql.contains("CREATE TABLE IF NOT EXISTS \"items\""),
        "{sql}"
    );
}

#[test]
fn init_refuses_an_existing_project_and_keeps_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("build.rs"), "fn main() {}\n").unwrap();
    let init = syncwright(dir.path(), &["init"]);
    let stdout = String::from_utf8(init.stdout).unwrap();
    assert!(stdout.contains("kept ./build.rs"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("build.rs")).unwrap(),
        "fn main() {}\n"
    );

    let again = Command::new(env!("CARGO_BIN_EXE_syncwright"))
        .arg("init")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8(again.stderr).unwrap();
    assert!(
        stderr.contains("syncwright.toml` already exists"),
        "{stderr}"
    );
}
