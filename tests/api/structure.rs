//! The code's shape, checked from its source: no two modules of a crate
//! use each other (directly or round a loop), at any level of the module
//! tree, so each can be read and tested alone.
//!
//! A module depends on another when its text (or a module inside it) names
//! a path into the other: `crate::a::b`, `super::b`, `use crate::{a, b}`,
//! or an item a parent re-exports from a child (`pub use child::*`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module: its path from the crate root (`["case", "intake"]`), its
/// source without comments, and the names it defines.
struct Module {
    path: Vec<String>,
    text: String,
    items: BTreeSet<String>,
    children: Vec<String>,
}

fn strip_comments(src: &str) -> String {
    src.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Out-of-line `mod name;` declarations.
fn declared_modules(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_suffix(';')?;
            let i = rest.find("mod ")?;
            let (vis, name) = rest.split_at(i);
            let vis = vis.trim();
            (vis.is_empty() || vis.starts_with("pub")).then_some(())?;
            let name = name["mod ".len()..].trim();
            name.chars().all(is_ident).then(|| name.to_string())
        })
        .collect()
}

/// Names the module defines at its top level (what a glob re-export
/// would make visible from its parent).
fn defined_items(text: &str) -> BTreeSet<String> {
    const KINDS: [&str; 8] = [
        "fn ",
        "struct ",
        "enum ",
        "const ",
        "static ",
        "type ",
        "trait ",
        "macro_rules! ",
    ];
    let mut out = BTreeSet::new();
    for l in text.lines() {
        // Top level only: items are not indented.
        if l.starts_with(' ') || l.starts_with('}') {
            continue;
        }
        for k in KINDS {
            if let Some(i) = l.find(k) {
                let before = &l[..i];
                if before
                    .split_whitespace()
                    .all(|w| w.starts_with("pub") || matches!(w, "async" | "unsafe" | "const"))
                {
                    let name: String = l[i + k.len()..]
                        .chars()
                        .take_while(|c| is_ident(*c))
                        .collect();
                    if !name.is_empty() {
                        out.insert(name);
                    }
                }
            }
        }
    }
    out
}

fn load(file: &Path, dir: &Path, path: Vec<String>, out: &mut Vec<Module>) {
    let src = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let text = strip_comments(&src);
    let children = declared_modules(&text);
    for c in &children {
        let flat = dir.join(format!("{c}.rs"));
        let folder = dir.join(c).join("mod.rs");
        let (f, d) = if flat.exists() {
            (flat, dir.join(c))
        } else if folder.exists() {
            (folder, dir.join(c))
        } else {
            panic!("{}: module {c} has no file", file.display());
        };
        let mut p = path.clone();
        p.push(c.clone());
        load(&f, &d, p, out);
    }
    out.push(Module {
        path,
        items: defined_items(&text),
        text,
        children,
    });
}

/// The paths a module's text names, as module-tree paths (unresolved:
/// they may end in an item name).
fn named_paths(m: &Module) -> Vec<Vec<String>> {
    let mut out = vec![];
    let t = &m.text;
    for (i, _) in t.match_indices("crate::").chain(t.match_indices("super::")) {
        if i > 0 && t[..i].ends_with(|c: char| is_ident(c) || c == ':') {
            continue;
        }
        let mut base: Vec<String> = if t[i..].starts_with("crate::") {
            vec![]
        } else {
            m.path.clone()
        };
        let mut rest = &t[i..];
        // Walk the path segment by segment: `super` steps up.
        loop {
            let seg: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            match seg.as_str() {
                "crate" => {}
                "super" => {
                    base.pop();
                }
                "self" | "" => break,
                s => base.push(s.to_string()),
            }
            rest = &rest[seg.len()..];
            if let Some(r) = rest.strip_prefix("::") {
                rest = r;
                if rest.starts_with('{') {
                    // A group: each member is a path below the base.
                    let end = group_end(rest);
                    for member in split_group(&rest[1..end]) {
                        let mut p = base.clone();
                        for s in member.split("::") {
                            let s: String = s.trim().chars().take_while(|c| is_ident(*c)).collect();
                            if s.is_empty() || s == "self" {
                                break;
                            }
                            p.push(s);
                        }
                        out.push(p);
                    }
                    break;
                }
            } else {
                break;
            }
        }
        out.push(base);
    }
    out
}

fn group_end(s: &str) -> usize {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    s.len()
}

fn split_group(s: &str) -> Vec<String> {
    let (mut depth, mut cur, mut out) = (0, String::new(), vec![]);
    for c in s.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// The module a named path lands in: the deepest module it names, or the
/// child a parent re-exports the named item from.
fn resolve<'a>(
    path: &[String],
    modules: &'a BTreeMap<Vec<String>, &'a Module>,
) -> Option<Vec<String>> {
    let mut at: Vec<String> = vec![];
    for seg in path {
        let mut next = at.clone();
        next.push(seg.clone());
        if modules.contains_key(&next) {
            at = next;
            continue;
        }
        let here = modules.get(&at)?;
        if here.items.contains(seg) {
            return Some(at);
        }
        // Re-exported from a child?
        for c in &here.children {
            let mut child = at.clone();
            child.push(c.clone());
            if modules.get(&child).is_some_and(|m| m.items.contains(seg)) {
                return Some(child);
            }
        }
        return Some(at);
    }
    Some(at)
}

/// Loops among sibling modules, for every parent in the crate.
fn cycles_in(root: &Path) -> Vec<String> {
    let dir = root.parent().unwrap().to_path_buf();
    let mut all = vec![];
    load(root, &dir, vec![], &mut all);
    let modules: BTreeMap<Vec<String>, &Module> = all.iter().map(|m| (m.path.clone(), m)).collect();
    // Sibling edges: for each module and each path it names, the pair of
    // children of their deepest common ancestor that they fall under.
    let mut edges: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for m in &all {
        for p in named_paths(m) {
            let Some(target) = resolve(&p, &modules) else {
                continue;
            };
            let common = m
                .path
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common >= m.path.len() || common >= target.len() {
                // Into an ancestor or a descendant: not between siblings.
                continue;
            }
            edges
                .entry(m.path[..common].to_vec())
                .or_default()
                .entry(m.path[common].clone())
                .or_default()
                .insert(target[common].clone());
        }
    }
    let mut found = vec![];
    for (parent, graph) in edges {
        for comp in strongly_connected(&graph) {
            let prefix = if parent.is_empty() {
                String::new()
            } else {
                format!("{}::", parent.join("::"))
            };
            let names: Vec<String> = comp.iter().map(|c| format!("{prefix}{c}")).collect();
            let why: Vec<String> = comp
                .iter()
                .flat_map(|a| {
                    graph[a]
                        .iter()
                        .filter(|b| comp.contains(*b))
                        .map(move |b| format!("{a} → {b}"))
                })
                .collect();
            found.push(format!("{} ({})", names.join(" ↔ "), why.join(", ")));
        }
    }
    found
}

/// Tarjan's strongly connected components of more than one node.
fn strongly_connected(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<BTreeSet<String>> {
    struct State<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<BTreeSet<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on.insert(v);
        let g = s.g;
        for w in g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.insert(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: vec![],
        on: BTreeSet::new(),
        out: vec![],
    };
    for v in g.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn crate_roots() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut roots = vec![root.join("src/main.rs")];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        for f in ["src/lib.rs", "src/main.rs"] {
            if dir.join(f).exists() {
                roots.push(dir.join(f));
            }
        }
    }
    roots.sort();
    roots
}

#[test]
fn no_two_modules_of_a_crate_use_each_other() {
    let mut loops = vec![];
    for root in crate_roots() {
        for c in cycles_in(&root) {
            loops.push(format!("{}: {c}", root.display()));
        }
    }
    assert!(loops.is_empty(), "modules in a loop:\n{}", loops.join("\n"));
}

/// The check sees a loop where there is one (so its silence means
/// something).
#[test]
fn the_loop_check_finds_a_loop() {
    let dir = std::env::temp_dir().join(format!("wenming-loops-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("b")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod a;\npub mod b;\n").unwrap();
    std::fs::write(dir.join("a.rs"), "use crate::b::Thing;\npub fn f() {}\n").unwrap();
    std::fs::write(dir.join("b/mod.rs"), "mod inner;\npub use inner::*;\n").unwrap();
    std::fs::write(
        dir.join("b/inner.rs"),
        "pub struct Thing;\nfn g() { crate::a::f() }\n",
    )
    .unwrap();
    let found = cycles_in(&dir.join("lib.rs"));
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("a ↔ b"), "{found:?}");
}

/// The arguments of the call whose opening parenthesis is at `open`, split
/// at top-level commas.
fn call_args(text: &str, open: usize) -> Vec<String> {
    let (mut depth, mut in_str, mut cur, mut out) = (0, false, String::new(), vec![]);
    for c in text[open..].chars() {
        if in_str {
            cur.push(c);
            in_str = c != '"';
            continue;
        }
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    out.push(cur);
                    return out;
                }
            }
            ',' if depth == 1 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            '"' => in_str = true,
            _ => {}
        }
        cur.push(c);
    }
    out
}

/// Every file of the store's code, with its comments taken out.
fn store_sources(root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = vec![];
    let mut folders = vec![root.join("crates/store/src")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let text = strip_comments(&std::fs::read_to_string(&path).unwrap());
                out.push((path, text));
            }
        }
    }
    out
}

/// Every kind of record the store writes to the audit log has a name on
/// the audit page in both languages: a new table cannot be forgotten there.
#[test]
fn every_audited_record_type_has_a_label_in_both_languages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut kinds = BTreeSet::new();
    let mut unknown = vec![];
    for (path, text) in store_sources(root) {
        // (call, which argument names the record type)
        for (call, at) in [
            ("audit::append(", 3),
            ("audit::created(", 2),
            ("audit::changed(", 3),
        ] {
            for (i, _) in text.match_indices(call) {
                let args = call_args(&text, i + call.len() - 1);
                let arg = args.get(at).map(|a| a.trim()).unwrap_or("");
                match arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
                    Some(kind) => {
                        kinds.insert(kind.to_string());
                    }
                    None => unknown.push(format!("{}: {call}… {arg}", path.display())),
                }
            }
        }
        for (i, _) in text.match_indices("entity_type: \"") {
            let rest = &text[i + "entity_type: \"".len()..];
            kinds.insert(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    assert!(
        kinds.len() >= 10,
        "the scan finds the audited types: {kinds:?}"
    );
    assert!(
        unknown.is_empty(),
        "audit calls whose record type is not a literal, so cannot be checked: {unknown:?}"
    );
    for locale in ["zh-CN", "en"] {
        let text = std::fs::read_to_string(root.join(format!("crates/web/locales/{locale}.toml")))
            .unwrap();
        let catalogue: toml::Value = toml::from_str(&text).unwrap();
        let labels = catalogue.get("audit_entity").and_then(|t| t.as_table());
        let missing: Vec<&String> = kinds
            .iter()
            .filter(|k| !labels.is_some_and(|l| l.contains_key(k.as_str())))
            .collect();
        assert!(
            missing.is_empty(),
            "{locale}: the audit page has no name for {missing:?} (add them under [audit_entity])"
        );
    }
}

/// Every action the audit log records is named on the audit page in both
/// languages: the store's literal actions, the two a variable chooses
/// between, and every workflow step (a step on a case is logged by its
/// code, and named as the case's timeline names it).
#[test]
fn every_audited_action_has_a_label_in_both_languages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut actions: BTreeSet<String> = ["create", "move", "update", "import", "reimport"]
        .map(String::from)
        .into();
    for (_, text) in store_sources(root) {
        for call in ["audit::append(", "audit::changed("] {
            for (i, _) in text.match_indices(call) {
                let args = call_args(&text, i + call.len() - 1);
                if let Some(a) = args
                    .get(2)
                    .and_then(|a| a.trim().strip_prefix('"'))
                    .and_then(|a| a.strip_suffix('"'))
                {
                    actions.insert(a.to_string());
                }
            }
        }
        for (i, _) in text.match_indices("action: \"") {
            let rest = &text[i + "action: \"".len()..];
            actions.insert(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    // The workflow's step codes, as `Step::code` writes them.
    let domain = std::fs::read_to_string(root.join("crates/domain/src/case/mod.rs")).unwrap();
    let code_fn = &domain[domain.find("pub fn code(&self) -> &'static str {").unwrap()..];
    let code_fn = &code_fn[..code_fn.find("\n    }\n").unwrap()];
    let steps: Vec<&str> = code_fn
        .match_indices("=> \"")
        .map(|(i, _)| {
            let rest = &code_fn[i + 4..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert!(steps.len() >= 10, "the scan finds the steps: {steps:?}");
    actions.extend(steps.iter().map(|s| s.to_string()));
    for locale in ["zh-CN", "en"] {
        let text = std::fs::read_to_string(root.join(format!("crates/web/locales/{locale}.toml")))
            .unwrap();
        let catalogue: toml::Value = toml::from_str(&text).unwrap();
        let has = |section: &str, key: &str| {
            catalogue
                .get(section)
                .and_then(|t| t.as_table())
                .is_some_and(|t| t.contains_key(key))
        };
        let missing: Vec<&String> = actions
            .iter()
            .filter(|a| !has("audit_action", a) && !has("case_step", a))
            .collect();
        assert!(
            missing.is_empty(),
            "{locale}: the audit page has no name for the actions {missing:?} (add them under [audit_action])"
        );
    }
}
