//! `cargo xtask tidy`: the architecture invariants of `docs/ARCHITECTURE.md`, checked.
//!
//! The rules are one table, [`RULES`] in `rules.rs`; `docs/ARCHITECTURE.md` shows the same
//! table between `<!-- tidy:rules -->` markers, generated from it (tidy fails when the two
//! differ; `cargo xtask tidy --write-docs` rewrites the document's copy). Five kinds:
//!
//! * **crates**: a workspace crate's normal and build dependencies on other workspace crates
//!   are the ones its row allows (dev-dependencies are free); a crate without a row fails;
//! * **purity**: the sans-I/O crates depend only on their listed crates and name no clock,
//!   I/O, thread, process, spawn or randomness in their code outside tests;
//! * **limits**: outside chatio-wire no `const MAX_…`/`…_LIMIT…` is set to a literal number,
//!   except the implementation bounds the table names (with their reason): protocol limits
//!   come from `chatio_wire::limits`;
//! * **platform**: `target_arch = "wasm32"`, `feature = "web"` and their kin appear in a
//!   crate's code outside tests only in the files the table names as its platform modules;
//! * **layers**: in the crates with a layer table, a module imports (`use crate::…`,
//!   `super::…`, paths in code) only modules of its own layer or of layers below it, and the
//!   module graph has no circle;
//! * **tools**: a test that needs tools beyond the Rust toolchain (the files under a crate's
//!   `tests/browser/`, and test files that name `CHATIO_JS_REQUIRED`, `CHATIO_BROWSER_TESTS`
//!   or the JS SDK harness `js_sdk::`) carries `#[ignore = "why, and the command that runs
//!   it"]`, so a plain `cargo test` reports it ignored instead of passing it unrun.
//!
//! The code is read by a small lexer ([`source`]) that blanks out comments, string
//! literals and `#[cfg(test)]` items, keeping line numbers.

mod rules;
mod source;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

pub use rules::RULES;
use rules::{Layers, Rules};

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// The rule's kind: `crates`, `purity`, `limits`, `platform`, `layers`, `docs`.
    pub rule: &'static str,
    /// The file, relative to the checked root.
    pub file: PathBuf,
    /// The line, 1-based (0: the file as a whole).
    pub line: usize,
    /// What is wrong, and what to do.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: [{}] {}", self.file.display(), self.line, self.rule, self.message)
    }
}

/// `cargo xtask tidy [--write-docs]`.
pub fn main(args: &[String]) -> Result<()> {
    let root = crate::cmd::root();
    if args.iter().any(|a| a == "--write-docs") {
        return write_docs(&root, &RULES);
    }
    if let Some(a) = args.first() {
        bail!("unknown option `{a}` (tidy takes only --write-docs)");
    }
    let found = check(&root, &RULES)?;
    if found.is_empty() {
        eprintln!("tidy: the architecture rules hold ({})", RULES.summary());
        return Ok(());
    }
    for v in &found {
        eprintln!("{v}");
    }
    bail!("{} architecture rule(s) broken (the rules: xtask/src/tidy/rules.rs, docs/ARCHITECTURE.md)", found.len())
}

/// Every rule checked on the tree at `root` (a workspace: `crates/*/`, `docs/ARCHITECTURE.md`).
pub fn check(root: &Path, rules: &Rules) -> Result<Vec<Violation>> {
    let crates = read_crates(root)?;
    let mut out = Vec::new();
    check_crates(&crates, rules, &mut out);
    let mut used = BTreeSet::new();
    for c in &crates {
        check_sources(c, rules, &mut used, &mut out);
    }
    for e in rules.limits.exceptions {
        if !used.contains(&(e.krate, e.name)) {
            let message = format!(
                "the limits exception `{}` of `{}` matches no constant any more: remove it from xtask/src/tidy/rules.rs",
                e.name, e.krate
            );
            out.push(Violation { rule: "limits", file: "xtask/src/tidy/rules.rs".into(), line: 0, message });
        }
    }
    check_docs(root, rules, &mut out)?;
    check_tool_tests(root, &mut out)?;
    out.sort();
    Ok(out)
}

/// One workspace crate as tidy reads it.
struct Crate {
    name: String,
    /// Relative to the root: `crates/chatio-core`.
    dir: PathBuf,
    /// Normal and build dependencies: (name, line in Cargo.toml).
    deps: Vec<(String, usize)>,
    /// `src/` files, relative to the crate: (path, text).
    files: Vec<(PathBuf, String)>,
}

fn read_crates(root: &Path) -> Result<Vec<Crate>> {
    let dir = root.join("crates");
    let mut crates = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    entries.sort();
    for path in entries {
        let manifest = std::fs::read_to_string(path.join("Cargo.toml"))
            .with_context(|| format!("reading {}", path.join("Cargo.toml").display()))?;
        let (name, deps) = source::manifest(&manifest);
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let mut files = Vec::new();
        collect_rs(&path.join("src"), Path::new(""), &mut files)?;
        files.sort();
        crates.push(Crate { name: name.unwrap_or_default(), dir: rel, deps, files });
    }
    Ok(crates)
}

fn collect_rs(dir: &Path, rel: &Path, out: &mut Vec<(PathBuf, String)>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for e in entries {
        let e = e.with_context(|| format!("listing {}", dir.display()))?;
        let (path, name) = (e.path(), e.file_name());
        if path.is_dir() {
            collect_rs(&path, &rel.join(&name), out)?;
        } else if path.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            out.push((rel.join(&name), text));
        }
    }
    Ok(())
}

fn check_crates(crates: &[Crate], rules: &Rules, out: &mut Vec<Violation>) {
    let names: BTreeSet<&str> = crates.iter().map(|c| c.name.as_str()).collect();
    for c in crates {
        let file = c.dir.join("Cargo.toml");
        let Some(row) = rules.crates.iter().find(|r| r.name == c.name) else {
            let message = format!(
                "the crate `{}` has no row in the crate table: add one (which workspace crates it may depend on) to xtask/src/tidy/rules.rs",
                c.name
            );
            out.push(Violation { rule: "crates", file, line: 0, message });
            continue;
        };
        for (dep, line) in &c.deps {
            if names.contains(dep.as_str()) && !row.may_use.contains(&dep.as_str()) {
                let message = format!(
                    "`{}` depends on `{dep}`, against the documented direction (it may use: {})",
                    c.name,
                    list(row.may_use)
                );
                out.push(Violation { rule: "crates", file: file.clone(), line: *line, message });
            }
        }
        if let Some(pure) = rules.pure.iter().find(|p| p.name == c.name) {
            for (dep, line) in &c.deps {
                if !pure.deps.contains(&dep.as_str()) {
                    let message = format!(
                        "`{}` does no I/O, reads no clock and spawns nothing: the dependency `{dep}` is not among the ones it may have ({})",
                        c.name,
                        list(pure.deps)
                    );
                    out.push(Violation { rule: "purity", file: file.clone(), line: *line, message });
                }
            }
        }
    }
}

fn list(names: &[&str]) -> String {
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

fn check_sources(
    c: &Crate,
    rules: &Rules,
    used: &mut BTreeSet<(&'static str, &'static str)>,
    out: &mut Vec<Violation>,
) {
    let pure = rules.pure.iter().any(|p| p.name == c.name);
    let platform = rules.platform.iter().find(|p| p.name == c.name);
    let layers = rules.layers.iter().find(|l| l.name == c.name);
    let mut graph = ModuleGraph::default();
    for (rel, text) in &c.files {
        let file = c.dir.join("src").join(rel);
        let code = source::Code::new(text);
        if pure {
            for (line, what) in source::impure_calls(&code.without_strings) {
                let message = format!(
                    "`{}` does no I/O, reads no clock, spawns nothing and draws no randomness of its own: `{what}` (take it as an input instead)",
                    c.name
                );
                out.push(Violation { rule: "purity", file: file.clone(), line, message });
            }
        }
        if c.name != rules.limits.home {
            for (line, name) in source::literal_limits(&code.without_strings) {
                if let Some(e) = rules.limits.exceptions.iter().find(|e| e.krate == c.name && e.name == name) {
                    used.insert((e.krate, e.name));
                } else {
                    let message = format!(
                        "`{name}` is set to a literal: a protocol limit comes from `chatio_wire::limits` (defined once); an implementation bound that is not one goes into the limits exceptions of xtask/src/tidy/rules.rs with its reason"
                    );
                    out.push(Violation { rule: "limits", file: file.clone(), line, message });
                }
            }
        }
        if let Some(p) = platform {
            let allowed = p.modules.iter().any(|m| path_matches(rel, m));
            if !allowed {
                for (line, what) in source::platform_cfgs(&code.with_strings) {
                    let message = format!(
                        "`{what}` outside the platform modules of `{}` ({}): move the platform code there",
                        c.name,
                        list(p.modules)
                    );
                    out.push(Violation { rule: "platform", file: file.clone(), line, message });
                }
            }
        }
        if layers.is_some() {
            graph.add(rel, &code.without_strings);
        }
    }
    if let Some(l) = layers {
        graph.check(c, l, out);
    }
}

/// Whether `rel` (relative to `src/`) is the file or under the folder `pattern` (`web/`).
fn path_matches(rel: &Path, pattern: &str) -> bool {
    let rel = rel.to_string_lossy().replace('\\', "/");
    match pattern.strip_suffix('/') {
        Some(dir) => rel.starts_with(&format!("{dir}/")),
        None => rel == pattern,
    }
}

/// The modules of one crate and what each imports.
#[derive(Default)]
struct ModuleGraph {
    /// Module path (`http::router`; the crate root is empty) → its file.
    files: BTreeMap<String, PathBuf>,
    /// Module → (line, imported path as written, resolved to segments).
    imports: BTreeMap<String, Vec<(usize, Vec<String>)>>,
}

impl ModuleGraph {
    fn add(&mut self, rel: &Path, code: &str) {
        let module = source::module_of(rel);
        self.files.insert(module.join("::"), rel.to_path_buf());
        let paths = source::crate_paths(code, &module);
        self.imports.insert(module.join("::"), paths);
    }

    /// The longest known module that `path` names (`crate::http::router::route` → `http::router`).
    fn target(&self, path: &[String]) -> Option<String> {
        (1..=path.len()).rev().map(|n| path[..n].join("::")).find(|m| self.files.contains_key(m))
    }

    fn check(&self, c: &Crate, l: &Layers, out: &mut Vec<Violation>) {
        let layer_of = |module: &str| -> Option<usize> {
            let best = l
                .layers
                .iter()
                .enumerate()
                .flat_map(|(i, (_, mods))| mods.iter().map(move |m| (i, *m)))
                .filter(|(_, m)| module == *m || module.starts_with(&format!("{m}::")))
                .max_by_key(|(_, m)| m.len());
            best.map(|(i, _)| i)
        };
        let mut edges: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (from, imports) in &self.imports {
            if from.is_empty() || l.exempt.contains(&from.as_str()) {
                continue; // the crate root declares and re-exports every module
            }
            let file = c.dir.join("src").join(&self.files[from]);
            let Some(from_layer) = layer_of(from) else {
                let message = format!(
                    "the module `{from}` of `{}` is in no layer: add it to the layer table in xtask/src/tidy/rules.rs and docs/ARCHITECTURE.md",
                    c.name
                );
                out.push(Violation { rule: "layers", file, line: 0, message });
                continue;
            };
            let mut reported = BTreeSet::new();
            for (line, path) in imports {
                let Some(to) = self.target(path) else { continue };
                if to.is_empty()
                    || to == *from
                    || to.starts_with(&format!("{from}::"))
                    || from.starts_with(&format!("{to}::"))
                {
                    continue;
                }
                let Some(to_layer) = layer_of(&to) else { continue };
                if to_layer >= from_layer {
                    // Circles are looked for along these: an upward import is reported as such.
                    edges.entry(from.as_str()).or_default().insert(to.clone());
                } else if reported.insert((*line, to.clone())) {
                    let message = format!(
                        "`{from}` ({}) imports `{to}` ({}), a layer above it: `crate::{}`",
                        l.layers[from_layer].0,
                        l.layers[to_layer].0,
                        path.join("::")
                    );
                    out.push(Violation { rule: "layers", file: file.clone(), line: *line, message });
                }
            }
        }
        for circle in circles(&edges) {
            let first = circle.first().cloned().unwrap_or_default();
            let file = c.dir.join("src").join(self.files.get(&first).cloned().unwrap_or_default());
            let message = format!("an import circle: {} → {first}", circle.join(" → "));
            out.push(Violation { rule: "layers", file, line: 0, message });
        }
    }
}

/// The import circles of a graph: one per strongly connected component of two or more
/// modules (Tarjan), as the component's modules in order.
fn circles(edges: &BTreeMap<&str, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<&'a str, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        on_stack: BTreeSet<String>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    impl Walk<'_> {
        fn visit(&mut self, v: &str) {
            self.index.insert(v.to_owned(), self.next);
            self.low.insert(v.to_owned(), self.next);
            self.next += 1;
            self.stack.push(v.to_owned());
            self.on_stack.insert(v.to_owned());
            let targets: Vec<String> = self.edges.get(v).map(|t| t.iter().cloned().collect()).unwrap_or_default();
            for w in targets {
                if !self.index.contains_key(&w) {
                    self.visit(&w);
                    let lw = self.low[&w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if self.on_stack.contains(&w) {
                    let iw = self.index[&w];
                    let lv = self.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(&w);
                    let done = w == v;
                    component.push(w);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.reverse();
                    self.out.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    let starts: Vec<&str> = edges.keys().copied().collect();
    for v in starts {
        if !walk.index.contains_key(v) {
            walk.visit(v);
        }
    }
    walk.out
}

const DOCS: &str = "docs/ARCHITECTURE.md";
const BEGIN: &str = "<!-- tidy:rules (generated by `cargo xtask tidy --write-docs` from xtask/src/tidy/rules.rs) -->";
const END: &str = "<!-- /tidy:rules -->";

/// Tests that need tools beyond the Rust toolchain are `#[ignore = "…"]`d (the module docs).
fn check_tool_tests(root: &Path, out: &mut Vec<Violation>) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(root.join("crates")) else { return Ok(()) };
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path().join("tests"))).collect();
    dirs.sort();
    for dir in dirs {
        let mut files = Vec::new();
        collect_rs(&dir, Path::new(""), &mut files)?;
        for (rel, text) in files {
            let browser = rel.components().next().is_some_and(|c| c.as_os_str() == "browser");
            let tools = ["CHATIO_JS_REQUIRED", "CHATIO_BROWSER_TESTS", "js_sdk::"];
            if !browser && !tools.iter().any(|t| text.contains(t)) {
                continue;
            }
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let t = line.trim_start();
                if !(t.starts_with("#[test]") || t.starts_with("#[tokio::test")) {
                    continue;
                }
                // The attributes stacked on the same function.
                let ignored = lines[i + 1..]
                    .iter()
                    .map(|l| l.trim_start())
                    .take_while(|l| l.starts_with("#["))
                    .any(|l| l.starts_with("#[ignore = \""));
                if !ignored {
                    let file = dir.strip_prefix(root).unwrap_or(&dir).join(&rel);
                    let message = "a test that needs tools beyond the Rust toolchain (a browser, Node) is \
                                   `#[ignore = \"why, and the command that runs it\"]`, so `cargo test` \
                                   reports it ignored instead of ok"
                        .to_owned();
                    out.push(Violation { rule: "tools", file, line: i + 1, message });
                }
            }
        }
    }
    Ok(())
}

/// The document's copy of the table is the table.
fn check_docs(root: &Path, rules: &Rules, out: &mut Vec<Violation>) -> Result<()> {
    let path = root.join(DOCS);
    let Ok(text) = std::fs::read_to_string(&path) else {
        let message = format!("{DOCS} is missing: it documents the rules tidy checks");
        out.push(Violation { rule: "docs", file: DOCS.into(), line: 0, message });
        return Ok(());
    };
    let message = match docs_block(&text) {
        Some((_, current, _)) if current == rules.markdown() => return Ok(()),
        Some(_) => "the rules table differs from tidy's: run `cargo xtask tidy --write-docs` and commit",
        None => "has no rules table between the tidy markers: run `cargo xtask tidy --write-docs` and commit",
    };
    out.push(Violation { rule: "docs", file: DOCS.into(), line: 0, message: message.to_owned() });
    Ok(())
}

/// (before, the table, after) of the document's generated block.
fn docs_block(text: &str) -> Option<(&str, &str, &str)> {
    let b = text.find(BEGIN)?;
    let inner = b + BEGIN.len();
    let e = inner + text[inner..].find(END)?;
    Some((&text[..inner], text[inner..e].trim_matches('\n'), &text[e..]))
}

fn write_docs(root: &Path, rules: &Rules) -> Result<()> {
    let path = root.join(DOCS);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let (before, _, after) =
        docs_block(&text).with_context(|| format!("{DOCS} has no `{BEGIN}` … `{END}` block to write into"))?;
    let new = format!("{before}\n{}\n{after}", rules.markdown());
    std::fs::write(&path, new).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("tidy: wrote the rules table into {DOCS}");
    Ok(())
}

#[cfg(test)]
mod tests;
