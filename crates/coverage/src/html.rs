//! The HTML report's template environment: minijinja with HTML
//! auto-escaping, like the check report's (`lockstep-report`), so every value
//! from the inputs (policy names carry file paths, host ids, roles) is
//! escaped by the template engine, never by hand.

use minijinja::{AutoEscape, Environment, Value};
use serde::Serialize;

const PAGE: &str = include_str!("templates/coverage.html.j2");
const CHARTS: &str = include_str!("templates/charts.html.j2");
const NETWORK: &str = include_str!("templates/network.svg.j2");

fn environment() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    // Control characters from the inputs are shown, not passed on (the same
    // rule as the check report's).
    env.set_formatter(|out, state, value| {
        if let Some(text) = value.as_str().filter(|_| !value.is_safe()) {
            let clean =
                lockstep_model::term::terminal_safe(text, lockstep_model::term::Lines::Keep);
            if let std::borrow::Cow::Owned(clean) = clean {
                return minijinja::escape_formatter(out, state, &Value::from(clean));
            }
        }
        minijinja::escape_formatter(out, state, value)
    });
    for (name, source) in [
        ("charts.html", CHARTS),
        ("network.svg", NETWORK),
        ("coverage.html", PAGE),
    ] {
        env.add_template(name, source)
            .map_err(|e| format!("coverage template {name}: {e}"))?;
    }
    Ok(env)
}

/// Renders template `name` (`coverage.html`, `network.svg`) with `ctx`.
pub(crate) fn render(name: &str, ctx: impl Serialize) -> Result<String, String> {
    environment()?
        .get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(ctx)))
        .map_err(|e| format!("rendering the coverage report: {e:#}"))
}
