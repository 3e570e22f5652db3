//! Each rule broken once in a copy of `fixtures/tidy/good` (a small workspace that keeps
//! every rule), and the workspace itself checked (so `cargo test` enforces tidy too).

use std::path::{Path, PathBuf};

use super::rules::{CrateRow, LimitException, Limits, Platform, Pure, Rules};
use super::*;

/// The rules of the fixture workspace.
const FIXTURE_RULES: Rules = Rules {
    crates: &[
        CrateRow { name: "low", may_use: &[] },
        CrateRow { name: "mid", may_use: &["low"] },
        CrateRow { name: "high", may_use: &["low", "mid"] },
    ],
    pure: &[Pure { name: "low", deps: &["serde"] }],
    limits: Limits {
        home: "low",
        exceptions: &[LimitException { krate: "mid", name: "MAX_QUEUE", why: "a queue's length" }],
    },
    platform: &[
        Platform { name: "low", modules: &[] },
        Platform { name: "mid", modules: &["lib.rs", "web/"] },
        Platform { name: "high", modules: &[] },
    ],
    layers: &[Layers {
        name: "mid",
        layers: &[("top", &["top"]), ("middle", &["middle"]), ("bottom", &["bottom", "web"])],
        exempt: &[],
    }],
};

/// A fresh copy of the good fixture, with its rules table written into its docs.
struct Tree(PathBuf);

impl Tree {
    fn new() -> Tree {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("chatio-tidy-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        copy(&crate::cmd::root().join("fixtures/tidy/good"), &dir);
        write_docs(&dir, &FIXTURE_RULES).expect("docs");
        Tree(dir)
    }

    fn write(&self, rel: &str, text: &str) -> &Tree {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
        std::fs::write(p, text).expect("write");
        self
    }

    fn append(&self, rel: &str, text: &str) -> &Tree {
        let old = std::fs::read_to_string(self.0.join(rel)).expect("read");
        self.write(rel, &format!("{old}\n{text}\n"))
    }

    fn replace(&self, rel: &str, from: &str, to: &str) -> &Tree {
        let old = std::fs::read_to_string(self.0.join(rel)).expect("read");
        assert!(old.contains(from), "{rel} has no `{from}`");
        self.write(rel, &old.replace(from, to))
    }

    fn check(&self) -> Vec<Violation> {
        check(&self.0, &FIXTURE_RULES).expect("check")
    }

    /// Exactly one violation, of `rule`, at `file:line`, saying `says`.
    fn breaks(&self, rule: &str, file: &str, line: usize, says: &str) {
        let found = self.check();
        let text: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 1, "one violation expected:\n{}", text.join("\n"));
        let v = &found[0];
        assert_eq!((v.rule, v.file.as_path(), v.line), (rule, Path::new(file), line), "{v}");
        assert!(v.message.contains(says), "`{says}` not in: {v}");
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for e in std::fs::read_dir(from).expect("fixture") {
        let e = e.expect("entry");
        if e.path().is_dir() {
            copy(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

#[test]
fn the_workspace_keeps_its_rules() {
    let found = check(&crate::cmd::root(), &RULES).expect("check");
    let text: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(found.is_empty(), "run `cargo xtask tidy`:\n{}", text.join("\n"));
}

#[test]
fn the_good_fixture_keeps_every_rule() {
    let found = Tree::new().check();
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_dependency_against_the_direction_fails() {
    Tree::new().append("crates/mid/Cargo.toml", "\n[build-dependencies]\nhigh = { path = \"../high\" }").breaks(
        "crates",
        "crates/mid/Cargo.toml",
        14,
        "`mid` depends on `high`",
    );
}

#[test]
fn a_target_specific_dependency_counts_and_a_dev_dependency_does_not() {
    let t = Tree::new();
    t.append("crates/mid/Cargo.toml", "\n[target.'cfg(unix)'.dependencies.high]\npath = \"../high\"");
    t.breaks("crates", "crates/mid/Cargo.toml", 13, "`mid` depends on `high`");
    // low's dev-dependency on mid (in the good fixture) is fine: tests may use anything.
}

#[test]
fn a_crate_without_a_row_fails() {
    Tree::new()
        .write("crates/extra/Cargo.toml", "[package]\nname = \"extra\"\n")
        .write("crates/extra/src/lib.rs", "")
        .breaks("crates", "crates/extra/Cargo.toml", 0, "no row");
}

#[test]
fn a_pure_crate_with_a_runtime_dependency_fails() {
    Tree::new().replace("crates/low/Cargo.toml", "serde = \"1\"", "serde = \"1\"\nfastrand = \"2\"").breaks(
        "purity",
        "crates/low/Cargo.toml",
        7,
        "`fastrand`",
    );
}

#[test]
fn a_pure_crate_reading_the_clock_fails() {
    Tree::new()
        .append(
            "crates/low/src/lib.rs",
            "/// Now.\npub fn now() -> std::time::SystemTime { std::time::SystemTime::now() }",
        )
        .breaks("purity", "crates/low/src/lib.rs", 33, "SystemTime::now");
}

#[test]
fn a_pure_crate_doing_io_spawning_or_drawing_randomness_fails() {
    for (code, says) in [
        ("pub fn f() { let _ = std::fs::read(\"x\"); }", "std::fs"),
        ("pub fn f() { std::thread::spawn(|| ()); }", "spawn — a spawn`, `std::thread — a thread"),
        ("pub fn f() -> u64 { fastrand::u64(..) }", "fastrand"),
        ("pub fn f(t: std::time::Instant) -> u64 { t.elapsed().as_secs() }", ".elapsed()"),
        ("pub fn f() { println!(\"hi\"); }", "println!"),
    ] {
        Tree::new().append("crates/low/src/lib.rs", code).breaks("purity", "crates/low/src/lib.rs", 32, says);
    }
}

#[test]
fn a_limit_set_to_a_literal_outside_its_home_fails() {
    Tree::new().append("crates/high/src/lib.rs", "/// Again.\npub const MAX_TEXT_LEN: usize = 16 * 1024;").breaks(
        "limits",
        "crates/high/src/lib.rs",
        9,
        "`MAX_TEXT_LEN` is set to a literal",
    );
}

#[test]
fn a_stale_limit_exception_fails() {
    Tree::new().replace("crates/mid/src/lib.rs", "pub const MAX_QUEUE: usize = 64;", "").breaks(
        "limits",
        "xtask/src/tidy/rules.rs",
        0,
        "matches no constant",
    );
}

#[test]
fn a_platform_cfg_outside_the_platform_modules_fails() {
    Tree::new().append("crates/mid/src/top.rs", "#[cfg(target_arch = \"wasm32\")]\npub fn browser() {}").breaks(
        "platform",
        "crates/mid/src/top.rs",
        21,
        "target_arch = \"wasm32\"",
    );
    Tree::new().append("crates/high/src/lib.rs", "#[cfg(all(feature = \"web\", not(test)))]\npub fn web() {}").breaks(
        "platform",
        "crates/high/src/lib.rs",
        8,
        "feature = \"web\"",
    );
}

#[test]
fn an_upward_import_fails() {
    Tree::new().append("crates/mid/src/bottom.rs", "pub use crate::top::Top;").breaks(
        "layers",
        "crates/mid/src/bottom.rs",
        6,
        "`bottom` (bottom) imports `top` (top)",
    );
}

#[test]
fn an_upward_path_in_code_and_through_super_fails() {
    Tree::new()
        .append("crates/mid/src/middle/inner.rs", "pub fn top() -> crate::top::Top { crate::top::make() }")
        .breaks("layers", "crates/mid/src/middle/inner.rs", 15, "`middle::inner` (middle) imports `top` (top)");
    Tree::new().append("crates/mid/src/middle/mod.rs", "use super::{top::Top as T};").breaks(
        "layers",
        "crates/mid/src/middle/mod.rs",
        7,
        "imports `top`",
    );
}

#[test]
fn an_import_circle_fails() {
    let t = Tree::new();
    t.replace("crates/mid/src/middle/mod.rs", "pub mod inner;", "pub mod inner;\npub mod other;");
    t.write(
        "crates/mid/src/middle/other.rs",
        "//! Other.\nuse super::inner::Inner;\n/// O.\npub struct Other(Inner);\n",
    );
    t.append("crates/mid/src/middle/inner.rs", "/// Back.\npub fn other() -> Option<super::other::Other> { None }");
    t.breaks(
        "layers",
        "crates/mid/src/middle/inner.rs",
        0,
        "an import circle: middle::inner → middle::other → middle::inner",
    );
}

#[test]
fn a_module_in_no_layer_fails() {
    Tree::new()
        .append("crates/mid/src/lib.rs", "pub mod stray;")
        .write("crates/mid/src/stray.rs", "//! Stray.\n")
        .breaks("layers", "crates/mid/src/stray.rs", 0, "in no layer");
}

#[test]
fn a_stale_rules_table_in_the_docs_fails_and_write_docs_mends_it() {
    let t = Tree::new();
    t.replace("docs/ARCHITECTURE.md", "| `mid` | `low` |", "| `mid` | `low`, `high` |");
    t.breaks("docs", "docs/ARCHITECTURE.md", 0, "--write-docs");
    write_docs(&t.0, &FIXTURE_RULES).expect("write");
    assert!(t.check().is_empty());
}

#[test]
fn the_lexer_blanks_comments_literals_and_tests_and_keeps_lines() {
    let text =
        "a /* x /* y */ z */ b // c\n\"s\\\"t\" r#\"u\"v\"# 'q' '\\n' <'a>\n#[cfg(test)]\nmod t { fn f() {} }\nd";
    let code = source::Code::new(text);
    assert_eq!(code.without_strings.lines().count(), text.lines().count());
    assert_eq!(code.without_strings.len(), text.len());
    let words: Vec<&str> = code.without_strings.split_whitespace().collect();
    assert_eq!(words, ["a", "b", "\"", "\"", "r#\"", "\"#", "'", "'", "'", "'", "<'a>", "d"]);
    assert!(code.with_strings.contains("r#\"u\"v\"#") && code.with_strings.contains("\"s\\\"t\""));
}

#[test]
fn use_trees_expand_and_resolve() {
    let module = ["a".to_owned(), "b".to_owned()];
    let code = "use crate::{x::{self, y as z}, w::*};\nuse super::super::v;\nuse std::fs;\nfn f() { self::q::r(); }";
    let got: Vec<(usize, String)> =
        source::crate_paths(code, &module).into_iter().map(|(l, p)| (l, p.join("::"))).collect();
    let want: Vec<(usize, String)> =
        [(1, "w"), (1, "x"), (1, "x::y"), (2, "v"), (4, "a::b::q::r")].map(|(l, p)| (l, p.to_owned())).into();
    assert_eq!(got, want);
    assert_eq!(source::module_of(Path::new("http/mod.rs")), ["http"]);
    assert_eq!(source::module_of(Path::new("lib.rs")), Vec::<String>::new());
}

#[test]
fn a_browser_test_without_ignore_fails_and_with_it_passes() {
    let test = "#[tokio::test]\nasync fn opens_a_page() {}\n";
    Tree::new().write("crates/mid/tests/browser/page.rs", test).breaks(
        "tools",
        "crates/mid/tests/browser/page.rs",
        1,
        "reports it ignored instead of ok",
    );
    let ignored =
        "#[tokio::test]\n#[ignore = \"a browser test: cargo test -- --include-ignored\"]\nasync fn opens_a_page() {}\n";
    assert!(Tree::new().write("crates/mid/tests/browser/page.rs", ignored).check().is_empty());
    // Outside tests/browser/, a test file that requires Node counts too; one that does not, not.
    let node = "// CHATIO_JS_REQUIRED=1 makes a skip a failure\n#[test]\nfn runs_node() {}\n";
    Tree::new().write("crates/mid/tests/it/js.rs", node).breaks("tools", "crates/mid/tests/it/js.rs", 2, "ignored");
    assert!(Tree::new().write("crates/mid/tests/it/plain.rs", "#[test]\nfn plain() {}\n").check().is_empty());
}
