//! The documented command list is clap's: a command added, renamed or
//! removed without its row in the README (or the architecture notes'
//! list) fails here.

use clap::CommandFactory;

/// Every command path that does something: `["framework", "import"]`.
fn leaves(c: &clap::Command, path: Vec<String>, out: &mut Vec<Vec<String>>) {
    let subs: Vec<&clap::Command> = c
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .collect();
    // A command that takes arguments of its own beside its
    // subcommands (`backup DEST`, `backup verify SRC`) is one too.
    if subs.is_empty() || c.get_positionals().next().is_some() {
        out.push(path.clone());
    }
    if subs.is_empty() {
        return;
    }
    for s in subs {
        let mut p = path.clone();
        p.push(s.get_name().to_string());
        leaves(s, p, out);
    }
}

/// The command words of each row of the README's command table.
fn readme_rows() -> Vec<Vec<String>> {
    let readme = include_str!("../README.md");
    let table = readme
        .split("## Commands")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the README has a Commands section");
    table
        .lines()
        .filter_map(|l| l.strip_prefix("| `wenming "))
        .map(|l| {
            l.split_whitespace()
                .map(|w| w.trim_end_matches('`'))
                .take_while(|w| {
                    !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                })
                .map(str::to_string)
                .collect()
        })
        .collect()
}

#[test]
fn the_readme_lists_every_command_and_no_other() {
    let mut commands = vec![];
    leaves(&super::Cli::command(), vec![], &mut commands);
    let rows = readme_rows();
    for c in &commands {
        assert!(
            rows.iter().any(|r| r.starts_with(c)),
            "`wenming {}` has no row in the README's command table",
            c.join(" ")
        );
    }
    for r in &rows {
        assert!(
            commands.iter().any(|c| r.starts_with(c)),
            "the README documents `wenming {}`, which is no command",
            r.join(" ")
        );
    }
    assert!(rows.len() >= commands.len());
}

#[test]
fn the_architecture_notes_name_every_top_level_command() {
    let notes = include_str!("../docs/architecture.md");
    let line: String = notes
        .lines()
        .skip_while(|l| !l.starts_with("src/main.rs"))
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    for c in super::Cli::command().get_subcommands() {
        let name = c.get_name();
        if name != "help" {
            assert!(
                line.contains(name),
                "docs/architecture.md's CLI line does not name `{name}`: {line}"
            );
        }
    }
}
