//! Hostile input values are rejected or neutralised in every emitter, and
//! the generated PowerShell parses with a real PowerShell grammar
//! (tree-sitter-powershell) with every input value inside single-quoted
//! strings only.
mod common;
use common::*;
use lockstep_model::{KbId, Node, OsInfo, SourceRef, Sourced, WinVersion};
use lockstep_plan::quote::{is_ps_single_quote, ps, xml, yaml, yaml_unsafe};
use lockstep_plan::*;
use tree_sitter::{Parser, Tree};

const HOSTILE: &[&str] = &[
    "HV01'; Remove-Item C:\\ -Recurse; '",
    "$(Stop-Computer -Force)",
    "`whoami`",
    "HV01;calc",
    "HV01\nStop-Computer",
    "HV01\r\nx",
    "HV\u{2018}01",
    "HV\u{2019}); Stop-Computer; (\u{2019}",
    "HV\u{201A}01",
    "HV\u{201B}01",
    "\"double\" quoted",
    "@'\nhere\n'@",
    "# comment",
    "<# block",
    "{{ lookup('pipe', 'id') }}",
    "]]></HotfixConfiguration>",
    "&amp; <b>",
    "HV01 ",
    "\u{0}nul",
];

fn parse(src: &str) -> Tree {
    let mut p = Parser::new();
    p.set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("grammar");
    p.parse(src, None).expect("parse")
}

fn assert_no_errors(src: &str, tree: &Tree) {
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.is_error() || n.is_missing() {
            let at = n.start_position();
            let line = src.lines().nth(at.row).unwrap_or("");
            panic!("syntax error at {}:{}: {line}", at.row + 1, at.column + 1);
        }
        let mut c = n.walk();
        for ch in n.children(&mut c) {
            stack.push(ch);
        }
    }
}

fn single_quoted(tree: &Tree) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(n) = stack.pop() {
        if n.kind() == "verbatim_string_characters" {
            out.push((n.start_byte(), n.end_byte()));
        }
        let mut c = n.walk();
        for ch in n.children(&mut c) {
            stack.push(ch);
        }
    }
    out
}

/// PowerShell's own rule for a single-quoted literal: any of ' ‘ ’ ‚ ‛
/// ends it unless doubled. True when `lit` (quotes included) is one
/// complete literal.
fn is_one_ps_literal(lit: &str) -> bool {
    let chars: Vec<char> = lit.chars().collect();
    if chars.len() < 2 || !is_ps_single_quote(chars[0]) {
        return false;
    }
    let mut i = 1;
    while i < chars.len() {
        if is_ps_single_quote(chars[i]) {
            if i + 1 < chars.len() && is_ps_single_quote(chars[i + 1]) {
                i += 2;
                continue;
            }
            return i == chars.len() - 1;
        }
        i += 1;
    }
    false
}

/// Every occurrence of every value lies inside a single-quoted literal,
/// and every single-quoted literal is closed by PowerShell's rules.
fn assert_values_only_quoted(src: &str, values: &[&str]) {
    let tree = parse(src);
    assert_no_errors(src, &tree);
    let ranges = single_quoted(&tree);
    for &(a, b) in &ranges {
        let lit = &src[a..b];
        assert!(
            is_one_ps_literal(lit),
            "not one PowerShell literal: {lit:?}"
        );
    }
    for v in values {
        for (i, _) in src.match_indices(v) {
            assert!(
                ranges.iter().any(|&(a, b)| a < i && i + v.len() < b),
                "{v:?} at byte {i} is outside a single-quoted string: {:?}",
                &src[i.saturating_sub(40)..(i + v.len() + 40).min(src.len())]
            );
        }
    }
}

fn opts() -> EmitOptions {
    EmitOptions {
        source: Some("\\\\fs\\updates".into()),
        cau_root: Some("\\\\fs\\cau".into()),
        wsus_group: Some("Hyper-V".into()),
    }
}

#[test]
fn generated_powershell_parses_and_values_are_only_in_single_quotes() {
    let p = plan_with(
        &example_cluster(),
        &PlanOptions {
            target: Target::Converge,
            ..Default::default()
        },
    );
    let script = emit(&p, Emit::Powershell, &opts()).unwrap();
    assert_values_only_quoted(
        &script,
        &["HV03", "HV04", "kb2616676", "2616676", "2607712"],
    );
    // The features the issue asks for are all there.
    for needle in [
        "[CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]",
        "$ErrorActionPreference = 'Stop'",
        "Start-Transcript -LiteralPath $LogPath",
        "Suspend-ClusterNode @ca -Name $Node -Drain -Wait",
        "Move-ClusterVirtualMachineRole @ca -Name $g.Name -Node $best",
        "Restart-Computer -ComputerName $Node -Force -Wait -For PowerShell -Timeout ($RebootTimeoutMinutes * 60)",
        "Register-ScheduledTask -TaskName $Task -Action $action -Principal $principal -Force",
        "$p = Start-Process -FilePath $schtasks -ArgumentList $line -NoNewWindow -Wait -PassThru",
        "a node the plan drains and restarts. Run it from a management host",
        "$ExcludeGroup -notcontains $g.Name",
        "$bin = $bins | Where-Object { $_.Free -ge $vm } | Select-Object -First 1",
        "Resume-ClusterNode @ca -Name $Node -Failback Immediate",
        "Invoke-Command -ComputerName $Node -ScriptBlock $WusaOnNode",
        "[string] $ResumeFrom = ''",
        "$ExitNotApplicable = -2145124329",
        "$ExitAlreadyInstalled = 2359302",
    ] {
        assert!(script.contains(needle), "missing {needle}");
    }
    let hv = snapshot_cluster("hvclu22.json");
    let k = server2022();
    let p = plan_k(
        &hv,
        &k,
        &PlanOptions {
            target: Target::Secure,
            ..Default::default()
        },
    );
    let cau = emit(&p, Emit::Cau, &opts()).unwrap();
    assert_values_only_quoted(
        &cau,
        &["HV22-01", "HV22-03", "HVCLU22", "5033118", "\\\\fs\\cau"],
    );
    let script = emit(&p, Emit::Powershell, &opts()).unwrap();
    assert_values_only_quoted(&script, &["HV22-03", "HVCLU22", "5033118"]);
    let wsus = emit(&p, Emit::Wsus, &opts()).unwrap();
    assert_values_only_quoted(&wsus, &["HV22-03", "HVCLU22", "5033118", "Hyper-V"]);
}

fn node(name: &str, version: &str, kbs: &[u32]) -> Node {
    let mut n = Node {
        name: name.to_string(),
        ..Default::default()
    };
    n.os = OsInfo {
        caption: Some(Sourced::new(
            "Microsoft Windows Server 2022 Datacenter".into(),
            SourceRef::new("t", 1),
        )),
        version: Some(Sourced::new(
            version.parse::<WinVersion>().unwrap(),
            SourceRef::new("t", 2),
        )),
        ..Default::default()
    };
    for &kb in kbs {
        n.updates.push(lockstep_model::InstalledUpdate {
            kb: KbId(kb),
            id_text: None,
            description: None,
            installed_on: None,
            installed_by: None,
            source: SourceRef::new("t", 3),
        });
    }
    n
}

#[test]
fn hostile_node_names_are_rejected_by_the_planner() {
    let k = server2022();
    for h in HOSTILE {
        let mut c = lockstep_model::Cluster {
            name: "C".into(),
            nodes: vec![
                node("HV01", "10.0.20348.2159", &[5033118]),
                node(h, "10.0.20348.2113", &[5032198]),
            ],
            ..Default::default()
        };
        c.nodes[0].name = "HV01".into();
        let drift = report_k(&c, &k);
        let err = plan_cluster(&c, &drift, &k, &PlanOptions::default()).unwrap_err();
        assert!(
            err.to_string().starts_with("invalid node name "),
            "{h:?}: {err}"
        );
        // --order with a hostile name is an unknown node, never emitted.
        let good = lockstep_model::Cluster {
            name: "C".into(),
            nodes: vec![
                node("HV01", "10.0.20348.2159", &[5033118]),
                node("HV02", "10.0.20348.2113", &[5032198]),
            ],
            ..Default::default()
        };
        let drift = report_k(&good, &k);
        let r = plan_cluster(
            &good,
            &drift,
            &k,
            &PlanOptions {
                order: Some(vec![h.to_string()]),
                ..Default::default()
            },
        );
        if h.trim() != "HV01" {
            let err = r.unwrap_err();
            assert!(
                err.to_string().starts_with("--order names "),
                "{h:?}: {err}"
            );
        }
    }
}

#[test]
fn hostile_dism_package_names_are_rejected() {
    let k = server2022();
    for h in HOSTILE {
        // HV02 has both LCUs: HV01 must remove December's to take November's.
        let mut a = node("HV01", "10.0.20348.2159", &[5033118]);
        let b = node("HV02", "10.0.20348.2159", &[5032198, 5033118]);
        a.packages = Some(vec![lockstep_model::inventory::WindowsPackage {
            name: format!("Package_for_KB5033118~{h}"),
            state: "Installed".into(),
            release_type: None,
        }]);
        let c = lockstep_model::Cluster {
            name: "C".into(),
            nodes: vec![a, b],
            state: Some(lockstep_model::ClusterState {
                witness: Some(lockstep_model::inventory::Witness {
                    kind: "CloudWitness".into(),
                    resource: None,
                    path: None,
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let drift = report_k(&c, &k);
        let err = plan_cluster(
            &c,
            &drift,
            &k,
            &PlanOptions {
                target: Target::Converge,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("invalid DISM package name "),
            "{h:?}: {err}"
        );
    }
}

#[test]
fn a_good_dism_package_name_from_the_inventory_is_used_quoted() {
    let k = server2022();
    let mut a = node("HV01", "10.0.20348.2159", &[5033118]);
    let b = node("HV02", "10.0.20348.2159", &[5032198, 5033118]);
    a.packages = Some(vec![lockstep_model::inventory::WindowsPackage {
        name: "Package_for_KB5033118~31bf3856ad364e35~amd64~~20348.2159.1.7".into(),
        state: "Installed".into(),
        release_type: Some("Update".into()),
    }]);
    let c = lockstep_model::Cluster {
        name: "C".into(),
        nodes: vec![a, b],
        state: Some(lockstep_model::ClusterState {
            witness: Some(lockstep_model::inventory::Witness {
                kind: "CloudWitness".into(),
                resource: None,
                path: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let p = plan_k(
        &c,
        &k,
        &PlanOptions {
            target: Target::Converge,
            ..Default::default()
        },
    );
    assert_eq!(p.status, PlanStatus::Ready, "{}", render_text(&p));
    let n = p.node("HV01").unwrap();
    assert!(
        matches!(&n.steps[1], Step::Uninstall { package: Some(pk), .. } if pk == "Package_for_KB5033118~31bf3856ad364e35~amd64~~20348.2159.1.7")
    );
    let script = emit(&p, Emit::Powershell, &opts()).unwrap();
    assert_values_only_quoted(
        &script,
        &[
            "Package_for_KB5033118~31bf3856ad364e35~amd64~~20348.2159.1.7",
            "HV01",
            "HV02",
        ],
    );
}

/// Values that are quoted rather than validated (the cluster label, paths,
/// the WSUS group) are inert in every emitter.
#[test]
fn hostile_quoted_values_are_neutralised_in_every_emitter() {
    let base = plan_with(
        &example_cluster(),
        &PlanOptions {
            target: Target::Converge,
            ..Default::default()
        },
    );
    let hv = snapshot_cluster("hvclu22.json");
    let install_only = plan_k(
        &hv,
        &server2022(),
        &PlanOptions {
            target: Target::Secure,
            ..Default::default()
        },
    );
    for h in HOSTILE {
        let mut p = base.clone();
        p.cluster = h.to_string();
        // A group name the admin let stay offline is a literal too.
        p.settings.allow_offline_groups = vec![h.to_string()];
        let hostile_opts = EmitOptions {
            source: Some(h.to_string()),
            cau_root: Some(h.to_string()),
            wsus_group: Some(h.to_string()),
        };
        // PowerShell: the label is one literal, the script parses.
        let script = emit(&p, Emit::Powershell, &opts()).unwrap();
        assert!(
            script.contains(&format!("$LockstepClusterLabel = {}\n", ps(h))),
            "{h:?}"
        );
        let tree = parse(&script);
        assert_no_errors(&script, &tree);
        for &(a, b) in &single_quoted(&tree) {
            assert!(
                is_one_ps_literal(&script[a..b]),
                "{h:?}: {:?}",
                &script[a..b]
            );
        }
        assert!(
            !script.contains(h) || !h.chars().any(|c| c.is_control()),
            "{h:?} pasted raw"
        );
        assert!(
            script.contains(&format!("    [string[]] $ExcludeGroup = @({}),\n", ps(h))),
            "{h:?}"
        );
        // WSUS (install-only plans): the parent group and label are literals.
        let mut wp = install_only.clone();
        wp.cluster = h.to_string();
        let wsus = emit(&wp, Emit::Wsus, &hostile_opts).unwrap();
        let tree = parse(&wsus);
        assert_no_errors(&wsus, &tree);
        for &(a, b) in &single_quoted(&tree) {
            assert!(is_one_ps_literal(&wsus[a..b]), "{h:?}: {:?}", &wsus[a..b]);
        }
        assert!(wsus.contains(&format!("[string] $ParentGroup = {},", ps(h))));
        // Ansible: paths with control characters are refused; others are
        // !unsafe double-quoted scalars on one line.
        match emit(&p, Emit::Ansible, &hostile_opts) {
            Ok(y) => {
                assert!(!h.chars().any(char::is_control), "{h:?} accepted");
                assert!(
                    y.contains(&format!("    lockstep_msu_dir: !unsafe {}\n", yaml(h))),
                    "{h:?}"
                );
                assert!(
                    y.contains(&format!(
                        "    lockstep_exclude_groups: [{}]\n",
                        yaml_unsafe(h)
                    )),
                    "{h:?}"
                );
                assert!(y.contains(&format!(
                    "- name: !unsafe {}\n",
                    yaml(&format!("Lockstep {h} (converge): HV03 (canary)"))
                )));
            }
            Err(e) => {
                assert!(h.chars().any(char::is_control), "{h:?}: {e}");
                assert!(e.to_string().starts_with("invalid --source folder"), "{e}");
            }
        }
        // XML escaping round-trips through a real parser.
        if !h.chars().any(char::is_control) {
            let doc = format!("<a v=\"{}\">{}</a>", xml(h), xml(h));
            let mut r = quick_xml::Reader::from_str(&doc);
            match r.read_event().unwrap() {
                quick_xml::events::Event::Start(e) => {
                    let v = e.try_get_attribute("v").unwrap().unwrap();
                    #[allow(deprecated)]
                    let value = v.unescape_value().unwrap();
                    assert_eq!(value, *h);
                }
                other => panic!("{other:?}"),
            }
            // The element content is well-formed too: the reader reaches </a>.
            loop {
                match r.read_event().unwrap() {
                    quick_xml::events::Event::End(e) => {
                        assert_eq!(e.name().into_inner(), "a");
                        break;
                    }
                    quick_xml::events::Event::Eof => panic!("{h:?}: no end tag"),
                    _ => {}
                }
            }
        }
    }
}

#[test]
fn hostile_cau_root_is_one_literal() {
    let hv = snapshot_cluster("hvclu22.json");
    let k = server2022();
    let p = plan_k(
        &hv,
        &k,
        &PlanOptions {
            target: Target::Secure,
            ..Default::default()
        },
    );
    for h in HOSTILE {
        let o = EmitOptions {
            cau_root: Some(h.to_string()),
            ..Default::default()
        };
        match emit(&p, Emit::Cau, &o) {
            Ok(cau) => {
                assert!(
                    cau.contains(&format!("    [string] $HotfixRoot = {},\n", ps(h))),
                    "{h:?}"
                );
                let tree = parse(&cau);
                assert_no_errors(&cau, &tree);
                for &(a, b) in &single_quoted(&tree) {
                    assert!(is_one_ps_literal(&cau[a..b]), "{h:?}: {:?}", &cau[a..b]);
                }
            }
            Err(e) => {
                assert!(h.chars().any(char::is_control), "{h:?}: {e}");
                assert!(
                    e.to_string().starts_with("invalid --cau-root folder"),
                    "{e}"
                );
            }
        }
    }
}

#[test]
fn ps_literals_close_by_powershell_rules() {
    for h in HOSTILE {
        assert!(is_one_ps_literal(&ps(h)), "{h:?} -> {}", ps(h));
    }
    // The check itself catches an undoubled Unicode quote.
    assert!(!is_one_ps_literal("'a\u{2019}b'"));
}
