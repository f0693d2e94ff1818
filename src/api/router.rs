//! The router shared by every dialect: which dialect a path belongs to (at the vendor's own
//! paths and under a configured prefix), and which of a dialect's routes a request names.

use super::{ApiError, Method, Request};

/// The vendor dialects the engine answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Dialect {
    /// Arrigoo CDP: `/auth/api…`, `/v1/customer…`, `/v1/stat/…`, `/v1/segment`.
    Arrigoo,
    /// ChartMogul Enrichment: `/v1/customers…`.
    ChartMogul,
    /// PrimeData Profile: `/pub/…`.
    PrimeData,
    /// FollowAnalytics customer profiles: `/api/…`.
    FollowAnalytics,
    /// The engine's own surface: `/cdp/v1/…`.
    Cdp,
}

impl Dialect {
    /// The dialect that owns a path given relative to any prefix, by its leading segments.
    fn owning(segments: &[&str]) -> Option<Self> {
        match segments {
            ["auth", "api", ..] | ["v1", "customer" | "stat" | "segment", ..] => {
                Some(Self::Arrigoo)
            }
            ["v1", "customers", ..] => Some(Self::ChartMogul),
            ["pub", ..] => Some(Self::PrimeData),
            ["api", ..] => Some(Self::FollowAnalytics),
            ["cdp", "v1", ..] => Some(Self::Cdp),
            _ => None,
        }
    }
}

/// Where each dialect is mounted: always at its vendor's own paths, and also under a prefix
/// (`/cm`) when one is configured.
#[derive(Clone, Debug, Default)]
pub(crate) struct Mounts {
    prefixes: Vec<(Dialect, Vec<String>)>,
}

impl Mounts {
    /// Mounts `dialect` under `prefix` as well; an empty or `/` prefix adds nothing.
    pub(crate) fn with_prefix(mut self, dialect: Dialect, prefix: Option<&str>) -> Self {
        let segments: Vec<String> = prefix
            .unwrap_or_default()
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(str::to_owned)
            .collect();
        if !segments.is_empty() {
            self.prefixes.push((dialect, segments));
        }
        self
    }

    /// The dialect a request's path belongs to and the path's segments below its prefix.
    pub(crate) fn locate<'a>(&self, request: &'a Request) -> Option<(Dialect, Vec<&'a str>)> {
        let segments = request.segments();
        for (dialect, prefix) in &self.prefixes {
            let under = segments.len() > prefix.len()
                && prefix
                    .iter()
                    .zip(&segments)
                    .all(|(expected, actual)| expected == actual);
            if under {
                let rest = segments.get(prefix.len()..).unwrap_or_default().to_vec();
                if Dialect::owning(&rest) == Some(*dialect) {
                    return Some((*dialect, rest));
                }
            }
        }
        Dialect::owning(&segments).map(|dialect| (dialect, segments))
    }
}

/// One route of a dialect: a method, a path pattern whose `{name}` segments capture, and the
/// handler it names.
pub(crate) struct Route<H> {
    /// The method.
    pub(crate) method: Method,
    /// The pattern, such as `/v1/customers/{id}/attributes/tags`.
    pub(crate) pattern: &'static str,
    /// The handler.
    pub(crate) handler: H,
}

/// A matched route: its handler and the captured path segments, in order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Matched<'a, H> {
    /// The handler.
    pub(crate) handler: H,
    /// The captured segments.
    pub(crate) params: Vec<&'a str>,
}

/// Finds the first route whose pattern and method match. A path some route matches with
/// another method is [`ApiError::MethodNotAllowed`]; a path none matches is
/// [`ApiError::RouteNotFound`]. `HEAD` is served as `GET`.
pub(crate) fn find<'a, H: Copy>(
    routes: &[Route<H>],
    method: &Method,
    segments: &[&'a str],
    path: &str,
) -> Result<Matched<'a, H>, ApiError> {
    let method = match method {
        Method::Head => &Method::Get,
        other => other,
    };
    let mut path_known = false;
    for route in routes {
        let Some(params) = capture(route.pattern, segments) else {
            continue;
        };
        if &route.method == method {
            return Ok(Matched {
                handler: route.handler,
                params,
            });
        }
        path_known = true;
    }
    Err(if path_known {
        ApiError::MethodNotAllowed
    } else {
        ApiError::RouteNotFound(path.to_owned())
    })
}

fn capture<'a>(pattern: &str, segments: &[&'a str]) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = pattern.split('/').filter(|part| !part.is_empty()).collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (part, segment) in parts.iter().zip(segments) {
        if part.starts_with('{') && part.ends_with('}') {
            params.push(*segment);
        } else if part != segment {
            return None;
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Handler {
        Search,
        Get,
        AddTags,
    }

    const ROUTES: &[Route<Handler>] = &[
        Route {
            method: Method::Get,
            pattern: "/v1/customers/search",
            handler: Handler::Search,
        },
        Route {
            method: Method::Get,
            pattern: "/v1/customers/{id}",
            handler: Handler::Get,
        },
        Route {
            method: Method::Post,
            pattern: "/v1/customers/{id}/attributes/tags",
            handler: Handler::AddTags,
        },
    ];

    #[test]
    fn literal_routes_listed_first_win_over_captures() {
        let found = find(ROUTES, &Method::Get, &["v1", "customers", "search"], "/").unwrap();
        assert_eq!(found.handler, Handler::Search);
        let found = find(ROUTES, &Method::Head, &["v1", "customers", "cus_1"], "/").unwrap();
        assert_eq!((found.handler, found.params), (Handler::Get, vec!["cus_1"]));
    }

    #[test]
    fn known_path_with_other_method_is_not_allowed() {
        let segments = ["v1", "customers", "x", "attributes", "tags"];
        assert_eq!(
            find(ROUTES, &Method::Put, &segments, "/p"),
            Err(ApiError::MethodNotAllowed)
        );
        assert_eq!(
            find(ROUTES, &Method::Get, &["v1", "nope"], "/v1/nope"),
            Err(ApiError::RouteNotFound("/v1/nope".into()))
        );
    }

    #[test]
    fn dialects_are_found_at_their_paths_and_under_prefixes() {
        let mounts = Mounts::default().with_prefix(Dialect::ChartMogul, Some("/cm/"));
        let locate = |path: &str| {
            let request = Request::new(Method::Get, path);
            mounts
                .locate(&request)
                .map(|(dialect, rest)| (dialect, rest.join("/")))
        };
        assert_eq!(
            locate("/cm/v1/customers/x"),
            Some((Dialect::ChartMogul, "v1/customers/x".into()))
        );
        assert_eq!(
            locate("/v1/customers"),
            Some((Dialect::ChartMogul, "v1/customers".into()))
        );
        assert_eq!(
            locate("/v1/customer/x").map(|found| found.0),
            Some(Dialect::Arrigoo)
        );
        assert_eq!(
            locate("/pub/profiles/advanced-search").map(|found| found.0),
            Some(Dialect::PrimeData)
        );
        assert_eq!(
            locate("/api/customer_profiles").map(|found| found.0),
            Some(Dialect::FollowAnalytics)
        );
        assert_eq!(
            locate("/cm/pub/x"),
            None,
            "a prefix mounts only its dialect"
        );
        assert_eq!(
            locate("/cdp/v1/profiles").map(|found| found.0),
            Some(Dialect::Cdp)
        );
        assert_eq!(locate("/cdp/v2/profiles"), None);
        assert_eq!(locate("/elsewhere"), None);
    }
}
