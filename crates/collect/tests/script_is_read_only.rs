//! The collector script is read-only by construction, and this test is the
//! construction: it parses `Collect-LockstepSnapshot.ps1` with the
//! tree-sitter PowerShell grammar and walks every node.
//!
//! * Any `ERROR` or `MISSING` node fails (a syntax error the grammar found).
//! * Every command must be on [`ALLOWED_COMMANDS`] or be a function the script
//!   defines itself with the `Get` verb (its body is walked like the rest).
//!   The list is explicit rather than `Get-*`/`Test-*` because some `Get-`
//!   cmdlets write: `Get-ClusterLog` generates cluster.log on every node,
//!   `Get-WindowsUpdateLog` writes a file. Before the allow-list is consulted,
//!   state-changing verbs and aliases ([`FORBIDDEN_VERBS`],
//!   [`FORBIDDEN_COMMANDS`]) fail with their own message, even for a function
//!   the script defines.
//! * `New-Object` may only create the Windows Update session COM object (whose
//!   installer methods are not on the method allow-list) and the few .NET types
//!   in [`ALLOWED_NEW_OBJECT_TYPES`].
//! * `&` may only run the script's own script blocks (`$Body`, `$NodeScript`)
//!   or `fltmc.exe` with `filters` / `instances`; dot-sourcing is forbidden.
//! * Every method call must be on [`ALLOWED_METHODS`]: string/date formatting,
//!   the read-only Windows Update searcher, the identity checks, and exactly
//!   one `WriteAllText` (the output file).
//! * File redirection (`>`, `>>`) and provider-path variables (`${C:\x}`)
//!   are forbidden: they write files.

use std::collections::BTreeSet;
use tree_sitter::{Node, Parser};

const ALLOWED_COMMANDS: &[&str] = &[
    // Read cmdlets actually used, one by one.
    "Get-Cluster",
    "Get-ClusterQuorum",
    "Get-ClusterParameter",
    "Get-ClusterGroup",
    "Get-ClusterNode",
    "Get-ClusterSharedVolume",
    "Get-ClusterSharedVolumeState",
    "Get-CimInstance",
    "Get-ItemProperty",
    "Get-HotFix",
    "Get-WindowsPackage",
    "Get-MpPreference",
    "Get-MpComputerStatus",
    "Get-VM",
    "Get-Command",
    "Get-Date",
    "Test-Path",
    // Pipeline plumbing and output.
    "ForEach-Object",
    "Where-Object",
    "Select-Object",
    "ConvertTo-Json",
    "ConvertFrom-Json",
    "Write-Warning",
    "Write-Verbose",
    "Write-Host",
    // Runs the script's own node script block on the nodes; that block is
    // part of this file and checked by the same walk.
    "Invoke-Command",
    // Checked further: see ALLOWED_NEW_OBJECT_TYPES.
    "New-Object",
];

const ALLOWED_NEW_OBJECT_TYPES: &[&str] = &[
    "System.Management.Automation.CommandNotFoundException",
    "System.Security.Principal.WindowsPrincipal",
    "System.Text.UTF8Encoding",
];

const ALLOWED_COM_OBJECTS: &[&str] = &["Microsoft.Update.Session"];

const FORBIDDEN_VERBS: &[&str] = &[
    "Set",
    "Remove",
    "Add",
    "Suspend",
    "Resume",
    "Stop",
    "Start",
    "Restart",
    "Clear",
    "Enable",
    "Disable",
    "Install",
    "Uninstall",
    "Update",
    "Move",
    "Rename",
    "Copy",
    "Register",
    "Unregister",
    "Reset",
    "Repair",
    "Mount",
    "Dismount",
    "Initialize",
    "Grant",
    "Revoke",
    "Export",
    "Save",
    "Publish",
    "Unblock",
    "Block",
    "Optimize",
    "Sync",
];

const FORBIDDEN_COMMANDS: &[&str] = &[
    "Invoke-Expression",
    "iex",
    "Start-Process",
    "saps",
    "start",
    "New-Item",
    "ni",
    "md",
    "mkdir",
    "Out-File",
    "Invoke-Item",
    "ii",
    "Invoke-WmiMethod",
    "Invoke-CimMethod",
    "Invoke-WebRequest",
    "Invoke-RestMethod",
    "New-ItemProperty",
    "New-Service",
    "New-PSDrive",
    "New-Cluster",
    "New-VM",
    "del",
    "erase",
    "rd",
    "ri",
    "rm",
    "rmdir",
    "kill",
    "spps",
    "sc",
    "si",
    "sp",
    "sv",
    "set",
    "clc",
    "cli",
    "clp",
    "clv",
    "cp",
    "cpi",
    "copy",
    "mv",
    "mi",
    "move",
    "ren",
    "rni",
    "rnp",
    "epcsv",
    "epal",
    "tee",
    "Tee-Object",
    "wusa",
    "wusa.exe",
    "dism",
    "dism.exe",
    "sc.exe",
    "reg",
    "reg.exe",
    "cluster.exe",
    "shutdown",
    "shutdown.exe",
];

const ALLOWED_METHODS: &[&str] = &[
    "ToString",
    "ToUniversalTime",
    "Trim",
    "SpecifyKind",
    "GetCurrent",
    "IsInRole",
    "GetUnresolvedProviderPathFromPSPath",
    // IUpdateSearcher: read-only history queries (no CreateUpdateInstaller,
    // no Download, no Install).
    "CreateUpdateSearcher",
    "GetTotalHistoryCount",
    "QueryHistory",
    // The output file; allowed exactly once.
    "WriteAllText",
];

const ALLOWED_SCRIPT_BLOCK_VARIABLES: &[&str] = &["$Body", "$NodeScript"];

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Violation {
    line: usize,
    what: String,
}

fn parse(source: &str) -> tree_sitter::Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    parser
        .parse(source, None)
        .expect("tree-sitter returns a tree")
}

fn text<'a>(node: Node, source: &'a str) -> &'a str {
    node.utf8_text(source.as_bytes()).unwrap_or("")
}

fn line(node: Node) -> usize {
    node.start_position().row + 1
}

fn children<'t>(node: Node<'t>) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.children(&mut cursor).collect()
}

fn descendants<'t>(node: Node<'t>, out: &mut Vec<Node<'t>>) {
    out.push(node);
    for child in children(node) {
        descendants(child, out);
    }
}

fn child_of_kind<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
    children(node).into_iter().find(|c| c.kind() == kind)
}

/// The arguments of a command as written (words and literals), without the
/// separators and without redirections.
fn command_words(command: Node, source: &str) -> Vec<String> {
    let Some(elements) = child_of_kind(command, "command_elements") else {
        return Vec::new();
    };
    children(elements)
        .into_iter()
        .filter(|c| c.kind() != "command_argument_sep" && c.kind() != "redirection")
        .map(|c| text(c, source).trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

fn verb(name: &str) -> Option<&str> {
    name.split_once('-').map(|(v, _)| v)
}

fn strip_quotes(s: &str) -> &str {
    s.trim_matches(|c| c == '\'' || c == '"')
}

/// Every reason the script is not provably read-only, sorted by line.
fn check(source: &str) -> Vec<Violation> {
    let tree = parse(source);
    let mut nodes = Vec::new();
    descendants(tree.root_node(), &mut nodes);
    let mut out = Vec::new();
    let mut push = |node: Node, what: String| {
        out.push(Violation {
            line: line(node),
            what,
        })
    };

    let defined_functions: BTreeSet<String> = nodes
        .iter()
        .filter(|n| n.kind() == "function_statement")
        .filter_map(|n| child_of_kind(*n, "function_name"))
        .map(|n| text(n, source).to_ascii_lowercase())
        .collect();

    let mut write_all_text_calls = 0;
    for &node in &nodes {
        if node.is_error() {
            push(
                node,
                format!("syntax error near {:?}", first_line(text(node, source))),
            );
            continue;
        }
        if node.is_missing() {
            push(node, format!("syntax error: missing {:?}", node.kind()));
            continue;
        }
        match node.kind() {
            "command" => check_command(node, source, &defined_functions, &mut push),
            "invokation_expression" => {
                if let Some(member) = child_of_kind(node, "member_name") {
                    let name = text(member, source);
                    if name.eq_ignore_ascii_case("WriteAllText") {
                        write_all_text_calls += 1;
                    }
                    if !ALLOWED_METHODS.iter().any(|m| m.eq_ignore_ascii_case(name)) {
                        push(
                            node,
                            format!("method call .{name}() is not on the read-only allow-list"),
                        );
                    }
                } else {
                    push(
                        node,
                        format!("dynamic method call {:?}", first_line(text(node, source))),
                    );
                }
            }
            "file_redirection_operator" => push(
                node,
                format!("file redirection {:?} writes a file", text(node, source)),
            ),
            "braced_variable" if text(node, source).contains(':') => push(
                node,
                format!(
                    "provider-path variable {} reads or writes a file",
                    text(node, source)
                ),
            ),
            _ => {}
        }
    }
    if write_all_text_calls > 1 {
        out.push(Violation {
            line: 0,
            what: format!("WriteAllText is called {write_all_text_calls} times; only the output file may be written"),
        });
    }
    out.sort();
    out
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(60).collect()
}

fn check_command(
    node: Node,
    source: &str,
    defined_functions: &BTreeSet<String>,
    push: &mut impl FnMut(Node, String),
) {
    let words = command_words(node, source);
    if let Some(operator) = child_of_kind(node, "command_invokation_operator") {
        let op = text(operator, source);
        if op == "." {
            push(
                node,
                "dot-sourcing runs code the script does not contain".into(),
            );
            return;
        }
        // `& <name>` or `& $variable`.
        if let Some(expr) = child_of_kind(node, "command_name_expr") {
            let target = text(expr, source).trim();
            if target.starts_with('$') {
                if !ALLOWED_SCRIPT_BLOCK_VARIABLES
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(target))
                {
                    push(
                        node,
                        format!("& {target} runs a script block that is not the script's own"),
                    );
                }
                return;
            }
            if target.eq_ignore_ascii_case("fltmc.exe") || target.eq_ignore_ascii_case("fltmc") {
                let sub = words.first().map(|w| w.to_ascii_lowercase());
                if !matches!(sub.as_deref(), Some("filters") | Some("instances")) {
                    push(
                        node,
                        format!("fltmc may only list (filters, instances), found {words:?}"),
                    );
                }
                return;
            }
            push(node, format!("& {target} is not on the allow-list"));
            return;
        }
        push(
            node,
            format!(
                "& with a computed command {:?}",
                first_line(text(node, source))
            ),
        );
        return;
    }

    let Some(name_node) = child_of_kind(node, "command_name") else {
        push(
            node,
            format!(
                "command without a static name {:?}",
                first_line(text(node, source))
            ),
        );
        return;
    };
    let name = text(name_node, source);
    let lower = name.to_ascii_lowercase();
    if let Some(v) = verb(name)
        && FORBIDDEN_VERBS.iter().any(|f| f.eq_ignore_ascii_case(v))
    {
        push(node, format!("{name} changes state (verb {v})"));
        return;
    }
    if FORBIDDEN_COMMANDS
        .iter()
        .any(|f| f.eq_ignore_ascii_case(name))
    {
        push(node, format!("{name} changes state or runs arbitrary code"));
        return;
    }
    let is_own_getter = defined_functions.contains(&lower) && lower.starts_with("get-");
    if !is_own_getter
        && !ALLOWED_COMMANDS
            .iter()
            .any(|a| a.eq_ignore_ascii_case(name))
    {
        push(node, format!("{name} is not on the read-only allow-list"));
        return;
    }
    if lower == "new-object" {
        check_new_object(node, &words, push);
    }
}

fn check_new_object(node: Node, words: &[String], push: &mut impl FnMut(Node, String)) {
    let mut iter = words.iter().peekable();
    let mut type_name: Option<&str> = None;
    let mut com: Option<&str> = None;
    while let Some(w) = iter.next() {
        if w.eq_ignore_ascii_case("-ComObject") {
            com = iter.next().map(|s| strip_quotes(s));
        } else if w.eq_ignore_ascii_case("-TypeName") {
            type_name = iter.next().map(|s| strip_quotes(s));
        } else if w.eq_ignore_ascii_case("-ArgumentList") {
            iter.next();
        } else if !w.starts_with('-') && type_name.is_none() && com.is_none() {
            type_name = Some(strip_quotes(w));
        }
    }
    match (com, type_name) {
        (Some(c), _)
            if ALLOWED_COM_OBJECTS
                .iter()
                .any(|a| a.eq_ignore_ascii_case(c)) => {}
        (Some(c), _) => push(
            node,
            format!("New-Object -ComObject {c} is not on the allow-list"),
        ),
        (None, Some(t))
            if ALLOWED_NEW_OBJECT_TYPES
                .iter()
                .any(|a| a.eq_ignore_ascii_case(t)) => {}
        (None, Some(t)) => push(node, format!("New-Object {t} is not on the allow-list")),
        (None, None) => push(node, "New-Object without a literal type".into()),
    }
}

const SCRIPT: &str = lockstep_collect::SCRIPT;

#[test]
fn collector_script_parses_without_errors() {
    let tree = parse(SCRIPT);
    let mut nodes = Vec::new();
    descendants(tree.root_node(), &mut nodes);
    let bad: Vec<String> = nodes
        .iter()
        .filter(|n| n.is_error() || n.is_missing())
        .map(|n| format!("line {}: {}", line(*n), n.kind()))
        .collect();
    assert!(bad.is_empty(), "syntax errors: {bad:#?}");
    assert!(!tree.root_node().has_error());
}

#[test]
fn collector_script_calls_only_read_only_commands() {
    let violations = check(SCRIPT);
    assert!(violations.is_empty(), "not read-only: {violations:#?}");
}

#[test]
fn the_walk_sees_every_command_the_script_runs() {
    // Guards the checker itself: if the grammar changed shape and the walk
    // found no commands, the allow-list test would pass vacuously.
    let tree = parse(SCRIPT);
    let mut nodes = Vec::new();
    descendants(tree.root_node(), &mut nodes);
    let names: BTreeSet<String> = nodes
        .iter()
        .filter(|n| n.kind() == "command")
        .filter_map(|n| child_of_kind(*n, "command_name"))
        .map(|n| text(n, SCRIPT).to_string())
        .collect();
    for expected in [
        "Get-HotFix",
        "Get-MpPreference",
        "Get-ClusterSharedVolumeState",
        "Invoke-Command",
        "ConvertTo-Json",
        "Get-Section",
    ] {
        assert!(
            names.contains(expected),
            "walk missed {expected}: {names:?}"
        );
    }
    let methods: BTreeSet<String> = nodes
        .iter()
        .filter(|n| n.kind() == "invokation_expression")
        .filter_map(|n| child_of_kind(*n, "member_name"))
        .map(|n| text(n, SCRIPT).to_string())
        .collect();
    assert!(
        methods.contains("QueryHistory") && methods.contains("WriteAllText"),
        "{methods:?}"
    );
}

fn with_line_inserted(extra: &str) -> String {
    // Inserted inside the node script block, where a careless edit would go.
    let anchor = "    $hotfixes = Get-Section {";
    assert!(SCRIPT.contains(anchor));
    SCRIPT.replacen(anchor, &format!("    {extra}\n{anchor}"), 1)
}

fn whats(violations: &[Violation]) -> Vec<&str> {
    violations.iter().map(|v| v.what.as_str()).collect()
}

#[test]
fn catches_set_mppreference() {
    let bad = with_line_inserted("Set-MpPreference -ExclusionPath 'C:\\ClusterStorage'");
    let violations = check(&bad);
    assert_eq!(
        whats(&violations),
        vec!["Set-MpPreference changes state (verb Set)"]
    );
    let expected_line = SCRIPT
        .lines()
        .position(|l| l == "    $hotfixes = Get-Section {")
        .map(|i| i + 1);
    assert_eq!(Some(violations[0].line), expected_line);
}

#[test]
fn catches_state_changing_commands_and_aliases() {
    for (line, expected) in [
        (
            "Suspend-ClusterNode -Name HV01 -Drain",
            "Suspend-ClusterNode changes state (verb Suspend)",
        ),
        (
            "Restart-Computer -Force",
            "Restart-Computer changes state (verb Restart)",
        ),
        (
            "Remove-Item C:\\x",
            "Remove-Item changes state (verb Remove)",
        ),
        (
            "Stop-Service vmms",
            "Stop-Service changes state (verb Stop)",
        ),
        (
            "Invoke-Expression $x",
            "Invoke-Expression changes state or runs arbitrary code",
        ),
        ("iex $x", "iex changes state or runs arbitrary code"),
        (
            "Start-Process wusa.exe",
            "Start-Process changes state (verb Start)",
        ),
        (
            "New-Item -Path C:\\x",
            "New-Item changes state or runs arbitrary code",
        ),
        (
            "Get-ClusterLog -Destination C:\\x",
            "Get-ClusterLog is not on the read-only allow-list",
        ),
        (
            "Format-Volume -DriveLetter D",
            "Format-Volume is not on the read-only allow-list",
        ),
    ] {
        assert_eq!(
            whats(&check(&with_line_inserted(line))),
            vec![expected],
            "{line}"
        );
    }
}

#[test]
fn catches_writes_through_methods_redirection_and_dynamic_code() {
    for (line, expected) in [
        (
            "$x.Delete()",
            "method call .Delete() is not on the read-only allow-list",
        ),
        (
            "$session.CreateUpdateInstaller()",
            "method call .CreateUpdateInstaller() is not on the read-only allow-list",
        ),
        (
            "[System.IO.File]::Delete('C:\\x')",
            "method call .Delete() is not on the read-only allow-list",
        ),
        (
            "Get-HotFix > C:\\hotfix.txt",
            "file redirection \">\" writes a file",
        ),
        (
            "& $payload",
            "& $payload runs a script block that is not the script's own",
        ),
        (
            ". .\\other.ps1",
            "dot-sourcing runs code the script does not contain",
        ),
        (
            "& fltmc.exe unload WdFilter",
            "fltmc may only list (filters, instances), found [\"unload\", \"WdFilter\"]",
        ),
        (
            "New-Object -ComObject WScript.Shell",
            "New-Object -ComObject WScript.Shell is not on the allow-list",
        ),
        (
            "New-Object System.Net.WebClient",
            "New-Object System.Net.WebClient is not on the allow-list",
        ),
        (
            "${C:\\x.txt} = 'y'",
            "provider-path variable ${C:\\x.txt} reads or writes a file",
        ),
    ] {
        assert_eq!(
            whats(&check(&with_line_inserted(line))),
            vec![expected],
            "{line}"
        );
    }
    let twice = with_line_inserted("[System.IO.File]::WriteAllText('C:\\x', 'y')");
    assert_eq!(
        whats(&check(&twice)),
        vec!["WriteAllText is called 2 times; only the output file may be written"]
    );
}

#[test]
fn catches_syntax_errors() {
    let broken = with_line_inserted("if ($x) { Get-Date");
    let violations = check(&broken);
    assert!(
        violations
            .iter()
            .any(|v| v.what.starts_with("syntax error")),
        "{violations:#?}"
    );
    let unterminated = with_line_inserted("$s = 'unterminated");
    assert!(
        check(&unterminated)
            .iter()
            .any(|v| v.what.starts_with("syntax error"))
    );
}

#[test]
fn script_defined_functions_with_forbidden_verbs_are_still_caught() {
    let bad = with_line_inserted("function Set-Thing { Get-Date }\n    Set-Thing");
    assert_eq!(
        whats(&check(&bad)),
        vec!["Set-Thing changes state (verb Set)"]
    );
}
