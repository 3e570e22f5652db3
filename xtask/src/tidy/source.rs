//! Reading Rust and Cargo manifests just well enough for the rules: a lexer that blanks out
//! comments, literals and test-only items (line numbers kept), and the extractors the rules
//! use. Not a parser: it errs towards reporting, and the rules are written so that code in
//! this workspace's style reads unambiguously.

use std::path::Path;

/// The name and the normal and build dependencies (with their lines) of a `Cargo.toml`.
pub fn manifest(text: &str) -> (Option<String>, Vec<(String, usize)>) {
    let mut name = None;
    let mut deps = Vec::new();
    let mut section = String::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if let Some(s) = line.strip_prefix('[') {
            section = s.trim_end_matches(']').trim().to_owned();
            // `[dependencies.serde]`, `[target.'cfg(..)'.dependencies.serde]`
            for kind in ["dependencies.", "build-dependencies."] {
                if let Some(i) = section.find(kind) {
                    let before = &section[..i];
                    if (before.is_empty() || before.ends_with('.')) && !before.ends_with("dev-") {
                        deps.push((section[i + kind.len()..].trim_matches('"').to_owned(), n + 1));
                    }
                }
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        let key = key.trim();
        if section == "package" && key == "name" {
            name = Some(value.trim().trim_matches('"').to_owned());
        }
        let is_deps = section == "dependencies"
            || section == "build-dependencies"
            || (section.starts_with("target.")
                && (section.ends_with(".dependencies") || section.ends_with(".build-dependencies")));
        if is_deps {
            let dep = key.split('.').next().unwrap_or_default().trim().trim_matches('"');
            // `renamed = { package = "real", … }` depends on `real`.
            let real = value.split("package").nth(1).and_then(|r| r.split('"').nth(1));
            deps.push((real.unwrap_or(dep).to_owned(), n + 1));
        }
    }
    (name, deps)
}

/// A source file with comments and test-only items blanked out (`with_strings`), and the
/// same with the contents of string and character literals blanked too (`without_strings`).
pub struct Code {
    /// Comments and test items blanked; literals kept (for `cfg` predicates).
    pub with_strings: String,
    /// Comments, test items and literal contents blanked (for paths and calls).
    pub without_strings: String,
}

impl Code {
    /// Lexes `text`.
    pub fn new(text: &str) -> Code {
        let (mut with, mut without) = blank_comments_and_literals(text);
        for (start, end) in test_items(&without) {
            blank(&mut with, start, end);
            blank(&mut without, start, end);
        }
        Code { with_strings: with, without_strings: without }
    }
}

/// Replaces every byte of `s[start..end]` but newlines with a space (byte offsets kept).
fn blank(s: &mut String, start: usize, end: usize) {
    let mut replaced = String::with_capacity(end - start);
    for c in s[start..end].chars() {
        push_blank(&mut replaced, c);
    }
    s.replace_range(start..end, &replaced);
}

/// Pushes `c`, or a space in its place (newlines stay).
fn push_blank(out: &mut String, c: char) {
    out.push(if c == '\n' { '\n' } else { ' ' });
    for _ in 1..c.len_utf8() {
        out.push(' ');
    }
}

fn blank_comments_and_literals(text: &str) -> (String, String) {
    let chars: Vec<char> = text.chars().collect();
    let (mut with, mut without) = (String::with_capacity(text.len()), String::with_capacity(text.len()));
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        // Comments.
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                push_blank(&mut with, chars[i]);
                push_blank(&mut without, chars[i]);
                i += 1;
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    for _ in 0..2 {
                        push_blank(&mut with, chars[i]);
                        push_blank(&mut without, chars[i]);
                        i += 1;
                    }
                    continue;
                }
                if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    for _ in 0..2 {
                        push_blank(&mut with, chars[i]);
                        push_blank(&mut without, chars[i]);
                        i += 1;
                    }
                    if depth == 0 {
                        break;
                    }
                    continue;
                }
                push_blank(&mut with, chars[i]);
                push_blank(&mut without, chars[i]);
                i += 1;
            }
            continue;
        }
        // Raw strings: r"…", r#"…"#, br#"…"#.
        let prev_ident = i > 0 && ident(chars[i - 1]);
        if !prev_ident && (c == 'r' || (c == 'b' && next == Some('r'))) {
            let mut j = i + if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) == Some(&'"') {
                for &ch in &chars[i..=j] {
                    with.push(ch);
                    without.push(ch);
                }
                j += 1;
                while let Some(&ch) = chars.get(j) {
                    if ch == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                        for &ch in &chars[j..=j + hashes] {
                            with.push(ch);
                            without.push(ch);
                        }
                        j += 1 + hashes;
                        break;
                    }
                    with.push(ch);
                    push_blank(&mut without, ch);
                    j += 1;
                }
                i = j;
                continue;
            }
        }
        // Strings.
        if c == '"' {
            with.push(c);
            without.push(c);
            i += 1;
            while i < chars.len() {
                let ch = chars[i];
                if ch == '\\' {
                    with.push(ch);
                    push_blank(&mut without, ch);
                    if let Some(&e) = chars.get(i + 1) {
                        with.push(e);
                        push_blank(&mut without, e);
                    }
                    i += 2;
                    continue;
                }
                with.push(ch);
                if ch == '"' {
                    without.push(ch);
                    i += 1;
                    break;
                }
                push_blank(&mut without, ch);
                i += 1;
            }
            continue;
        }
        // Character literals (not lifetimes): 'x', '\n', '\u{…}'.
        if c == '\'' {
            let end = if next == Some('\\') {
                (i + 2..chars.len().min(i + 12)).find(|&j| chars[j] == '\'')
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            if let Some(end) = end {
                for &ch in &chars[i..=end] {
                    with.push(ch);
                    if ch == '\'' { without.push(ch) } else { push_blank(&mut without, ch) }
                }
                i = end + 1;
                continue;
            }
        }
        with.push(c);
        without.push(c);
        i += 1;
    }
    (with, without)
}

/// The byte ranges of items under a `#[cfg(…test…)]` (not `not(test)`): from the attribute
/// to the end of the item (`;` or its closing brace).
fn test_items(code: &str) -> Vec<(usize, usize)> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(k) = code[from..].find("#[cfg(") {
        let start = from + k;
        let Some(close) = matching(b, start + 5) else { break };
        let predicate = &code[start + 6..close];
        from = close;
        let squeezed: String = predicate.chars().filter(|c| !c.is_whitespace()).collect();
        let is_test = words(&squeezed.replace("not(test)", "")).any(|w| w == "test") && !squeezed.starts_with("not(");
        if !is_test {
            continue;
        }
        // Past `]`, more attributes, then the item.
        let mut i = close + 1;
        loop {
            while i < b.len() && (b[i] == b']' || b[i].is_ascii_whitespace()) {
                i += 1;
            }
            if b.get(i) == Some(&b'#') {
                match code[i..].find('[').and_then(|o| matching(b, i + o)) {
                    Some(e) => i = e + 1,
                    None => break,
                }
                continue;
            }
            break;
        }
        let mut j = i;
        let end = loop {
            match b.get(j) {
                None => break b.len(),
                Some(b';') => break j + 1,
                Some(b'{') => break matching(b, j).map_or(b.len(), |e| e + 1),
                Some(b'(' | b'[') => j = matching(b, j).map_or(b.len(), |e| e + 1),
                Some(_) => j += 1,
            }
        };
        out.push((start, end));
        from = end;
    }
    out
}

/// The index of the bracket closing the one at `open`.
fn matching(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
}

/// The 1-based line of byte `at`.
fn line_of(code: &str, at: usize) -> usize {
    code[..at].bytes().filter(|&b| b == b'\n').count() + 1
}

/// Occurrences of `needle` not preceded by an identifier character: (byte offset).
fn occurrences<'a>(code: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    code.match_indices(needle).map(|(i, _)| i).filter(move |&i| {
        let before = code[..i].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// What a sans-I/O crate must not call or name: (needle, what it is).
const IMPURE: &[(&str, &str)] = &[
    ("Instant::now", "a clock read"),
    ("SystemTime::now", "a clock read"),
    ("std::fs", "file I/O"),
    ("File::", "file I/O"),
    ("std::net", "networking"),
    ("TcpStream", "networking"),
    ("TcpListener", "networking"),
    ("UdpSocket", "networking"),
    ("std::io::stdin", "terminal I/O"),
    ("std::io::stdout", "terminal I/O"),
    ("std::io::stderr", "terminal I/O"),
    ("println!", "terminal I/O"),
    ("eprintln!", "terminal I/O"),
    ("print!", "terminal I/O"),
    ("eprint!", "terminal I/O"),
    ("dbg!", "terminal I/O"),
    ("std::thread", "a thread"),
    ("std::process", "a process"),
    ("std::env", "the environment"),
    ("spawn(", "a spawn"),
    ("spawn_local", "a spawn"),
    ("tokio", "a runtime"),
    ("async_std", "a runtime"),
    ("smol::", "a runtime"),
    ("fastrand", "randomness"),
    ("getrandom", "randomness"),
    ("rand::", "randomness"),
    ("thread_rng", "randomness"),
    ("OsRng", "randomness"),
];

/// Calls and names a sans-I/O crate must not have: (line, `needle` — what it is; several
/// on one line are joined).
pub fn impure_calls(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (needle, what) in IMPURE {
        for at in occurrences(code, needle) {
            out.push((line_of(code, at), format!("{} — {what}", needle.trim_end_matches('('))));
        }
    }
    // `.elapsed()` starts with a dot, preceded by an identifier: find those too.
    for (at, _) in code.match_indices(".elapsed()") {
        if code[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ')') {
            out.push((line_of(code, at), ".elapsed() — a clock read".to_owned()));
        }
    }
    out.sort();
    out.dedup();
    let mut joined: Vec<(usize, String)> = Vec::new();
    for (line, what) in out {
        match joined.last_mut() {
            Some((l, w)) if *l == line => {
                w.push_str("`, `");
                w.push_str(&what);
            }
            _ => joined.push((line, what)),
        }
    }
    joined
}

/// Constants named like limits (`MAX_…`, `…LIMIT…`) whose value has a numeric literal:
/// (line, name).
pub fn literal_limits(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for at in occurrences(code, "const ") {
        let rest = &code[at + 6..];
        let Some(colon) = rest.find(':') else { continue };
        let name = rest[..colon].trim();
        if !(name.starts_with("MAX_") || name.contains("LIMIT"))
            || !name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            continue;
        }
        let Some(eq) = rest.find('=') else { continue };
        let value = &rest[eq + 1..rest[eq..].find(';').map_or(rest.len(), |s| eq + s)];
        let literal = words(value).any(|w| w.starts_with(|c: char| c.is_ascii_digit()));
        if literal {
            out.push((line_of(code, at), name.to_owned()));
        }
    }
    out
}

/// Platform predicates: (line, the predicate).
pub fn platform_cfgs(code: &str) -> Vec<(usize, String)> {
    let squeezed = code;
    let mut out = Vec::new();
    for (key, value) in
        [("target_arch", "wasm32"), ("target_family", "wasm"), ("target_os", "unknown"), ("feature", "web")]
    {
        let mut from = 0;
        while let Some(k) = squeezed[from..].find(key) {
            let at = from + k;
            from = at + key.len();
            let before = squeezed[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = squeezed[from..].trim_start();
            let Some(rest) = rest.strip_prefix('=') else { continue };
            if rest.trim_start().starts_with(&format!("\"{value}\"")) {
                out.push((line_of(squeezed, at), format!("{key} = \"{value}\"")));
            }
        }
    }
    out.sort();
    out
}

/// The module path of a file under `src/`: `lib.rs` → `[]`, `http/mod.rs` → `[http]`,
/// `http/router.rs` → `[http, router]`.
pub fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
            parts.push(stem.to_owned());
        }
    }
    parts
}

/// Every path into the crate that the file names (`use` trees expanded, `super` and `self`
/// resolved against `module`), as segments after `crate`: (line, segments).
pub fn crate_paths(code: &str, module: &[String]) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut in_use: Vec<(usize, usize)> = Vec::new();
    for at in occurrences(code, "use ") {
        let Some(end) = code[at..].find(';').map(|e| at + e) else { continue };
        in_use.push((at, end));
        let line = line_of(code, at);
        for path in use_tree(&code[at + 4..end]) {
            if let Some(p) = resolve(&path, module) {
                out.push((line, p));
            }
        }
    }
    for head in ["crate::", "super::", "self::"] {
        for at in occurrences(code, head) {
            if in_use.iter().any(|(s, e)| at > *s && at < *e) {
                continue;
            }
            let rest = &code[at..];
            let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
            let path: Vec<String> = rest[..len].split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect();
            if let Some(p) = resolve(&path, module) {
                out.push((line_of(code, at), p));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `crate`/`super`/`self` paths resolved to segments after `crate`; others are `None`.
fn resolve(path: &[String], module: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "super" | "self" => module.to_vec(),
        _ => return None,
    };
    let mut rest = &path[1..];
    if path[0] == "super" {
        base.pop()?;
        while rest.first().is_some_and(|s| s == "super") {
            base.pop()?;
            rest = &rest[1..];
        }
    }
    base.extend(rest.iter().filter(|s| *s != "self" && *s != "*").cloned());
    Some(base)
}

/// The paths of a `use` tree (`crate::{a::{self, b}, c as d}` → crate::a, crate::a::b, crate::c).
fn use_tree(text: &str) -> Vec<Vec<String>> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<String>| {
        if !word.is_empty() {
            tokens.push(std::mem::take(word));
        }
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut tokens);
            if c == ':' && chars.get(i + 1) == Some(&':') {
                tokens.push("::".into());
                i += 1;
            } else if matches!(c, '{' | '}' | ',' | '*') {
                tokens.push(c.to_string());
            }
        }
        i += 1;
    }
    flush(&mut word, &mut tokens);
    // `pub`, `pub(crate)` before the tree: drop leading visibility words.
    let mut out = Vec::new();
    let mut pos = 0;
    tree(&tokens, &mut pos, &[], &mut out);
    out
}

fn tree(t: &[String], pos: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut path = prefix.to_vec();
    while *pos < t.len() {
        let tok = t[*pos].as_str();
        match tok {
            "::" => *pos += 1,
            "{" => {
                *pos += 1;
                loop {
                    tree(t, pos, &path, out);
                    match t.get(*pos).map(String::as_str) {
                        Some(",") => *pos += 1,
                        Some("}") => {
                            *pos += 1;
                            return;
                        }
                        _ => return,
                    }
                    if t.get(*pos).map(String::as_str) == Some("}") {
                        *pos += 1;
                        return;
                    }
                }
            }
            "," | "}" => break,
            "*" => {
                *pos += 1;
            }
            "as" => {
                // `x as y`: the alias is not part of the path.
                *pos += 2;
            }
            _ => {
                path.push(tok.to_owned());
                *pos += 1;
            }
        }
    }
    if path.len() > prefix.len() || !prefix.is_empty() {
        out.push(path);
    }
}
