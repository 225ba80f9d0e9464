//! Architecture invariants of the crate graph (ARCHITECTURE-GUIDE, R-IF-5), checked on the
//! resolved dependency graph of `cargo metadata`:
//!
//! * the leaves `arca-auth`, `arca-oci`, `arca-helm` depend on no workspace crate and on no
//!   async runtime, web framework, database or HTTP crate, even transitively;
//! * `arca-core` does no I/O of its own: no tokio, actix, sqlx, reqwest or hyper, and of the
//!   workspace only the leaves;
//! * `arca-cli` does not reach into storage or the web framework; `arca-server` does not
//!   depend on the CLI.
//!
//! Only normal dependencies count: dev-dependencies (tests may use tokio) and
//! build-dependencies are excluded, using `dep_kinds` of the `resolve` graph. The graph is the
//! one cargo resolves for the whole workspace, so a feature that one crate enables on a shared
//! dependency counts for every crate using that dependency — the graph that is actually built.
//!
//! The `checks_*` tests at the end run the same rules on the real metadata with an edge
//! injected (for example `arca-auth -> tokio`) to show that each rule can fail.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use arca_tests::bins::{cargo, workspace_root};
use arca_tests::process::run_bounded;
use serde_json::{json, Value};

/// Crates that do I/O or run an async runtime; `*` at the end matches a name prefix.
const IO_CRATES: &[&str] = &[
    "tokio", "actix", "actix-*", "sqlx", "sqlx-*", "reqwest", "hyper", "hyper-*",
];
/// The pure leaves of the crate graph.
const LEAVES: &[&str] = &["arca-auth", "arca-oci", "arca-helm"];

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

/// The resolved graph: package names and normal (non-dev, non-build) dependency edges.
struct Graph {
    /// Package id → package name.
    names: BTreeMap<String, String>,
    /// Package id → ids of its normal dependencies.
    normal: BTreeMap<String, Vec<String>>,
    /// Ids of the workspace members.
    members: BTreeSet<String>,
}

impl Graph {
    fn from_metadata(meta: &Value) -> Result<Graph> {
        let mut names = BTreeMap::new();
        for pkg in meta["packages"].as_array().context("no packages")? {
            let id = pkg["id"].as_str().context("package id")?;
            let name = pkg["name"].as_str().context("package name")?;
            names.insert(id.to_string(), name.to_string());
        }
        let members = meta["workspace_members"]
            .as_array()
            .context("no workspace_members")?
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        let mut normal = BTreeMap::new();
        for node in meta["resolve"]["nodes"]
            .as_array()
            .context("no resolve graph (was --no-deps used?)")?
        {
            let id = node["id"].as_str().context("node id")?.to_string();
            let mut deps = Vec::new();
            for dep in node["deps"].as_array().context("node deps")? {
                let kinds = dep["dep_kinds"].as_array().context("dep_kinds")?;
                // `kind` is null for a normal dependency, "dev" or "build" otherwise.
                if kinds.iter().any(|k| k["kind"].is_null()) {
                    deps.push(dep["pkg"].as_str().context("dep pkg")?.to_string());
                }
            }
            normal.insert(id, deps);
        }
        Ok(Graph {
            names,
            normal,
            members,
        })
    }

    fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.names.get(id).map_or(id, String::as_str)
    }

    /// The id of workspace member `name`.
    fn member(&self, name: &str) -> Result<&str> {
        self.members
            .iter()
            .find(|id| self.name(id) == name)
            .map(String::as_str)
            .with_context(|| format!("{name} is not a workspace member"))
    }

    /// Every package `root` reaches through normal dependencies, with the shortest chain of
    /// names leading to it (`root -> a -> b`).
    fn reachable(&self, root: &str) -> BTreeMap<String, String> {
        let mut chains: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = VecDeque::from([(root.to_string(), self.name(root).to_string())]);
        while let Some((id, chain)) = queue.pop_front() {
            for dep in self.normal.get(&id).into_iter().flatten() {
                if dep == root || chains.contains_key(dep) {
                    continue;
                }
                let dep_chain = format!("{chain} -> {}", self.name(dep));
                chains.insert(dep.clone(), dep_chain.clone());
                queue.push_back((dep.clone(), dep_chain));
            }
        }
        chains
    }

    /// The names of every package `root` reaches through normal dependencies.
    fn reachable_names(&self, root: &str) -> BTreeSet<String> {
        self.reachable(root)
            .keys()
            .map(|id| self.name(id).to_string())
            .collect()
    }

    /// The chains from crate `name` to every package `forbidden` says it must not reach.
    fn violations(
        &self,
        name: &str,
        forbidden: impl Fn(&Graph, &str) -> bool,
    ) -> Result<Vec<String>> {
        let root = self.member(name)?;
        Ok(self
            .reachable(root)
            .into_iter()
            .filter(|(id, _)| forbidden(self, id))
            .map(|(_, chain)| chain)
            .collect())
    }
}

/// Every rule of this file, as "crate: chain" lines; empty when the graph is as it should be.
fn check(graph: &Graph) -> Result<Vec<String>> {
    let io = |g: &Graph, id: &str| IO_CRATES.iter().any(|p| matches(p, g.name(id)));
    let member = |g: &Graph, id: &str| g.members.contains(id);
    let mut problems = Vec::new();
    let mut report = |rule: &str, chains: Vec<String>| {
        problems.extend(chains.into_iter().map(|c| format!("{rule}: {c}")));
    };

    for leaf in LEAVES {
        report(
            "a leaf depends on a workspace crate",
            graph.violations(leaf, member)?,
        );
        report(
            "a leaf depends on an I/O crate",
            graph.violations(leaf, io)?,
        );
    }

    report(
        "arca-core depends on an I/O crate",
        graph.violations("arca-core", io)?,
    );
    report(
        "arca-core depends on a workspace crate other than the leaves",
        graph.violations("arca-core", |g, id| {
            member(g, id) && !LEAVES.contains(&g.name(id))
        })?,
    );

    report(
        "arca-cli depends on storage or the web framework",
        graph.violations("arca-cli", |g, id| {
            matches!(g.name(id), "arca-storage" | "actix-web")
        })?,
    );
    report(
        "arca-server depends on the CLI",
        graph.violations("arca-server", |g, id| g.name(id) == "arca-cli")?,
    );
    Ok(problems)
}

fn metadata() -> Result<Value> {
    let mut cmd = Command::new(cargo());
    cmd.args(["metadata", "--format-version", "1"])
        .current_dir(workspace_root())
        .env("CARGO_TERM_COLOR", "never");
    let out = run_bounded(&mut cmd, Duration::from_secs(300))?;
    if !out.success() {
        bail!("cargo metadata failed\n{}", out.describe());
    }
    serde_json::from_slice(&out.stdout).context("parse cargo metadata")
}

fn graph() -> Result<(Value, Graph)> {
    let meta = metadata()?;
    let graph = Graph::from_metadata(&meta)?;
    Ok((meta, graph))
}

#[test]
fn crate_graph_keeps_its_invariants() -> Result<()> {
    let (_, graph) = graph()?;
    let problems = check(&graph)?;
    assert!(
        problems.is_empty(),
        "architecture invariants broken:\n  {}",
        problems.join("\n  ")
    );
    Ok(())
}

/// The rules are only worth something if the graph is read right: the server, which must
/// reach tokio, actix-web and every library crate, does so in the graph as read.
#[test]
fn graph_is_read_correctly() -> Result<()> {
    let (_, graph) = graph()?;
    for name in [
        "arca-core",
        "arca-auth",
        "arca-oci",
        "arca-helm",
        "arca-storage",
        "arca-client",
        "arca-server",
        "arca-cli",
    ] {
        graph.member(name)?;
    }
    let server = graph.member("arca-server")?;
    let reached = graph.reachable_names(server);
    for expected in [
        "tokio",
        "actix-web",
        "arca-core",
        "arca-auth",
        "arca-oci",
        "arca-helm",
        "arca-storage",
    ] {
        assert!(
            reached.contains(expected),
            "arca-server does not reach {expected}: the graph walk is broken"
        );
    }
    let cli = graph.member("arca-cli")?;
    let reached = graph.reachable_names(cli);
    assert!(reached.contains("arca-client") && reached.contains("reqwest"));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The rules can fail: inject edges into the real metadata and expect a report.
// ---------------------------------------------------------------------------------------------

/// The id of the package named `name` in `meta`.
fn id_of(meta: &Value, name: &str) -> String {
    meta["packages"]
        .as_array()
        .and_then(|pkgs| pkgs.iter().find(|p| p["name"] == name))
        .and_then(|p| p["id"].as_str())
        .unwrap_or_else(|| panic!("no package {name} in the metadata"))
        .to_string()
}

/// `meta` with an extra edge `from -> to` of dependency kind `kind` (`None` = normal).
fn with_edge(meta: &Value, from: &str, to: &str, kind: Option<&str>) -> Value {
    let mut meta = meta.clone();
    let (from_id, to_id) = (id_of(&meta, from), id_of(&meta, to));
    let nodes = meta["resolve"]["nodes"].as_array_mut().expect("nodes");
    let node = nodes
        .iter_mut()
        .find(|n| n["id"] == from_id.as_str())
        .expect("node");
    node["deps"].as_array_mut().expect("deps").push(json!({
        "name": to.replace('-', "_"),
        "pkg": to_id,
        "dep_kinds": [{"kind": kind, "target": null}],
    }));
    meta
}

fn problems_with(meta: &Value) -> Vec<String> {
    check(&Graph::from_metadata(meta).expect("graph")).expect("check")
}

#[test]
fn checks_catch_a_leaf_depending_on_tokio() -> Result<()> {
    let (meta, _) = graph()?;
    for leaf in LEAVES {
        let problems = problems_with(&with_edge(&meta, leaf, "tokio", None));
        assert!(
            problems
                .iter()
                .any(|p| p.ends_with(&format!("{leaf} -> tokio"))),
            "{leaf} -> tokio not reported: {problems:?}"
        );
    }
    Ok(())
}

#[test]
fn checks_catch_transitive_and_workspace_dependencies() -> Result<()> {
    let (meta, _) = graph()?;
    // A leaf reaching hyper through a crate it already uses.
    let serde_to_hyper = with_edge(&meta, "serde", "hyper", None);
    let problems = problems_with(&serde_to_hyper);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("arca-auth -> serde -> hyper")),
        "transitive hyper not reported: {problems:?}"
    );
    // A leaf depending on core; core on storage; the CLI on storage; the server on the CLI.
    for (from, to) in [
        ("arca-oci", "arca-core"),
        ("arca-core", "arca-storage"),
        ("arca-core", "sqlx"),
        ("arca-core", "reqwest"),
        ("arca-cli", "arca-storage"),
        ("arca-cli", "actix-web"),
        ("arca-server", "arca-cli"),
    ] {
        let problems = problems_with(&with_edge(&meta, from, to, None));
        assert!(
            problems
                .iter()
                .any(|p| p.contains(&format!("{from} -> {to}"))),
            "{from} -> {to} not reported: {problems:?}"
        );
    }
    Ok(())
}

#[test]
fn checks_ignore_dev_and_build_dependencies() -> Result<()> {
    let (meta, _) = graph()?;
    let before = problems_with(&meta);
    let mut injected = with_edge(&meta, "arca-auth", "tokio", Some("dev"));
    injected = with_edge(&injected, "arca-core", "sqlx", Some("build"));
    let after = problems_with(&injected);
    assert_eq!(before, after, "dev/build edges were counted");
    // The same edges as normal dependencies are reported.
    let normal = with_edge(&meta, "arca-auth", "tokio", None);
    assert_ne!(before, problems_with(&normal));
    Ok(())
}
