//! A throwaway project for migration tests: specs written per version, released with
//! `migrate new`, and reports with the temporary directory replaced by `[project]`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use syncwright_codegen::{Error, GenerateReport};

pub struct Project {
    pub dir: tempfile::TempDir,
}

/// Entity spec files by name (`task.toml`) → content.
pub type Specs = BTreeMap<&'static str, String>;

impl Project {
    pub fn new() -> Self {
        Project {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn config(&self) -> PathBuf {
        self.path("syncwright.toml")
    }

    /// Writes `syncwright.toml` at `version` and exactly `specs` under `schema/`.
    pub fn write_specs(&self, version: u32, specs: &Specs) {
        let schema = self.path("schema");
        std::fs::create_dir_all(&schema).unwrap();
        for entry in std::fs::read_dir(&schema).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                std::fs::remove_file(path).unwrap();
            }
        }
        for (name, text) in specs {
            std::fs::write(schema.join(name), text).unwrap();
        }
        self.set_version(version);
    }

    pub fn set_version(&self, version: u32) {
        std::fs::write(
            self.config(),
            format!("[schema]\nversion = {version}\nentities = [\"schema/*.toml\"]\n"),
        )
        .unwrap();
    }

    /// Releases `specs` as `version` named `name`, which must succeed.
    pub fn release(&self, version: u32, specs: &Specs, name: &str) -> GenerateReport {
        self.write_specs(version, specs);
        syncwright_codegen::migrate_new(self.config(), name)
            .unwrap_or_else(|e| panic!("releasing v{version}: {}", self.report(&e)))
    }

    /// The plain-text report of an error, with the project directory shown as `[project]`.
    pub fn report(&self, error: &Error) -> String {
        let text = match error {
            Error::Invalid(invalid) => invalid.report(false),
            other => other.to_string(),
        };
        let dir = self.dir.path().to_string_lossy().replace('\\', "/");
        text.replace(&dir, "[project]")
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap()
    }

    /// Every file under the project, relative path → content.
    pub fn files(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        collect(self.dir.path(), self.dir.path(), &mut out);
        out
    }
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(relative, std::fs::read_to_string(&path).unwrap());
        }
    }
}
