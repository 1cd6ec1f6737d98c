//! Two releases started at once in one project: one wins, the other is refused, and there is
//! never a second migration with the same number.

mod migrate_support;

use std::sync::{Arc, Barrier};

use migrate_support::{Project, Specs};
use syncwright_codegen::Error;

const TASK_V1: &str = "[entity]\nname = \"task\"\n\n[fields]\ntitle = { type = \"text\" }\n";
const TASK_V2: &str = "[entity]\nname = \"task\"\n\n[fields]\ntitle = { type = \"text\" }\ndone  = { type = \"bool\", default = false }\n";

fn specs(task: &str) -> Specs {
    Specs::from([("task.toml", task.to_string())])
}

fn migration_files(project: &Project) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(project.path("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

#[test]
fn concurrent_migrate_new_releases_the_version_once() {
    for _ in 0..20 {
        let project = Project::new();
        project.release(1, &specs(TASK_V1), "init");
        project.write_specs(2, &specs(TASK_V2));
        let config = project.config();
        let start = Arc::new(Barrier::new(2));
        let runs: Vec<_> = ["alpha", "beta"]
            .into_iter()
            .map(|name| {
                let (config, start) = (config.clone(), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    // Errors hold spans that stay on their thread: send what the test needs.
                    syncwright_codegen::migrate_new(config, name)
                        .map(drop)
                        .map_err(|e| (matches!(e, Error::ProjectBusy { .. }), e.to_string()))
                })
            })
            .collect();
        let results: Vec<_> = runs.into_iter().map(|r| r.join().unwrap()).collect();
        let released = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(released, 1, "exactly one of two concurrent releases wins");
        let (busy, report) = results.into_iter().find_map(Result::err).unwrap();
        assert!(
            busy || report.contains("version 2 is already released"),
            "the loser is refused clearly: {report}"
        );
        let files = migration_files(&project);
        assert_eq!(files.len(), 3, "0001, one 0002 and schema.sql: {files:?}");
        assert!(!project.path(".syncwright-in-progress").exists());
        syncwright_codegen::check(project.config()).unwrap();
    }
}

#[test]
fn a_release_while_the_project_is_held_is_refused_and_writes_nothing() {
    let project = Project::new();
    project.release(1, &specs(TASK_V1), "init");
    project.write_specs(2, &specs(TASK_V2));
    let holder = "process 4242 running `syncwright migrate new` since 0";
    std::fs::write(project.path(".syncwright-in-progress"), holder).unwrap();
    let before = project.files();
    let error = syncwright_codegen::migrate_new(project.config(), "task_done").unwrap_err();
    let report = project.report(&error);
    assert!(report.contains(holder), "{report}");
    assert!(
        report.contains("delete `[project]/.syncwright-in-progress`"),
        "says how to clear a stale hold: {report}"
    );
    assert_eq!(project.files(), before, "nothing written, the hold is kept");
    let error = syncwright_codegen::generate(project.config()).unwrap_err();
    assert!(matches!(error, Error::ProjectBusy { .. }), "{error}");

    std::fs::remove_file(project.path(".syncwright-in-progress")).unwrap();
    syncwright_codegen::migrate_new(project.config(), "task_done").unwrap();
}
