//! The manual (README.md, docs/) against the product: every relative link and anchor resolves, the
//! configuration table names exactly the settings the code has, the API reference lists exactly the
//! registered methods with their parameters, and the README's first requests answer `SUCCESS` from a
//! real `serve --demo`.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pages of the manual: README.md, bench/RESULTS.md and every page in docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md"), root().join("bench/RESULTS.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// A page's headings' anchors and its links.
fn read(page: &Path) -> (BTreeSet<String>, Vec<String>) {
    let text = std::fs::read_to_string(page).unwrap();
    let (mut anchors, mut links) = (BTreeSet::new(), Vec::new());
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(&text, Options::all()) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) => {
                anchors.insert(slug(&heading.take().unwrap_or_default()));
            }
            Event::Text(t) | Event::Code(t) if heading.is_some() => heading.as_mut().unwrap().push_str(&t),
            Event::Start(Tag::Link { dest_url, .. }) | Event::Start(Tag::Image { dest_url, .. }) => {
                links.push(dest_url.to_string())
            }
            _ => {}
        }
    }
    (anchors, links)
}

#[test]
fn every_relative_link_and_anchor_of_the_manual_resolves() {
    let read_pages: HashMap<PathBuf, (BTreeSet<String>, Vec<String>)> =
        pages().into_iter().map(|p| (p.canonicalize().unwrap(), read(&p))).collect();
    let mut broken = Vec::new();
    let mut checked = 0;
    for (page, (_, links)) in &read_pages {
        for link in links {
            if link.starts_with("http://") || link.starts_with("https://") || link.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = link.split_once('#').map_or((link.as_str(), None), |(p, a)| (p, Some(a)));
            let target = if path.is_empty() { page.clone() } else { page.parent().unwrap().join(path) };
            let Ok(target) = target.canonicalize() else {
                broken.push(format!("{}: {link} (no such file)", page.display()));
                continue;
            };
            assert!(target.starts_with(root().canonicalize().unwrap()), "{link} leaves the repository");
            if let Some(anchor) = anchor {
                let anchors = read_pages.get(&target).map(|(a, _)| a.clone()).unwrap_or_default();
                if !anchors.contains(anchor) {
                    broken.push(format!("{}: {link} (no heading #{anchor})", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked > 40, "only {checked} relative links were found");
}

#[test]
fn the_readme_is_short_and_the_manual_speaks_of_the_product_only() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.lines().count() <= 250, "README.md has {} lines", readme.lines().count());
    let first_commands: Vec<&str> =
        readme.lines().filter(|l| l.starts_with("cargo run") || l.starts_with("scripts/")).collect();
    assert_eq!(first_commands[..2], ["cargo run -- serve --demo", "scripts/test.sh"]);
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for word in ["SPEC.md", "../shared", "SPEC §", "issue 1", "issue 2", "previous stop", "work session"]
        {
            assert!(!text.contains(word), "{} mentions {word:?}", page.display());
        }
    }
}

/// The settings' dotted names, from their serialized defaults (a map's keys are names; anything else,
/// `null` included, is a value).
fn setting_names(value: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                setting_names(v, &name, out);
            }
        }
        _ => {
            out.insert(prefix.to_string());
        }
    }
}

/// The names the configuration table lists: its first column, where "`a.b` / `c`" names `a.b` and `a.c`
/// and `<platform>` stands for each platform with a connector.
fn table_names(page: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join(page)).unwrap();
    let section = text.split("## Configuration").nth(1).unwrap().split("\n## ").next().unwrap();
    let mut names = BTreeSet::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cell = row.split('|').nth(1).unwrap();
        let parts: Vec<&str> = cell.split('/').map(|p| p.trim().trim_matches('`')).collect();
        let prefix = parts[0].rsplit_once('.').map_or("", |(p, _)| p).to_string();
        for part in &parts {
            let full = if part.contains('.') || prefix.is_empty() {
                part.to_string()
            } else {
                format!("{prefix}.{part}")
            };
            for platform in ["telegram", "whatsapp"] {
                names.insert(full.replace("<platform>", platform));
            }
        }
    }
    names
}

#[test]
fn the_configuration_table_names_every_setting_of_the_code_and_no_other() {
    let defaults = serde_json::to_value(chatgate::config::Settings::default()).unwrap();
    let mut code = BTreeSet::new();
    setting_names(&defaults, "", &mut code);
    let table = table_names("docs/operating.md");
    let missing: Vec<_> = code.difference(&table).collect();
    let unknown: Vec<_> = table.difference(&code).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "not in the table: {missing:?}\nnot in the code: {unknown:?}"
    );
}

#[test]
fn the_api_reference_lists_every_registered_method_with_its_parameters_and_scope() {
    use chatgate::domain::operation::Operation;
    let text = std::fs::read_to_string(root().join("docs/api.md")).unwrap();
    let rows: HashMap<String, Vec<String>> = text
        .lines()
        .filter(|l| l.starts_with("| chat ") || l.starts_with("| webhook "))
        .map(|l| {
            let cells: Vec<String> = l.split('|').map(|c| c.trim().to_string()).collect();
            (cells[2].trim_matches('`').to_string(), cells)
        })
        .collect();
    assert_eq!(rows.len(), Operation::ALL.len(), "one row per method");
    for op in Operation::ALL {
        let row = rows.get(op.method()).unwrap_or_else(|| panic!("{} is not in docs/api.md", op.method()));
        assert_eq!(row[1], op.class(), "{}", op.method());
        assert_eq!(row[3].trim_matches('`'), op.scope().as_str(), "{}", op.method());
        // The parameters, without what parentheses say of them.
        let mut names = String::new();
        let mut depth = 0;
        for c in row[4].chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                c if depth == 0 => names.push(c),
                _ => {}
            }
        }
        let listed: BTreeSet<String> = names
            .split(',')
            .map(|p| p.trim().trim_matches('*').split(' ').next().unwrap_or("").to_string())
            .filter(|p| !p.is_empty() && p != "—")
            .collect();
        let registered: BTreeSet<String> = op.spec().params.iter().map(|p| p.name.to_string()).collect();
        assert_eq!(listed, registered, "{}'s parameters", op.method());
    }
}

/// The README's first requests, run as a newcomer would against a real `serve --demo`: each of the four
/// doors answers `SUCCESS`.
#[tokio::test]
async fn the_readmes_first_requests_answer_success_from_serve_demo() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_database_url(dir.path()).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = tokio::process::Command::new(crate::helpers::binary())
        .args(["serve", "--demo"])
        .env("CHATGATE_DATABASE_URL", &db)
        .env("CHATGATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("CHATGATE_SECRETS__KEY_FILE", dir.path().join("chatgate.key"))
        .env("CHATGATE_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut password = None;
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(p) = line.trim().strip_prefix("password:") {
            password = Some(p.trim().to_string());
            break;
        }
    }
    let password = password.expect("serve --demo prints the password");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let base = format!("http://127.0.0.1:{port}");
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme.split("## A first message through each door").nth(1).unwrap();
    let block = section.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    let script: Vec<String> = block
        .lines()
        .map(|l| match l {
            l if l.starts_with("PW=") => format!("PW='{password}'"),
            l if l.starts_with("B=") => format!("B={base}"),
            l => l.to_string(),
        })
        .collect();
    assert!(script.iter().any(|l| l.starts_with("B=http://127.0.0.1:")), "the block names the server");
    let out = tokio::process::Command::new("sh").arg("-c").arg(script.join("\n")).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("SUCCESS").count(), 4, "one SUCCESS per door: {stdout}");
    assert!(!stdout.contains("ERROR") && !stdout.contains("Fault"), "{stdout}");
}
