//! ferry-domain is pure: nothing it depends on can do I/O, run async code,
//! use the network, draw random numbers or read the clock.
//!
//! `cargo metadata` gives every package's manifest and the resolved
//! dependency graph (`resolve.nodes`). That graph is *feature-unified* over
//! the whole workspace and over dev-dependencies: because ferry-domain's
//! tests use `uuid` with `v4`, it shows `uuid -> getrandom`, although
//! `cargo build -p ferry-domain` never builds getrandom. So the walk below
//! does not follow `resolve.nodes` blindly. Starting from ferry-domain with
//! all of its features, it follows normal dependencies only (no dev- and no
//! build-dependencies), replays cargo's feature resolution to know which
//! optional dependencies are really switched on, and uses `resolve.nodes`
//! to learn which package each dependency resolved to. Platform-specific
//! dependencies count whatever the platform.
//!
//! Two checks run on the crates reached:
//! - none is banned: an I/O, async, network, randomness or clock crate, or a
//!   banned feature of an otherwise fine crate (such as `chrono/clock`);
//! - every one is on [`REVIEWED`], the crates someone checked by hand. A new
//!   dependency fails the test until it is reviewed and added deliberately.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::process::Command;

use serde_json::{Value, json};

const DOMAIN: &str = "ferry-domain";

/// Crates ferry-domain must never reach, and why. A trailing `*` matches any
/// suffix.
const BANNED_CRATES: &[(&str, &str)] = &[
    ("tokio*", "async runtime and I/O"),
    ("async-*", "async runtime or async machinery"),
    ("futures*", "async machinery"),
    ("smol", "async runtime"),
    ("mio", "OS event loop"),
    ("polling", "OS event loop"),
    ("socket2", "sockets"),
    ("hyper*", "HTTP"),
    ("h2", "HTTP"),
    ("reqwest", "HTTP client"),
    ("tower*", "HTTP services"),
    ("axum*", "HTTP server"),
    ("poem*", "HTTP server"),
    ("rustls*", "TLS"),
    ("native-tls", "TLS"),
    ("openssl*", "TLS"),
    ("sqlx*", "database"),
    ("postgres*", "database"),
    ("object_store", "object storage"),
    ("lettre", "email"),
    ("getrandom", "OS randomness"),
    ("rand*", "randomness"),
    ("fastrand", "randomness"),
    ("ring", "cryptography with OS randomness"),
    ("libc", "system calls"),
    ("rustix", "system calls"),
    ("nix", "system calls"),
    ("windows*", "system calls"),
    ("winapi*", "system calls"),
    ("js-sys", "JavaScript host calls"),
    ("web-sys", "JavaScript host calls"),
    ("wasm-bindgen*", "JavaScript host calls"),
    ("num_threads", "reads the process state"),
    ("iana-time-zone", "reads the system time zone"),
    ("tempfile", "file system"),
];

/// Features that make an otherwise pure crate reach the clock or randomness:
/// `(crate, feature, why)`.
const BANNED_FEATURES: &[(&str, &str, &str)] = &[
    ("chrono", "clock", "reads the system clock and time zone"),
    ("chrono", "now", "reads the system clock"),
    ("time", "local-offset", "reads the system time zone"),
    ("uuid", "rng", "random ids (`v4`, `v7` and `fast-rng` enable it)"),
];

/// Crates reviewed for I/O, async, networking, randomness and clock access,
/// and found pure. Check with
/// `cargo tree -p ferry-domain -e normal --all-features --target all`.
const REVIEWED: &[&str] = &[
    "deranged",
    "num-conv",
    "powerfmt",
    "proc-macro2",
    "quote",
    "serde",
    "serde_core",
    "serde_derive",
    "syn",
    "thiserror",
    "thiserror-impl",
    "time",
    "time-core",
    "unicode-ident",
    "uuid",
];

// ---------------------------------------------------------------------------
// The tests.

#[test]
fn domain_depends_on_no_io_async_network_randomness_or_clock_crate() {
    let reached = normal_dependencies(&workspace_metadata(), DOMAIN).unwrap();
    let banned = banned(&reached);
    assert!(
        banned.is_empty(),
        "ferry-domain must stay pure (no I/O, async, network, randomness or clock), \
         but it reaches:\n  {}",
        banned
            .iter()
            .map(|(krate, why)| format!("{} ({why}), via {}", krate.label(), krate.via()))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[test]
fn domain_depends_only_on_reviewed_crates() {
    let reached = normal_dependencies(&workspace_metadata(), DOMAIN).unwrap();
    let unreviewed = unreviewed(&reached);
    assert!(
        unreviewed.is_empty(),
        "ferry-domain reaches crates nobody has reviewed yet:\n  {}\n\
         Review each for I/O, async, networking, randomness and clock access. If it is \
         pure, add it deliberately to REVIEWED in crates/domain/tests/purity.rs; if not, \
         ferry-domain must not depend on it.",
        unreviewed
            .iter()
            .map(|krate| format!("{}, via {}", krate.label(), krate.via()))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

/// A fake ferry-domain depends on tokio through an intermediate crate, and
/// on rand only as a dev-dependency.
const TOKIO_BEHIND_CLOCKWORK: &str = r#"{
  "packages": [
    { "id": "ferry-domain 0.0.0", "name": "ferry-domain", "version": "0.0.0", "features": {},
      "dependencies": [
        { "name": "clockwork", "kind": null },
        { "name": "rand", "kind": "dev" } ] },
    { "id": "clockwork 1.0.0", "name": "clockwork", "version": "1.0.0", "features": {},
      "dependencies": [ { "name": "tokio", "kind": null } ] },
    { "id": "tokio 1.2.3", "name": "tokio", "version": "1.2.3", "features": {},
      "dependencies": [] },
    { "id": "rand 0.9.0", "name": "rand", "version": "0.9.0", "features": {},
      "dependencies": [] }
  ],
  "resolve": { "nodes": [
    { "id": "ferry-domain 0.0.0", "deps": [
        { "name": "clockwork", "pkg": "clockwork 1.0.0",
          "dep_kinds": [ { "kind": null, "target": null } ] },
        { "name": "rand", "pkg": "rand 0.9.0",
          "dep_kinds": [ { "kind": "dev", "target": null } ] } ] },
    { "id": "clockwork 1.0.0", "deps": [
        { "name": "tokio", "pkg": "tokio 1.2.3",
          "dep_kinds": [ { "kind": null, "target": null } ] } ] },
    { "id": "tokio 1.2.3", "deps": [] },
    { "id": "rand 0.9.0", "deps": [] }
  ] }
}"#;

#[test]
fn walker_reports_tokio_reached_through_an_intermediate_crate() {
    let metadata: Value = serde_json::from_str(TOKIO_BEHIND_CLOCKWORK).unwrap();
    let reached = normal_dependencies(&metadata, DOMAIN).unwrap();

    let banned = banned(&reached);
    assert_eq!(banned.len(), 1, "expected only tokio to be banned: {banned:?}");
    let (tokio, why) = &banned[0];
    assert_eq!(tokio.label(), "tokio v1.2.3");
    assert_eq!(tokio.via(), "ferry-domain -> clockwork -> tokio");
    assert_eq!(*why, "async runtime and I/O");

    // Neither is reviewed, and the dev-only rand is not reached at all.
    let unreviewed: Vec<_> = unreviewed(&reached).iter().map(|k| k.label()).collect();
    assert_eq!(unreviewed, ["clockwork v1.0.0", "tokio v1.2.3"]);
}

/// Like ferry-domain itself: uuid with `std` for the crate, with `v4` for its
/// tests (which unifies `uuid -> getrandom` into the resolved graph), and a
/// build-dependency.
const UUID_V4_FOR_TESTS_ONLY: &str = r#"{
  "packages": [
    { "id": "ferry-domain 0.0.0", "name": "ferry-domain", "version": "0.0.0", "features": {},
      "dependencies": [
        { "name": "uuid", "kind": null, "optional": false,
          "uses_default_features": false, "features": ["std"] },
        { "name": "uuid", "kind": "dev", "optional": false,
          "uses_default_features": false, "features": ["std", "v4"] },
        { "name": "cc", "kind": "build" } ] },
    { "id": "uuid 1.0.0", "name": "uuid", "version": "1.0.0",
      "features": { "default": ["std"], "std": [], "rng": ["dep:getrandom"], "v4": ["rng"] },
      "dependencies": [ { "name": "getrandom", "kind": null, "optional": true } ] },
    { "id": "getrandom 0.3.0", "name": "getrandom", "version": "0.3.0", "features": {},
      "dependencies": [] },
    { "id": "cc 1.0.0", "name": "cc", "version": "1.0.0", "features": {},
      "dependencies": [] }
  ],
  "resolve": { "nodes": [
    { "id": "ferry-domain 0.0.0", "deps": [
        { "name": "uuid", "pkg": "uuid 1.0.0",
          "dep_kinds": [ { "kind": null, "target": null }, { "kind": "dev", "target": null } ] },
        { "name": "cc", "pkg": "cc 1.0.0",
          "dep_kinds": [ { "kind": "build", "target": null } ] } ] },
    { "id": "uuid 1.0.0", "deps": [
        { "name": "getrandom", "pkg": "getrandom 0.3.0",
          "dep_kinds": [ { "kind": null, "target": "cfg(unix)" } ] } ] },
    { "id": "getrandom 0.3.0", "deps": [] },
    { "id": "cc 1.0.0", "deps": [] }
  ] }
}"#;

#[test]
fn walker_ignores_dev_and_build_dependencies_and_the_features_only_they_enable() {
    let metadata: Value = serde_json::from_str(UUID_V4_FOR_TESTS_ONLY).unwrap();
    let reached = normal_dependencies(&metadata, DOMAIN).unwrap();

    let labels: Vec<_> = reached.iter().map(Crate::label).collect();
    assert_eq!(labels, ["uuid v1.0.0"]);
    assert_eq!(reached[0].features, BTreeSet::from(["std".to_owned()]));
    assert!(banned(&reached).is_empty());
}

#[test]
fn walker_follows_the_features_the_domain_itself_enables() {
    let mut metadata: Value = serde_json::from_str(UUID_V4_FOR_TESTS_ONLY).unwrap();
    metadata["packages"][0]["features"] = json!({ "random-ids": ["uuid/v4"] });
    let reached = normal_dependencies(&metadata, DOMAIN).unwrap();

    let banned: Vec<_> = banned(&reached).iter().map(|(krate, why)| format!("{}: {why}", krate.via())).collect();
    assert_eq!(
        banned,
        [
            "ferry-domain -> uuid -> getrandom: OS randomness",
            "ferry-domain -> uuid: random ids (`v4`, `v7` and `fast-rng` enable it)",
        ]
    );
}

// ---------------------------------------------------------------------------
// The checks.

/// The reached crates that are banned, with why.
fn banned(reached: &[Crate]) -> Vec<(&Crate, &'static str)> {
    let mut found = Vec::new();
    for krate in reached {
        for &(pattern, why) in BANNED_CRATES {
            if matches(pattern, &krate.name) {
                found.push((krate, why));
            }
        }
        for &(name, feature, why) in BANNED_FEATURES {
            if krate.name == name && krate.features.contains(feature) {
                found.push((krate, why));
            }
        }
    }
    found
}

/// The reached crates that are not on [`REVIEWED`].
fn unreviewed(reached: &[Crate]) -> Vec<&Crate> {
    reached.iter().filter(|krate| !REVIEWED.contains(&krate.name.as_str())).collect()
}

/// Whether a crate name matches a pattern, where a trailing `*` matches any suffix.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

// ---------------------------------------------------------------------------
// The walk.

/// `cargo metadata` for the workspace, with every feature of every member.
fn workspace_metadata() -> Value {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--all-features"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("could not run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata printed invalid JSON")
}

/// A crate reached from the root through normal dependencies.
#[derive(Debug)]
struct Crate {
    name: String,
    version: String,
    /// The features enabled on it by the root and the crates between.
    features: BTreeSet<String>,
    /// Crate names from the root to this crate, both included.
    path: Vec<String>,
}

impl Crate {
    fn label(&self) -> String {
        format!("{} v{}", self.name, self.version)
    }

    fn via(&self) -> String {
        self.path.join(" -> ")
    }
}

/// Every crate `root` depends on through normal dependencies, transitively,
/// with all of `root`'s features enabled; sorted by name and version.
fn normal_dependencies(metadata: &Value, root: &str) -> Result<Vec<Crate>, String> {
    let graph = Graph::parse(metadata)?;
    let mut roots = graph.packages.iter().filter(|(_, p)| p.name == root);
    let (root_id, root_package) = match (roots.next(), roots.next()) {
        (Some(found), None) => found,
        _ => return Err(format!("expected exactly one package named {root}")),
    };

    // Per package id: the features requested on it, and whence it was first reached.
    let mut requested: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut reached_from: BTreeMap<&str, &str> = BTreeMap::new();
    requested.insert(root_id, root_package.features.keys().cloned().collect());
    let mut queue = VecDeque::from([root_id.as_str()]);

    while let Some(id) = queue.pop_front() {
        let package = &graph.packages[id];
        let activated = Activated::resolve(package, &requested[id]);
        for dependency in &package.dependencies {
            if dependency.optional && !activated.dependencies.contains(&dependency.key) {
                continue;
            }
            let mut features: BTreeSet<String> = dependency.features.iter().cloned().collect();
            if dependency.default_features {
                features.insert("default".to_owned());
            }
            if let Some(more) = activated.dependency_features.get(&dependency.key) {
                features.extend(more.iter().cloned());
            }
            for child in graph.resolved(id, dependency)? {
                let known = requested.entry(child).or_default();
                let new = !reached_from.contains_key(child) && child != root_id.as_str();
                if new || !features.is_subset(known) {
                    known.extend(features.iter().cloned());
                    if new {
                        reached_from.insert(child, id);
                    }
                    queue.push_back(child);
                }
            }
        }
    }

    let mut crates: Vec<Crate> = reached_from
        .keys()
        .map(|&id| {
            let package = &graph.packages[id];
            let mut path = vec![package.name.clone()];
            let mut at = id;
            while let Some(&parent) = reached_from.get(at) {
                path.push(graph.packages[parent].name.clone());
                at = parent;
            }
            path.reverse();
            Crate {
                name: package.name.clone(),
                version: package.version.clone(),
                features: Activated::resolve(package, &requested[id]).features,
                path,
            }
        })
        .collect();
    crates.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    Ok(crates)
}

/// The parts of `cargo metadata` the walk needs.
#[derive(Debug)]
struct Graph {
    /// By package id.
    packages: BTreeMap<String, Package>,
    /// By package id: its resolved normal dependencies, as (extern crate name, package id).
    resolved: BTreeMap<String, Vec<(String, String)>>,
}

#[derive(Debug)]
struct Package {
    name: String,
    version: String,
    features: BTreeMap<String, Vec<String>>,
    /// Normal dependencies only, as declared in the manifest.
    dependencies: Vec<Dependency>,
}

#[derive(Debug)]
struct Dependency {
    /// The package name.
    name: String,
    /// The name in `[dependencies]` (the rename, if any), as features refer to it.
    key: String,
    optional: bool,
    default_features: bool,
    features: Vec<String>,
}

impl Graph {
    fn parse(metadata: &Value) -> Result<Self, String> {
        let mut packages = BTreeMap::new();
        for package in array(metadata, "packages")? {
            let features = match package.get("features") {
                Some(Value::Object(map)) => map
                    .iter()
                    .map(|(name, entries)| Ok((name.clone(), strings(entries)?)))
                    .collect::<Result<_, String>>()?,
                _ => BTreeMap::new(),
            };
            let mut dependencies = Vec::new();
            for dependency in array(package, "dependencies")? {
                if !dependency.get("kind").is_none_or(Value::is_null) {
                    continue; // dev- or build-dependency
                }
                let name = string(dependency, "name")?;
                dependencies.push(Dependency {
                    key: match dependency.get("rename") {
                        Some(Value::String(rename)) => rename.clone(),
                        _ => name.clone(),
                    },
                    name,
                    optional: flag(dependency, "optional", false),
                    default_features: flag(dependency, "uses_default_features", true),
                    features: dependency.get("features").map_or(Ok(Vec::new()), strings)?,
                });
            }
            packages.insert(
                string(package, "id")?,
                Package {
                    name: string(package, "name")?,
                    version: string(package, "version")?,
                    features,
                    dependencies,
                },
            );
        }

        let resolve = metadata
            .get("resolve")
            .filter(|r| !r.is_null())
            .ok_or("cargo metadata has no `resolve` (was it run with --no-deps?)")?;
        let mut resolved = BTreeMap::new();
        for node in array(resolve, "nodes")? {
            let mut edges = Vec::new();
            for dep in array(node, "deps")? {
                let normal = array(dep, "dep_kinds")?.iter().any(|kind| kind.get("kind").is_none_or(Value::is_null));
                if normal {
                    edges.push((string(dep, "name")?, string(dep, "pkg")?));
                }
            }
            resolved.insert(string(node, "id")?, edges);
        }
        Ok(Self { packages, resolved })
    }

    /// The package(s) a declared normal dependency of package `from` resolved to.
    fn resolved(&self, from: &str, dependency: &Dependency) -> Result<Vec<&str>, String> {
        let edges = self.resolved.get(from).ok_or_else(|| format!("{from} is not in resolve.nodes"))?;
        let mut found = Vec::new();
        for (extern_name, id) in edges {
            let package =
                self.packages.get(id).ok_or_else(|| format!("{id} is in resolve.nodes but not in packages"))?;
            let renamed = dependency.key != dependency.name;
            if package.name == dependency.name && (!renamed || *extern_name == dependency.key.replace('-', "_")) {
                found.push(id.as_str());
            }
        }
        if found.is_empty() {
            return Err(format!(
                "{from} enables its dependency `{}`, but resolve.nodes has no normal edge \
                 to it (was cargo metadata run with --all-features?)",
                dependency.key
            ));
        }
        Ok(found)
    }
}

/// What a package's enabled features switch on, replaying cargo's feature
/// syntax: `feature`, `dep:name`, `name/feature` and `name?/feature`.
#[derive(Debug)]
struct Activated {
    /// The package's own enabled features.
    features: BTreeSet<String>,
    /// Optional dependencies switched on, by dependency key.
    dependencies: BTreeSet<String>,
    /// Features to enable on dependencies, by dependency key. (`name?/feature`
    /// lands here without switching the dependency on.)
    dependency_features: BTreeMap<String, BTreeSet<String>>,
}

impl Activated {
    fn resolve(package: &Package, requested: &BTreeSet<String>) -> Self {
        let mut activated =
            Self { features: BTreeSet::new(), dependencies: BTreeSet::new(), dependency_features: BTreeMap::new() };
        let mut todo: Vec<&str> = requested.iter().map(String::as_str).collect();
        while let Some(entry) = todo.pop() {
            if let Some(dependency) = entry.strip_prefix("dep:") {
                activated.dependencies.insert(dependency.to_owned());
            } else if let Some((dependency, feature)) = entry.split_once('/') {
                let dependency = match dependency.strip_suffix('?') {
                    Some(weak) => weak,
                    None => {
                        activated.dependencies.insert(dependency.to_owned());
                        dependency
                    }
                };
                activated.dependency_features.entry(dependency.to_owned()).or_default().insert(feature.to_owned());
            } else if let Some(entries) = package.features.get(entry) {
                if activated.features.insert(entry.to_owned()) {
                    todo.extend(entries.iter().map(String::as_str));
                }
            } else if package.dependencies.iter().any(|d| d.optional && d.key == entry) {
                // The implicit feature of an optional dependency.
                activated.dependencies.insert(entry.to_owned());
            }
        }
        activated
    }
}

fn array<'a>(value: &'a Value, key: &str) -> Result<&'a Vec<Value>, String> {
    value.get(key).and_then(Value::as_array).ok_or_else(|| format!("expected an array `{key}` in {value}"))
}

fn string(value: &Value, key: &str) -> Result<String, String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("expected a string `{key}` in {value}"))
}

fn strings(value: &Value) -> Result<Vec<String>, String> {
    value
        .as_array()
        .and_then(|items| items.iter().map(|i| i.as_str().map(str::to_owned)).collect())
        .ok_or_else(|| format!("expected an array of strings, got {value}"))
}

fn flag(value: &Value, key: &str, default: bool) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(default)
}
