//! Which knowledge a run uses (`check`, `plan`, `record`): the catalog the
//! user named (it must exist), else the default catalog when it exists, else
//! the one compiled into lockstep; the built-in known issues and rules plus
//! the user's folders. The check stage is handed the opened parts.

use crate::Global;
use lockstep_catalog::known_issues::KnownIssues;
use lockstep_catalog::{Catalog, Store, bundled};
use lockstep_check::protection::{Rules, rules};
use lockstep_check::sources::{CatalogOrigin, Sources};
use std::path::{Path, PathBuf};

/// The catalog (when there is one), the known-issues database and the
/// host-protection rules (always).
pub fn open_knowledge(global: &Global) -> anyhow::Result<Sources> {
    let known = load_known(&global.known_issues)?;
    let sources = if global.no_catalog {
        Sources::without_catalog(
            known,
            "--no-catalog: drift is classified only where the built-in known issues know the supersedence; missing security updates cannot be judged.",
        )
    } else {
        open_catalog(global.catalog.as_deref(), known)?
    };
    Ok(sources.with_rules(load_rules(&global.rules)?))
}

/// `catalog`: an explicit path (must exist), or `None` for the default path
/// (used when it exists; else the bundled catalog).
fn open_catalog(catalog: Option<&Path>, known: KnownIssues) -> anyhow::Result<Sources> {
    let (path, explicit) = match catalog {
        Some(p) => (p.to_path_buf(), true),
        None => (Catalog::default_path(), false),
    };
    if path.exists() {
        let store = Store::open(&path)
            .map_err(|e| anyhow::anyhow!("opening the catalog {}: {e}", path.display()))?;
        return Ok(Sources::from_store(&store, CatalogOrigin::File, known)?);
    }
    if explicit {
        anyhow::bail!(
            "the catalog {} does not exist: create it with `lockstep --catalog {} catalog update` or `catalog import`",
            path.display(),
            lockstep_model::quote::path_word(&path.display().to_string())
        )
    }
    // No local catalog: the one compiled into lockstep.
    let store =
        bundled::open_bundled().map_err(|e| anyhow::anyhow!("opening the bundled catalog: {e}"))?;
    Ok(Sources::from_store(&store, CatalogOrigin::Bundled, known)?)
}

/// The built-in known issues plus the user's folders, in order; a folder
/// with any error stops the run, every error listed.
fn load_known(known_dirs: &[PathBuf]) -> anyhow::Result<KnownIssues> {
    let mut known = KnownIssues::builtin();
    for dir in known_dirs {
        known.load_dir(dir).map_err(|errors| {
            anyhow::anyhow!(
                "known issues in {}:\n{}",
                dir.display(),
                errors
                    .iter()
                    .map(|e| format!("  {e}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })?;
    }
    Ok(known)
}

/// The built-in host-protection rules plus the user's folders (`--rules
/// DIR`); a user rule with a built-in id replaces it. Every file is linted;
/// any error names its file and stops the run.
fn load_rules(dirs: &[PathBuf]) -> anyhow::Result<Rules> {
    let mut all = Rules::builtin();
    for dir in dirs {
        let user = rules::lint_dir(dir).map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            anyhow::anyhow!(
                "the rules folder {} does not lint:\n  {}",
                lockstep_model::term::one_line(&dir.display().to_string()),
                lines.join("\n  ")
            )
        })?;
        for rule in user {
            all.insert(rule);
        }
    }
    Ok(all)
}

/// The stamp of the catalog a run used (the bundled one, or a file).
pub fn catalog_stamp(
    info: &lockstep_check::run::CatalogInfo,
) -> Option<Result<lockstep_history::CatalogStamp, String>> {
    use lockstep_history::CatalogStamp;
    match (&info.path, info.bundled) {
        (_, true) => Some(CatalogStamp::of_bundled()),
        (Some(p), false) => Some(CatalogStamp::of_catalog(Path::new(p))),
        (None, false) => None,
    }
}
