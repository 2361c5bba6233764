//! The exact argument vectors schtasks.exe and wusa.exe receive from the
//! emitted PowerShell script, for every node and every install/removal,
//! replayed through the Windows rules: Start-Process (one command line),
//! CommandLineToArgvW, Task Scheduler (program + arguments, environment
//! variables expanded), `cmd.exe /s /c`, and the ScheduledTasks cmdlets
//! (Execute + Argument). Also with %SystemRoot% in a folder with spaces and
//! wusa given a package in a source folder with spaces.
mod common;
use common::*;
use lockstep_model::KbId;
use lockstep_plan::emit::{wusa_arguments, wusa_task};
use lockstep_plan::winargs::{command_line, parse_command_line};
use lockstep_plan::*;

/// `%NAME%` → value, as Task Scheduler and cmd.exe expand them; unknown
/// names stay as they are (command-line mode).
fn expand(s: &str, root: &str) -> String {
    s.replace("%SystemRoot%", root)
}

/// Task Scheduler's exec action from a /TR value: the program (quoted, or
/// up to the first space) and the rest as arguments.
fn split_tr(tr: &str) -> (String, String) {
    if let Some(rest) = tr.strip_prefix('"') {
        let end = rest.find('"').expect("closing quote");
        (rest[..end].to_string(), rest[end + 1..].trim().to_string())
    } else {
        match tr.split_once(' ') {
            Some((p, a)) => (p.to_string(), a.trim().to_string()),
            None => (tr.to_string(), String::new()),
        }
    }
}

/// What `cmd.exe /s /c "<command>"` runs: the text after /c with its first
/// and last quote removed, %VAR% expanded, split at the `&` outside quotes.
fn cmd_runs(arguments: &str, root: &str) -> Vec<String> {
    let after = arguments
        .strip_prefix("/s /c ")
        .expect("cmd.exe /s /c")
        .trim();
    let first = after.find('"').expect("a quote after /c");
    let last = after.rfind('"').expect("a closing quote");
    assert!(last > first);
    let command = format!("{}{}", &after[first + 1..last], &after[last + 1..]);
    let command = expand(&command, root);
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            '&' if !quoted => parts.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    parts.push(cur.trim().to_string());
    parts
}

/// What Windows PowerShell 5.1 writes for `& prog arg…` (NeedQuotes: wrap
/// in quotes when there is whitespace outside quotes; quotes inside are
/// not escaped).
fn ps51_native(prog: &str, args: &[&str]) -> String {
    let need_quotes = |s: &str| {
        let (mut quotes, mut after_backslash, mut need) = (0, false, false);
        for c in s.chars() {
            if c == '"' && !after_backslash {
                quotes += 1;
            } else if c.is_whitespace() && quotes % 2 == 0 {
                need = true;
            }
            after_backslash = c == '\\';
        }
        need
    };
    let mut line = format!("\"{prog}\"");
    for a in args {
        line.push(' ');
        if need_quotes(a) {
            line.push_str(&format!("\"{a}\""));
        } else {
            line.push_str(a);
        }
    }
    line
}

struct Replayed {
    schtasks_argv: Vec<String>,
    wusa_argv_via_schtasks: Vec<String>,
    exit_code_file: String,
    wusa_argv_via_cmdlets: Vec<String>,
}

/// Replays one task's command lines on a node whose %SystemRoot% is `root`.
fn replay(schtasks: &str, execute: &str, argument: &str, root: &str) -> Replayed {
    // Start-Process -FilePath <schtasks.exe> -ArgumentList <one string>:
    // the command line is the quoted file name and the string as it is.
    let line = format!("\"{root}\\System32\\schtasks.exe\" {schtasks}");
    let schtasks_argv: Vec<String> = parse_command_line(&line).into_iter().skip(1).collect();
    let tr = schtasks_argv.last().expect("/TR value").clone();
    let (program, arguments) = split_tr(&tr);
    assert_eq!(expand(&program, root), format!("{root}\\System32\\cmd.exe"));
    let commands = cmd_runs(&arguments, root);
    assert_eq!(commands.len(), 2, "{commands:?}");
    let wusa_argv_via_schtasks = parse_command_line(&commands[0]);
    let echo = commands[1]
        .strip_prefix("call echo %^errorlevel% > ")
        .expect("the exit code goes to a file");
    let exit_code_file = parse_command_line(&format!("x {echo}"))[1].clone();
    // New-ScheduledTaskAction -Execute <exe> -Argument <arguments>, both
    // expanded on the node: the process gets "<exe>" <arguments>.
    let cmdlets_line = format!("\"{}\" {}", expand(execute, root), expand(argument, root));
    Replayed {
        schtasks_argv,
        wusa_argv_via_schtasks,
        exit_code_file,
        wusa_argv_via_cmdlets: parse_command_line(&cmdlets_line),
    }
}

fn expected_wusa(root: &str, op: &str, kb: KbId) -> Vec<String> {
    let mut v = vec![format!("{root}\\System32\\wusa.exe")];
    v.extend(wusa_arguments(
        op,
        kb,
        &format!("{root}\\Temp\\lockstep\\KB{}.msu", kb.number()),
    ));
    v
}

#[test]
fn schtasks_and_wusa_receive_exactly_these_argument_vectors() {
    for root in ["C:\\Windows", "D:\\Windows Server 2008 R2"] {
        let t = wusa_task("install", KbId(2607712)).unwrap();
        let r = replay(&t.schtasks, &t.execute, &t.argument, root);
        assert_eq!(
            r.schtasks_argv,
            [
                "/Create",
                "/F",
                "/RU",
                "SYSTEM",
                "/SC",
                "ONCE",
                "/ST",
                "00:00",
                "/TN",
                "lockstep-install-2607712",
                "/TR",
                "%SystemRoot%\\System32\\cmd.exe /s /c \"\"%SystemRoot%\\System32\\wusa.exe\" \"%SystemRoot%\\Temp\\lockstep\\KB2607712.msu\" /quiet /norestart & call echo %^errorlevel% > \"%SystemRoot%\\Temp\\lockstep\\install-2607712.exitcode\"\"",
            ]
        );
        let want = vec![
            format!("{root}\\System32\\wusa.exe"),
            format!("{root}\\Temp\\lockstep\\KB2607712.msu"),
            "/quiet".to_string(),
            "/norestart".to_string(),
        ];
        assert_eq!(r.wusa_argv_via_schtasks, want, "{root}");
        assert_eq!(r.wusa_argv_via_cmdlets, want, "{root}");
        assert_eq!(
            r.exit_code_file,
            format!("{root}\\Temp\\lockstep\\install-2607712.exitcode")
        );

        let t = wusa_task("uninstall", KbId(2616676)).unwrap();
        let r = replay(&t.schtasks, &t.execute, &t.argument, root);
        let want = vec![
            format!("{root}\\System32\\wusa.exe"),
            "/uninstall".to_string(),
            "/kb:2616676".to_string(),
            "/quiet".to_string(),
            "/norestart".to_string(),
        ];
        assert_eq!(r.wusa_argv_via_schtasks, want);
        assert_eq!(r.wusa_argv_via_cmdlets, want);
    }
}

#[test]
fn the_old_powershell_native_call_split_the_tr_value() {
    // `& schtasks.exe … /TR $tr` under Windows PowerShell 5.1: the quotes
    // inside /TR are not escaped, so schtasks sees /TR cut into pieces —
    // why the script hands schtasks one command line through Start-Process.
    let t = wusa_task("install", KbId(2607712)).unwrap();
    let args = parse_command_line(&format!("x {}", t.schtasks));
    let tr = args.last().unwrap();
    let line = ps51_native(
        "schtasks.exe",
        &[
            "/Create", "/F", "/RU", "SYSTEM", "/SC", "ONCE", "/ST", "00:00", "/TN", &t.task, "/TR",
            tr,
        ],
    );
    let argv = parse_command_line(&line);
    assert_ne!(argv.last(), Some(tr), "{argv:?}");
    assert!(argv.len() > 13, "{argv:?}");
}

#[test]
fn wusa_gets_a_package_from_a_source_folder_with_spaces() {
    let msu =
        "\\\\fileserver\\Updates for HVCLU01\\December 2023\\windows6.1-kb5033433-x64 (1).msu";
    let args = wusa_arguments("install", KbId(5033433), msu);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let line = command_line("C:\\Windows\\System32\\wusa.exe", &refs).unwrap();
    assert_eq!(
        line,
        "C:\\Windows\\System32\\wusa.exe \"\\\\fileserver\\Updates for HVCLU01\\December 2023\\windows6.1-kb5033433-x64 (1).msu\" /quiet /norestart"
    );
    assert_eq!(
        parse_command_line(&line),
        [
            "C:\\Windows\\System32\\wusa.exe",
            msu,
            "/quiet",
            "/norestart"
        ]
    );
}

/// The single-quoted literal after `key = '` on a data line.
fn literal(line: &str, key: &str) -> String {
    let start = line.find(&format!("{key} = '")).expect(key) + key.len() + 4;
    let mut out = String::new();
    let mut chars = line[start..].chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            break;
        }
        out.push(c);
    }
    out
}

#[test]
fn every_node_and_step_of_the_emitted_script() {
    let plan = plan_with(
        &example_cluster(),
        &PlanOptions {
            target: Target::Converge,
            ..Default::default()
        },
    );
    let script = emit(&plan, Emit::Powershell, &EmitOptions::default()).unwrap();
    let mut seen = 0;
    for node in &plan.nodes {
        for step in &node.steps {
            let (op, kb) = match step {
                Step::Install { kb, .. } => ("install", *kb),
                Step::Uninstall { kb, .. } => ("uninstall", *kb),
                _ => continue,
            };
            let key = format!("Action = '{op}'; Kb = '{}'", kb.number());
            let line = script
                .lines()
                .find(|l| l.contains(&key))
                .unwrap_or_else(|| panic!("{key}"));
            for root in ["C:\\Windows", "E:\\Win Dir"] {
                let r = replay(
                    &literal(line, "Schtasks"),
                    &literal(line, "Execute"),
                    &literal(line, "Argument"),
                    root,
                );
                let want = expected_wusa(root, op, kb);
                assert_eq!(r.wusa_argv_via_schtasks, want, "{} {op} {kb}", node.name);
                assert_eq!(r.wusa_argv_via_cmdlets, want, "{} {op} {kb}", node.name);
                assert_eq!(r.schtasks_argv[9], format!("lockstep-{op}-{}", kb.number()));
            }
            seen += 1;
        }
        // 2008 R2 nodes: schtasks (no ScheduledTasks module), pause and move.
        let block = script
            .split(&format!("Node      = '{}'", node.name))
            .nth(1)
            .unwrap();
        assert!(block.contains("Runner    = 'schtasks'"), "{}", node.name);
        assert!(block.contains("Drain     = 'pause'"), "{}", node.name);
    }
    assert_eq!(seen, 6);
}
