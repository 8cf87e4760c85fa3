//! The crate's top-level modules form layers: no chain of `crate::` paths leads from a module
//! back to itself (config → dialer → store → backup → config was one such loop). Test modules
//! may reach anywhere, so they are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its non-test code names through `crate::`.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
            let module = first.trim_end_matches(".rs").to_string();
            if module == "lib" || module == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
            let named = edges.entry(module.clone()).or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (at, _) in line.match_indices("crate::") {
                    let rest = &line[at + "crate::".len()..];
                    let mut names: Vec<&str> = Vec::new();
                    if let Some(group) = rest.strip_prefix('{') {
                        let group = group.split('}').next().unwrap_or("");
                        names.extend(group.split(',').map(|n| n.trim().split("::").next().unwrap_or("")));
                    } else {
                        names.push(rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap());
                    }
                    for name in names.into_iter().filter(|n| !n.is_empty() && *n != module) {
                        named.insert(name.to_string());
                    }
                }
            }
        }
    }
    edges
}

/// A path of modules from `from` back to itself, if any.
fn loop_from(from: &str, edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut paths = vec![vec![from.to_string()]];
    while let Some(path) = paths.pop() {
        let last = path.last().unwrap();
        for next in edges.get(last).into_iter().flatten() {
            if next == from {
                let mut found = path.clone();
                found.push(next.clone());
                return Some(found);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                paths.push(longer);
            }
        }
    }
    None
}

#[test]
fn no_module_reaches_back_to_itself() {
    let edges = edges();
    assert!(
        edges.contains_key("store") && edges["tui"].contains("store"),
        "the scan reads the crate: {edges:?}"
    );
    let loops: Vec<String> = edges
        .keys()
        .filter_map(|m| loop_from(m, &edges))
        .map(|p| p.join(" → "))
        .collect();
    assert!(loops.is_empty(), "modules in a loop:\n{}", loops.join("\n"));
}
