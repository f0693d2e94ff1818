//! Reading the example requests and responses out of the four vendor specs in
//! `../shared/seeds`, as they are written (markdown fences, curl commands, plain text).

use std::path::PathBuf;

use serde_json::Value as Json;

/// One documented example: the request and, when the spec shows one, the response.
#[derive(Clone, Debug)]
pub struct Example {
    /// `METHOD target` as the spec writes it, placeholders included.
    pub request: String,
    /// The request body, when the spec gives one.
    pub body: Option<String>,
    /// The documented status.
    pub status: u16,
    /// The documented response body, cleaned of the spec's ellipses.
    pub response: Option<Json>,
}

impl Example {
    /// The method.
    pub fn method(&self) -> &str {
        self.request.split_whitespace().next().unwrap_or_default()
    }

    /// The target (path and query).
    pub fn target(&self) -> &str {
        self.request.split_whitespace().nth(1).unwrap_or_default()
    }
}

/// The folder holding the specs: `shared/seeds` beside the repository (or beside one of its
/// ancestors, for work trees), or `CDP_SEEDS_DIR`.
pub fn seeds_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CDP_SEEDS_DIR") {
        return PathBuf::from(dir);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .skip(1)
        .map(|dir| dir.join("shared").join("seeds"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "no shared/seeds beside {} or its ancestors",
                manifest.display()
            )
        })
}

/// The text of one spec file.
pub fn read(name: &str) -> String {
    let path = seeds_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Parses an example body the way a reader would: `{...49 more entries...}` and `...`
/// placeholders dropped, the trailing commas they leave removed, and brackets the spec
/// forgot to close closed.
pub fn parse_json(text: &str) -> Json {
    let mut cleaned = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{...") {
        cleaned.push_str(rest.get(..start).unwrap_or_default());
        let end = rest
            .get(start..)
            .and_then(|tail| tail.find('}'))
            .map_or(rest.len(), |end| start + end + 1);
        rest = rest.get(end..).unwrap_or_default();
    }
    cleaned.push_str(rest);
    let lines: Vec<&str> = cleaned
        .lines()
        .filter(|line| !matches!(line.trim(), "..." | "...,"))
        .collect();
    let joined = lines.join("\n");
    let mut output = String::new();
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for character in joined.chars() {
        if in_string {
            output.push(character);
            match (escaped, character) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match character {
            '"' => in_string = true,
            '{' => stack.push('}'),
            '[' => stack.push(']'),
            '}' | ']' => {
                let trimmed = output.trim_end().len();
                if output
                    .get(..trimmed)
                    .is_some_and(|head| head.ends_with(','))
                {
                    output.truncate(trimmed - 1);
                }
                stack.pop();
            }
            _ => {}
        }
        output.push(character);
    }
    while let Some(closer) = stack.pop() {
        output.push(closer);
    }
    serde_json::from_str(&output)
        .unwrap_or_else(|error| panic!("example is not JSON ({error}):\n{output}"))
}

/// The bracketed JSON text starting at the first `{` at or after `from`.
pub fn braced_from(text: &str, from: usize) -> &str {
    let start = text
        .get(from..)
        .and_then(|tail| tail.find('{'))
        .map_or(text.len(), |at| from + at);
    let mut depth = 0i32;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, character) in text.get(start..).unwrap_or_default().char_indices() {
        if in_string {
            match (escaped, character) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match character {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth -= 1;
                if depth == 0 {
                    return text.get(start..=start + offset).unwrap_or_default();
                }
            }
            _ => {}
        }
    }
    text.get(start..).unwrap_or_default()
}

/// Fenced blocks of a markdown file: (language, content, the prose before the fence).
pub fn fences(markdown: &str) -> Vec<(String, String, String)> {
    let mut blocks = Vec::new();
    let mut prose = String::new();
    let mut open: Option<(String, String)> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        match open.take() {
            Some((language, mut content)) => {
                if trimmed.starts_with("```") {
                    blocks.push((language, content, std::mem::take(&mut prose)));
                } else {
                    content.push_str(line);
                    content.push('\n');
                    open = Some((language, content));
                }
            }
            None => {
                if let Some(after) = trimmed.strip_prefix("```") {
                    if after.trim_end().ends_with("```") {
                        prose.push_str(line);
                        prose.push('\n');
                    } else {
                        open = Some((after.trim().to_lowercase(), String::new()));
                    }
                } else {
                    prose.push_str(line);
                    prose.push('\n');
                }
            }
        }
    }
    blocks
}

/// Arrigoo's examples: `bash` fences name the request (with `Body:`), `json` fences after
/// "Payload" are request bodies and other `json` fences responses.
pub fn arrigoo() -> Vec<Example> {
    let mut examples = Vec::new();
    let mut current: Option<Example> = None;
    for (language, content, prose) in fences(&read("arrigoo-cdp-api.md")) {
        match language.as_str() {
            "bash" => {
                let mut lines = content.lines();
                let request = lines.next().unwrap_or_default().trim().to_owned();
                let body = content.lines().find_map(|line| {
                    line.trim()
                        .strip_prefix("Body:")
                        .map(|body| body.trim().to_owned())
                });
                if let Some(previous) = current.take() {
                    if previous.body.is_some() {
                        examples.push(previous);
                    }
                }
                current = Some(Example {
                    request,
                    body,
                    status: 200,
                    response: None,
                });
            }
            "json" if prose.contains("Payload") => {
                if let Some(example) = current.as_mut() {
                    example.body = Some(content);
                }
            }
            "json" => {
                if let Some(mut example) = current.take() {
                    example.response = Some(parse_json(&content));
                    examples.push(example);
                }
            }
            _ => {}
        }
    }
    examples.extend(current.filter(|example| example.body.is_some()));
    examples
}

/// ChartMogul's examples: each `CURL` fence (method, URL, `-d` body) and the `JSON` fence
/// after it.
pub fn chartmogul() -> Vec<Example> {
    let mut examples = Vec::new();
    let mut current: Option<Example> = None;
    for (language, content, _) in fences(&read("chartmogul-enrichment-api.md")) {
        match language.as_str() {
            "curl" => {
                let command = content.replace("\\\n", " ");
                let method = command
                    .split("-X ")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .unwrap_or_default();
                let url = command.split('"').nth(1).unwrap_or_default();
                let target = url.find("/v1/").and_then(|at| url.get(at..)).unwrap_or(url);
                let body = command
                    .split("-d '")
                    .nth(1)
                    .and_then(|rest| rest.split('\'').next())
                    .map(str::to_owned);
                current = Some(Example {
                    request: format!("{method} {target}"),
                    body,
                    status: 200,
                    response: None,
                });
            }
            "json" => {
                if let Some(mut example) = current.take() {
                    example.response = Some(parse_json(&content));
                    examples.push(example);
                }
            }
            _ => {}
        }
    }
    examples
}

/// PrimeData's examples. The spec gives responses and error bodies but no request bodies;
/// the requests here are built from its parameter tables' example column (with the phone
/// number quoted, as `[0123456789]` is not JSON).
pub fn primedata() -> Vec<Example> {
    let text = read("primedata-profile-api.md");
    let after = |marker: &str| {
        text.find(marker)
            .map(|at| at + marker.len())
            .unwrap_or_else(|| panic!("no `{marker}`"))
    };
    let profile = braced_from(&text, after("Format response dữ liệu như sau:"));
    let events = move_misplaced_cursor(braced_from(&text, after("Format dữ liệu như sau:")));
    let unauthorized = braced_from(&text, after("401 Unauthorized\n"));
    let bad_request = braced_from(&text, after("400 Bad Request\n"));
    let search = r#"{"identities": {"phone_number": ["0123456789"]}, "type": ["trait", "ptrait", "identity"]}"#;
    vec![
        Example {
            request: "POST /pub/profiles/advanced-search".into(),
            body: Some(search.into()),
            status: 200,
            response: Some(parse_json(profile)),
        },
        Example {
            request: "POST /pub/events/advanced-search".into(),
            body: Some(r#"{"identities": {"phone_number": ["0123456789"]}, "include": ["OrderCompleted", "OrderCreated"], "sort": "asc", "limit": 12}"#.into()),
            status: 200,
            response: Some(parse_json(&events)),
        },
        Example {
            request: "POST /pub/profiles/advanced-search".into(),
            body: Some(search.into()),
            status: 401,
            response: Some(parse_json(unauthorized)),
        },
        Example {
            request: "POST /pub/profiles/advanced-search".into(),
            body: Some(r#"{"identities": {"phone_numdber": ["0123456789"]}}"#.into()),
            status: 400,
            response: Some(parse_json(bad_request)),
        },
    ]
}

/// The events example puts `"cursor"` inside the `data` array; the English rendering says
/// it is meant as a sibling of `data`, where this moves it.
fn move_misplaced_cursor(text: &str) -> String {
    let Some(start) = text.find("\"cursor\"") else {
        return text.to_owned();
    };
    let cursor = braced_from(text, start);
    let cursor_end = text
        .get(start..)
        .and_then(|tail| tail.find(cursor))
        .map_or(start, |at| start + at + cursor.len());
    let member = format!("\"cursor\": {cursor}");
    let before = text
        .get(..start)
        .unwrap_or_default()
        .trim_end()
        .trim_end_matches(',');
    let after = text.get(cursor_end..).unwrap_or_default();
    let mut moved = format!("{before}{after}");
    if let Some(last) = moved.rfind('}') {
        moved.insert_str(last, &format!(",\n{member}\n"));
    }
    moved
}

/// FollowAnalytics' examples: a line `METHOD /api/…` names the request, the JSON after an
/// `Example` line is its body, and each `Status: NNN` line is followed by a response.
pub fn followanalytics() -> Vec<Example> {
    let text = read("followanalytics-customer-profiles-api.txt");
    let lines: Vec<&str> = text.lines().collect();
    let json_after = |from: usize| -> String {
        lines
            .iter()
            .skip(from + 1)
            .skip_while(|line| line.trim().is_empty())
            .take_while(|line| !line.trim().is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut examples = Vec::new();
    let mut request = String::new();
    let mut body = None;
    for (at, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        let is_request = ["GET /api/", "POST /api/", "PUT /api/", "DELETE /api/"]
            .iter()
            .any(|start| trimmed.starts_with(start));
        if is_request {
            request = trimmed.to_owned();
            body = None;
        } else if trimmed == "Example" {
            body = Some(json_after(at));
        } else if let Some(status) = trimmed.strip_prefix("Status:") {
            let status = status
                .split_whitespace()
                .next()
                .and_then(|code| code.parse().ok())
                .unwrap_or(0);
            examples.push(Example {
                request: request.clone(),
                body: body.clone(),
                status,
                response: Some(parse_json(&json_after(at))),
            });
        }
    }
    examples
}
