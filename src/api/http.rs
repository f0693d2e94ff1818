//! The engine's own view of an HTTP exchange, independent of `fetch`, Node or any server.

use serde_json::Value as Json;

/// An HTTP method.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Method {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// OPTIONS
    Options,
    /// Any other method, upper-cased.
    Other(String),
}

impl Method {
    /// Parses a method name, case-insensitively.
    pub fn parse(name: &str) -> Self {
        match name.to_ascii_uppercase().as_str() {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            "OPTIONS" => Self::Options,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One request: method, decoded path, decoded query pairs, headers with lower-case names, and
/// the body as text.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The percent-decoded path, starting with `/`.
    pub path: String,
    /// Query parameters in order, percent-decoded (`+` is a space).
    pub query: Vec<(String, String)>,
    /// Headers with lower-case names.
    pub headers: Vec<(String, String)>,
    /// The body text (empty when there is none).
    pub body: String,
    /// The path's non-empty segments, each percent-decoded on its own, so that an escaped
    /// `/` (`%2F`) stays inside its segment.
    segments: Vec<String>,
}

impl Request {
    /// A request for `target` (a path with an optional `?query`) with no headers and no body.
    pub fn new(method: Method, target: &str) -> Self {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let query = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode_component(name, true), decode_component(value, true))
            })
            .collect();
        let segments = path
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(|segment| decode_component(segment, false))
            .collect();
        Self {
            method,
            path: decode_component(path, false),
            segments,
            query,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// Adds a header; the name is stored lower-cased.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// The first value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The path's non-empty segments, each decoded on its own: `/a%2Fb/c` is `["a/b", "c"]`.
    pub fn segments(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }
}

/// One response: status, headers and a text body.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// Headers with lower-case names.
    pub headers: Vec<(String, String)>,
    /// The body text.
    pub body: String,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, body: &Json) -> Self {
        // Written into bytes: `Display` goes through a formatter a write at a time. A JSON
        // value always serializes; the fallback only keeps this free of a panic path.
        let text = serde_json::to_string(body).unwrap_or_else(|_| body.to_string());
        Self::json_text(status, text)
    }

    /// A JSON response whose body is written already.
    pub fn json_text(status: u16, body: String) -> Self {
        Self {
            status,
            headers: vec![(
                "content-type".to_owned(),
                "application/json; charset=utf-8".to_owned(),
            )],
            body,
        }
    }

    /// Adds a header; the name is stored lower-cased.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// The first value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn body_json(&self) -> Json {
        serde_json::from_str(&self.body).unwrap_or(Json::Null)
    }
}

/// Percent-decodes one URL component; in queries `+` also stands for a space. Invalid escapes
/// are kept as they are, and invalid UTF-8 is replaced rather than rejected.
fn decode_component(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut position = 0;
    while let Some(&byte) = bytes.get(position) {
        let escaped = match (byte, bytes.get(position + 1), bytes.get(position + 2)) {
            (b'%', Some(&high), Some(&low)) => hex_value(high)
                .zip(hex_value(low))
                .map(|(high, low)| high << 4 | low),
            _ => None,
        };
        match escaped {
            Some(value) => {
                decoded.push(value);
                position += 3;
            }
            None => {
                decoded.push(if plus_is_space && byte == b'+' {
                    b' '
                } else {
                    byte
                });
                position += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_is_split_into_decoded_path_and_query() {
        let request = Request::new(
            Method::Get,
            "/v1/customers/search?email=a%40b.c&q=two+words&flag&bad=%zz",
        );
        assert_eq!(request.path, "/v1/customers/search");
        assert_eq!(request.query("email"), Some("a@b.c"));
        assert_eq!(request.query("q"), Some("two words"));
        assert_eq!(request.query("flag"), Some(""));
        assert_eq!(request.query("bad"), Some("%zz"));
        assert_eq!(request.segments(), ["v1", "customers", "search"]);
    }

    #[test]
    fn an_escaped_slash_stays_inside_its_segment() {
        let request = Request::new(Method::Get, "/api/customer_profiles/a%2Fb//50%25?x=1");
        assert_eq!(
            request.segments(),
            ["api", "customer_profiles", "a/b", "50%"]
        );
        assert_eq!(request.path, "/api/customer_profiles/a/b//50%");
    }

    #[test]
    fn headers_are_found_by_lower_case_name() {
        let request =
            Request::new(Method::parse("get"), "/").with_header("Authorization", "Bearer x");
        assert_eq!(request.method, Method::Get);
        assert_eq!(request.header("authorization"), Some("Bearer x"));
    }
}
