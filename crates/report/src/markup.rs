//! Text into HTML for the report page: prose with its web addresses made
//! links, and known-issue descriptions rendered from Markdown. Both escape
//! everything else, after [`lockstep_model::term`] removed control and bidi
//! characters (input names reach both).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let clean = lockstep_model::term::terminal_safe(s, lockstep_model::term::Lines::Keep);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where a web address ends: at white space or a character no address in
/// lockstep's texts contains; trailing punctuation belongs to the sentence.
fn url_len(s: &str) -> usize {
    let end = s
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`'))
        .unwrap_or(s.len());
    let mut url = &s[..end];
    loop {
        let trimmed = url.trim_end_matches(['.', ',', ';', ':', '!', '?']);
        let trimmed = if trimmed.ends_with(')') && !trimmed.contains('(') {
            &trimmed[..trimmed.len() - 1]
        } else {
            trimmed
        };
        if trimmed.len() == url.len() {
            break;
        }
        url = trimmed;
    }
    url.len()
}

/// Escaped text with every `http://` and `https://` address a link.
pub fn linkify(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(at) = rest.find("http") {
        let tail = &rest[at..];
        let scheme = ["https://", "http://"]
            .into_iter()
            .find(|s| tail.starts_with(s));
        let n = scheme.map_or(0, |_| url_len(tail));
        match scheme {
            Some(s) if n > s.len() => {
                out.push_str(&escape(&rest[..at]));
                let url = escape(&tail[..n]);
                out.push_str(&format!("<a href=\"{url}\">{url}</a>"));
                rest = &tail[n..];
            }
            _ => {
                out.push_str(&escape(&rest[..at + 4]));
                rest = &rest[at + 4..];
            }
        }
    }
    out.push_str(&escape(rest));
    out
}

/// Whether a Markdown link may point there: the web and mail only (a
/// user's known-issue file is input, and `javascript:` is not a link).
fn safe_destination(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:")
}

/// A known issue's Markdown as HTML: raw HTML in it is shown as text,
/// links go only to the web, headings start at `<h4>` (inside the page's
/// own sections).
pub fn markdown(md: &str) -> String {
    let clean = lockstep_model::term::terminal_safe(md, lockstep_model::term::Lines::Keep);
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut unsafe_link = false;
    let events = Parser::new_ext(&clean, options).filter_map(|e| match e {
        // Raw HTML is input: shown, never interpreted.
        Event::Html(t) | Event::InlineHtml(t) => Some(Event::Text(t)),
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Some(Event::Start(Tag::Heading {
            level: deeper(level),
            id,
            classes,
            attrs,
        })),
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(deeper(level)))),
        // The link's text stays, without the link.
        Event::Start(Tag::Link { dest_url, .. }) if !safe_destination(&dest_url) => {
            unsafe_link = true;
            None
        }
        Event::End(TagEnd::Link) if unsafe_link => {
            unsafe_link = false;
            None
        }
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        other => Some(other),
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

fn deeper(level: pulldown_cmark::HeadingLevel) -> pulldown_cmark::HeadingLevel {
    use pulldown_cmark::HeadingLevel::*;
    match level {
        H1 => H4,
        H2 => H5,
        _ => H6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_links_and_the_rest_is_escaped() {
        assert_eq!(
            linkify("See https://support.microsoft.com/help/2616676. <b>&</b>"),
            "See <a href=\"https://support.microsoft.com/help/2616676\">https://support.microsoft.com/help/2616676</a>. &lt;b&gt;&amp;&lt;/b&gt;"
        );
        assert_eq!(
            linkify("(https://learn.microsoft.com/x) http:// httpd"),
            "(<a href=\"https://learn.microsoft.com/x\">https://learn.microsoft.com/x</a>) http:// httpd"
        );
        assert_eq!(
            linkify("https://a.example/q?x=1&y=\"2\""),
            "<a href=\"https://a.example/q?x=1&amp;y=\">https://a.example/q?x=1&amp;y=</a>&quot;2&quot;"
        );
        assert_eq!(linkify("HV\u{202E}01"), "HV\u{FFFD}01");
    }

    #[test]
    fn markdown_without_raw_html_or_script_links() {
        let html = markdown(
            "# Title\n\nSome **bold** text and [a link](https://support.microsoft.com/help/1).\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1)) <img src=x onerror=y>\n\n* one\n* two\n",
        );
        assert_eq!(
            html,
            "<h4>Title</h4>\n<p>Some <strong>bold</strong> text and <a href=\"https://support.microsoft.com/help/1\">a link</a>.</p>\n&lt;script&gt;alert(1)&lt;/script&gt;\n<p>bad &lt;img src=x onerror=y&gt;</p>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        );
    }
}
