//! Windows command lines, built by the rules of the programs that read
//! them. One function per rule; the emitters use only these.
//!
//! * A program's argv comes from its command line by the rules of
//!   `CommandLineToArgvW` and the MSVCRT start-up code (Microsoft, "Parsing
//!   C++ command-line arguments"): arguments are separated by spaces and
//!   tabs; a double quote starts or ends a quoted part; `2n` backslashes
//!   before a quote give `n` backslashes and the quote is a delimiter, `2n+1`
//!   give `n` and a literal quote; other backslashes are literal. The first
//!   argument (the program) is read differently: up to the next quote when it
//!   starts with one, else up to the first space, with no escapes. [`arg`]
//!   and [`command_line`] build by these rules, [`parse_command_line`] reads
//!   by them.
//! * `cmd.exe /s /c "<command>"` runs `<command>` after removing the first
//!   and the last quote of the text after `/c` (`cmd /?`: with `/S`, "strip
//!   the leading and trailing quote characters", whatever is between), so the
//!   command may hold quoted paths of its own. cmd.exe expands `%VAR%` in it;
//!   `call echo %^errorlevel%` is expanded only when it runs (the caret
//!   keeps the first expansion from seeing the variable; `call` expands it
//!   again), so it prints the exit code of the command before it. [`cmd_c`].
//! * `schtasks /Create /TR <command line>` stores the task's command line;
//!   Task Scheduler runs the first token as the program (quoted or up to the
//!   first space) with the rest as its arguments, and expands environment
//!   variables in both. [`schtasks_create`].
//! * Windows PowerShell 5.1 passes an argument to a native program wrapped in
//!   double quotes when it has whitespace outside quotes, without escaping
//!   the quotes inside it (`NativeCommandParameterBinder.NeedQuotes`), so a
//!   `/TR` value with quotes reaches schtasks split into several arguments.
//!   The scripts therefore never pass such a value through PowerShell's
//!   native-command syntax: they give the whole command line, built here, to
//!   `Start-Process -ArgumentList` as one string, which becomes the
//!   process's command line unchanged.

use crate::quote::InvalidValue;

fn needs_quotes(a: &str) -> bool {
    a.is_empty() || a.contains([' ', '\t', '\n', '\x0B', '"'])
}

fn invalid(what: &'static str, value: &str, expected: &'static str) -> InvalidValue {
    InvalidValue {
        what,
        value: value.to_string(),
        expected,
    }
}

/// One argument, quoted for `CommandLineToArgvW` when it needs it.
pub fn arg(a: &str) -> String {
    if needs_quotes(a) {
        quoted(a)
    } else {
        a.to_string()
    }
}

/// One argument, always in quotes: for a value that holds `%VAR%` and is
/// expanded later (the expanded path may have spaces).
pub fn quoted(a: &str) -> String {
    let mut out = String::with_capacity(a.len() + 2);
    out.push('"');
    let mut backslashes = 0usize;
    for c in a.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                // Each backslash before a quote doubled, and the quote escaped.
                out.extend(std::iter::repeat_n('\\', backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
                continue;
            }
            _ => {}
        }
        if c != '\\' {
            out.extend(std::iter::repeat_n('\\', backslashes));
            backslashes = 0;
            out.push(c);
        }
    }
    // Backslashes before the closing quote doubled.
    out.extend(std::iter::repeat_n('\\', backslashes * 2));
    out.push('"');
    out
}

/// A program path as argv[0]: quoted when it has spaces, never escaped (the
/// first argument is read without escapes), so it may not hold a quote.
pub fn program(path: &str) -> Result<String, InvalidValue> {
    if path.is_empty() || path.contains('"') || path.chars().any(char::is_control) {
        return Err(invalid(
            "program path",
            path,
            "a path without double quotes or control characters",
        ));
    }
    Ok(if path.contains([' ', '\t']) {
        format!("\"{path}\"")
    } else {
        path.to_string()
    })
}

/// `program arg1 arg2 …` for `CommandLineToArgvW`.
pub fn command_line(prog: &str, args: &[&str]) -> Result<String, InvalidValue> {
    let mut s = program(prog)?;
    for a in args {
        if a.chars().any(|c| c.is_control() && c != '\t') {
            return Err(invalid(
                "command-line argument",
                a,
                "text without control characters",
            ));
        }
        s.push(' ');
        s.push_str(&arg(a));
    }
    Ok(s)
}

/// The arguments of `cmd.exe` that run `command`: `/s /c "command"`.
/// `command` may hold quotes (they survive: `/s` strips only the outer
/// pair); a line break would end it, so control characters are refused.
pub fn cmd_c(command: &str) -> Result<String, InvalidValue> {
    if command.chars().any(char::is_control) {
        return Err(invalid(
            "cmd.exe command",
            command,
            "one line without control characters",
        ));
    }
    Ok(format!("/s /c \"{command}\""))
}

/// The arguments of `schtasks.exe /Create` for a one-shot task that runs
/// `task_command_line` as SYSTEM (started with `schtasks /Run`).
pub fn schtasks_create(task: &str, task_command_line: &str) -> Result<String, InvalidValue> {
    if task.is_empty()
        || !task
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(invalid(
            "scheduled task name",
            task,
            "letters, digits, '-' and '_'",
        ));
    }
    // schtasks refuses a /TR longer than 261 characters.
    if task_command_line.chars().count() > 261 {
        return Err(invalid(
            "scheduled task command line",
            task_command_line,
            "at most 261 characters (schtasks /TR)",
        ));
    }
    let args = [
        "/Create",
        "/F",
        "/RU",
        "SYSTEM",
        "/SC",
        "ONCE",
        "/ST",
        "00:00",
        "/TN",
        task,
        "/TR",
        task_command_line,
    ];
    Ok(args.iter().map(|a| arg(a)).collect::<Vec<_>>().join(" "))
}

/// argv from a command line, by `CommandLineToArgvW`'s rules (the first
/// argument without escapes).
pub fn parse_command_line(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // argv[0]
    let mut first = String::new();
    if chars.first() == Some(&'"') {
        i = 1;
        while i < chars.len() && chars[i] != '"' {
            first.push(chars[i]);
            i += 1;
        }
        i += 1;
    } else {
        while i < chars.len() && chars[i] != ' ' && chars[i] != '\t' {
            first.push(chars[i]);
            i += 1;
        }
    }
    out.push(first);
    out.extend(parse_arguments(&chars[i.min(chars.len())..]));
    out
}

/// The arguments after argv[0], by the MSVCRT rules.
pub fn parse_arguments(chars: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut cur = String::new();
        let mut in_quotes = false;
        while i < chars.len() {
            let c = chars[i];
            if c == '\\' {
                let start = i;
                while i < chars.len() && chars[i] == '\\' {
                    i += 1;
                }
                let n = i - start;
                if i < chars.len() && chars[i] == '"' {
                    cur.extend(std::iter::repeat_n('\\', n / 2));
                    if n % 2 == 1 {
                        cur.push('"');
                        i += 1;
                    }
                } else {
                    cur.extend(std::iter::repeat_n('\\', n));
                }
                continue;
            }
            if c == '"' {
                // A doubled quote inside quotes is a literal quote (MSVCRT
                // since 2008).
                if in_quotes && chars.get(i + 1) == Some(&'"') {
                    cur.push('"');
                    i += 2;
                    continue;
                }
                in_quotes = !in_quotes;
                i += 1;
                continue;
            }
            if !in_quotes && (c == ' ' || c == '\t') {
                break;
            }
            cur.push(c);
            i += 1;
        }
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args_of(line: &str) -> Vec<String> {
        parse_command_line(line).into_iter().skip(1).collect()
    }

    #[test]
    fn round_trip_by_the_argv_rules() {
        for a in [
            "plain",
            "with space",
            "",
            "a\"b",
            "C:\\path with space\\",
            "C:\\ends\\",
            "tab\there",
            "\\\\server\\share",
            "x\\\\\"y",
            "\"",
            "%SystemRoot%\\Temp\\lockstep\\KB5033118.msu",
        ] {
            let line = command_line("C:\\Windows\\System32\\wusa.exe", &[a, "/quiet"]).unwrap();
            assert_eq!(args_of(&line), [a, "/quiet"], "{line}");
        }
    }

    #[test]
    fn exact_quoting() {
        assert_eq!(arg("a b"), "\"a b\"");
        assert_eq!(arg("a\"b"), "\"a\\\"b\"");
        assert_eq!(arg("C:\\a b\\"), "\"C:\\a b\\\\\"");
        assert_eq!(arg("C:\\ab\\"), "C:\\ab\\");
        assert_eq!(quoted("%SystemRoot%\\x"), "\"%SystemRoot%\\x\"");
        assert_eq!(
            program("C:\\Program Files\\x.exe").unwrap(),
            "\"C:\\Program Files\\x.exe\""
        );
        assert!(program("a\"b").is_err());
        assert!(cmd_c("a\nb").is_err());
        assert!(schtasks_create("bad name", "x").is_err());
        assert!(schtasks_create("ok", &"x".repeat(262)).is_err());
    }

    #[test]
    fn argv0_has_no_escapes() {
        assert_eq!(parse_command_line("\"C:\\a b\\\" x"), ["C:\\a b\\", "x"]);
        assert_eq!(
            parse_command_line("C:\\x.exe \"a\"\"b\""),
            ["C:\\x.exe", "a\"b"]
        );
    }
}
