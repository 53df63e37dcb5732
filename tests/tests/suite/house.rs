//! The house rules of the code base's shape, checked on every run: no source file under `app/` over 600
//! lines, no function over 80 lines outside tests, no import cycle between the top-level modules of any crate,
//! the crate dependency rules `docs/architecture.md` lists under "Crates and their rules" (the programs depend
//! on no off-chain crate, the keeper never links the embedded chain, the shared client links no chain, server
//! or bot), and the documentation's shape: a README a newcomer reads in one sitting, and no relative link in
//! it or in `docs/` that leads nowhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 600;
const MAX_FN_LINES: usize = 80;
const MAX_README_LINES: usize = 250;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// Every file under `dir` with one of `exts`, skipping build outputs and installed packages.
fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if p.is_dir() {
            if !matches!(name.as_str(), "target" | "node_modules" | "dist" | ".git") {
                out.extend(files(&p, exts));
            }
        } else if exts.iter().any(|x| name.ends_with(x)) {
            out.push(p);
        }
    }
    out
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// `(name, first line, length in lines)` of every `fn` with a body before the file's first `#[cfg(test)]`.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines.iter().position(|l| l.trim_start().starts_with("#[cfg(test)]")).unwrap_or(lines.len());
    let mut out = Vec::new();
    let mut i = 0;
    while i < end {
        let Some(name) = fn_name(lines[i]) else {
            i += 1;
            continue;
        };
        let (mut depth, mut opened, mut j) = (0i64, false, i);
        while j < end {
            for ch in lines[j].chars() {
                match ch {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if (opened && depth == 0) || (!opened && lines[j].trim_end().ends_with(';')) {
                break;
            }
            j += 1;
        }
        if opened {
            out.push((name, i + 1, j - i + 1));
        }
        i = j + 1;
    }
    out
}

/// The function a line declares, if it starts one (`pub`, `async`, `const`, `unsafe` allowed before `fn`).
fn fn_name(line: &str) -> Option<String> {
    let mut rest = line.trim_start();
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async ", "unsafe "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    for prefix in ["async ", "unsafe "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let name: String = rest.strip_prefix("fn ")?.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// The top-level module of a source file of a crate (`None` for the crate root).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy().to_string();
    let stem = first.trim_end_matches(".rs").to_string();
    (!matches!(stem.as_str(), "lib" | "main")).then_some(stem)
}

/// The top-level modules each top-level module of the crate at `src` names through `crate::`.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let sources = files(src, &[".rs"]);
    let tops: BTreeSet<String> = sources.iter().filter_map(|f| top_module(src, f)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &sources {
        let Some(from) = top_module(src, f) else { continue };
        let text = read(f);
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let names: Vec<String> = match rest.strip_prefix('{') {
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or("").to_string())
                    .collect(),
                None => vec![rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()],
            };
            for n in names {
                if tops.contains(&n) && n != from {
                    graph.entry(from.clone()).or_default().insert(n);
                }
            }
        }
    }
    graph
}

/// A cycle of `graph`, if it has one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut c = path[at..].to_vec();
            c.push(node.to_string());
            return Some(c);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in g.get(node).into_iter().flatten() {
            if let Some(c) = visit(g, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|k| visit(graph, k, &mut Vec::new(), &mut done))
}

/// Every workspace crate: its name, its directory, and the workspace crates it depends on (any kind).
fn crates() -> Vec<(String, PathBuf, BTreeSet<String>)> {
    let root = workspace();
    let manifest = read(&root.join("Cargo.toml"));
    let members: Vec<String> = manifest
        .split("members = [")
        .nth(1)
        .and_then(|m| m.split(']').next())
        .expect("workspace members")
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| !m.is_empty())
        .collect();
    members
        .iter()
        .map(|m| {
            let dir = root.join(m);
            let text = read(&dir.join("Cargo.toml"));
            let name = text
                .lines()
                .find_map(|l| l.strip_prefix("name = "))
                .map(|n| n.trim_matches('"').to_string())
                .expect("package name");
            let deps = text
                .lines()
                .filter(|l| l.contains("path = "))
                .filter_map(|l| l.split_whitespace().next())
                .filter(|d| d.starts_with("ballast"))
                .map(str::to_string)
                .collect();
            (name, dir, deps)
        })
        .collect()
}

#[test]
fn no_source_file_under_app_is_over_600_lines() {
    let long: Vec<String> = files(&workspace().join("app"), &[".rs", ".ts", ".js", ".mjs", ".html", ".css"])
        .iter()
        .map(|f| (f, read(f).lines().count()))
        .filter(|(_, n)| *n > MAX_FILE_LINES)
        .map(|(f, n)| format!("{} ({n} lines)", f.display()))
        .collect();
    assert!(long.is_empty(), "split these files: {long:#?}");
}

#[test]
fn no_function_is_over_80_lines_outside_tests() {
    let root = workspace();
    let mut long = Vec::new();
    for dir in ["app", "programs", "tests/src"] {
        for f in files(&root.join(dir), &[".rs"]) {
            for (name, line, len) in functions(&read(&f)) {
                if len > MAX_FN_LINES {
                    long.push(format!("{}:{line} {name} ({len} lines)", f.display()));
                }
            }
        }
    }
    assert!(long.is_empty(), "split these functions: {long:#?}");
}

#[test]
fn the_function_scanner_measures_bodies() {
    let text = "pub async fn a() {\n    let x = { 1 };\n}\nfn b();\nfn c() -> u8 { 0 }\n#[cfg(test)]\nfn d() {\n}\n";
    let found = functions(text);
    assert_eq!(found, vec![("a".to_string(), 1, 3), ("c".to_string(), 5, 1)]);
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let mut cycles = Vec::new();
    for (name, dir, _) in crates() {
        if let Some(c) = cycle(&module_graph(&dir.join("src"))) {
            cycles.push(format!("{name}: {}", c.join(" → ")));
        }
    }
    assert!(cycles.is_empty(), "module import cycles: {cycles:#?}");
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let g = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    };
    assert_eq!(cycle(&g(&[("a", "b"), ("b", "c")])), None);
    assert_eq!(
        cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn crates_depend_only_as_the_readme_says() {
    let crates = crates();
    let graph: BTreeMap<String, BTreeSet<String>> = crates.iter().map(|(n, _, d)| (n.clone(), d.clone())).collect();
    assert_eq!(cycle(&graph), None, "crate dependency cycle");
    // What each crate may never depend on (directly or not).
    let rules: [(&str, &[&str]); 7] = [
        ("ballast-math", &["ballast", "ballast-amm", "ballast-client", "ballast-harness"]),
        ("ballast", &["ballast-client", "ballast-harness", "ballast-keeper", "ballast-localnet"]),
        ("ballast-client", &["ballast-harness", "ballast-localnet", "ballast-keeper", "ballast-sim", "ballast-bench"]),
        ("ballast-keeper", &["ballast-harness", "ballast-localnet", "ballast-sim", "ballast-bench"]),
        ("ballast-harness", &["ballast-localnet", "ballast-keeper", "ballast-sim", "ballast-bench"]),
        ("ballast-localnet", &["ballast-keeper", "ballast-sim", "ballast-bench"]),
        ("ballast-sim", &["ballast-localnet", "ballast-keeper", "ballast-bench"]),
    ];
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(c) = todo.pop() {
            for d in graph.get(&c).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    };
    for (krate, never) in rules {
        assert!(graph.contains_key(krate), "{krate} is a workspace crate");
        let reached = reach(krate);
        for n in never {
            assert!(!reached.contains(*n), "{krate} must not depend on {n}");
        }
    }
}

/// The anchor GitHub gives a heading: lowercase, inline link targets dropped, every character that is not a
/// letter, a digit, `_`, `-` or a space removed, and each space turned into `-`.
fn slug(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    while let Some(at) = rest.find("](") {
        text.push_str(&rest[..at]);
        rest = rest[at + 2..].split_once(')').map_or("", |(_, after)| after);
    }
    text.push_str(rest);
    text.to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c),
            _ => None,
        })
        .collect()
}

/// The Markdown of `text` outside fenced code blocks, one paragraph at a time, with inline code removed
/// (a code span may wrap onto the next line of its paragraph, so spans are matched per paragraph).
fn prose(text: &str) -> Vec<String> {
    let mut paragraphs = vec![String::new()];
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            paragraphs.push(String::new());
        } else if !fenced && line.trim().is_empty() {
            paragraphs.push(String::new());
        } else if !fenced {
            let p = paragraphs.last_mut().expect("a paragraph");
            p.push_str(line);
            p.push('\n');
        }
    }
    paragraphs
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.split('`').step_by(2).collect::<Vec<_>>().join(""))
        .collect()
}

/// The anchors of a Markdown file's headings (a repeated heading gets `-1`, `-2`… as on GitHub).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let Some(heading) = line.strip_prefix('#').filter(|_| !fenced) else { continue };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading.trim());
        let n = seen.entry(base.clone()).or_insert(0);
        out.insert(if *n == 0 { base.clone() } else { format!("{base}-{n}") });
        *n += 1;
    }
    out
}

/// Every `[text](target)` link of `text` that stays inside the repository (not http(s) or mail), as written.
fn relative_links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in prose(text) {
        for (at, _) in p.match_indices("](") {
            let target: String = p[at + 2..].chars().take_while(|c| *c != ')' && !c.is_whitespace()).collect();
            let web = ["http://", "https://", "mailto:"].iter().any(|s| target.starts_with(s));
            if !target.is_empty() && !web {
                out.push(target);
            }
        }
    }
    out
}

/// The relative links of `text` (the contents of `file`) whose file or directory does not exist, or whose
/// `#anchor` names no heading of the Markdown file it points into.
fn dead_links(file: &Path, text: &str) -> Vec<String> {
    let dir = file.parent().expect("a file's directory");
    let mut dead = Vec::new();
    for link in relative_links(text) {
        let (path, anchor) = match link.split_once('#') {
            Some((path, anchor)) => (path, Some(anchor)),
            None => (link.as_str(), None),
        };
        let target = if path.is_empty() { file.to_path_buf() } else { dir.join(path) };
        if !target.exists() {
            dead.push(format!("{}: {link} (no such file)", file.display()));
            continue;
        }
        let Some(anchor) = anchor.filter(|_| target.extension().is_some_and(|e| e == "md")) else { continue };
        let headings = if path.is_empty() { anchors(text) } else { anchors(&read(&target)) };
        if !headings.contains(anchor) {
            dead.push(format!("{}: {link} (no such heading)", file.display()));
        }
    }
    dead
}

#[test]
fn readme_is_short_and_no_doc_link_is_dead() {
    let root = workspace();
    let readme = root.join("README.md");
    let lines = read(&readme).lines().count();
    assert!(lines <= MAX_README_LINES, "README.md has {lines} lines: move detail into a docs/ chapter");
    let mut docs = files(&root.join("docs"), &[".md"]);
    assert!(docs.iter().any(|d| d.ends_with("docs/README.md")), "docs/README.md lists the chapters");
    docs.push(readme);
    let dead: Vec<String> = docs.iter().flat_map(|d| dead_links(d, &read(d))).collect();
    assert!(dead.is_empty(), "dead links: {dead:#?}");
}

#[test]
fn the_link_checker_finds_dead_files_and_anchors() {
    assert_eq!(slug("Listing rules (`add_asset`)"), "listing-rules-add_asset");
    assert_eq!(slug("Best execution: the rebalance auction"), "best-execution-the-rebalance-auction");
    assert_eq!(slug("The local network's RPC server"), "the-local-networks-rpc-server");
    assert_eq!(slug("[Link](x.md) and ε bands"), "link-and-ε-bands");
    let readme = workspace().join("README.md");
    let text = "# Top\n\n## Top\n\n[ok](docs/README.md), [ok](#top-1), [web](https://x.invalid/none.md),\n\
                [`a`](docs/none.md), [b](docs/README.md#no-such-heading), [c](#nowhere)\n\n\
                ```sh\n[not a link](none.md)\n```\n\nInline `[code](none.md)` is not a link either.\n";
    let dead = dead_links(&readme, text);
    let expected = [
        "docs/none.md (no such file)",
        "docs/README.md#no-such-heading (no such heading)",
        "#nowhere (no such heading)",
    ];
    assert_eq!(dead.len(), expected.len(), "{dead:#?}");
    for (d, e) in dead.iter().zip(expected) {
        assert!(d.ends_with(e), "{d} should end with {e}");
    }
}
