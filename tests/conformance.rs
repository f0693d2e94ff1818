//! Conformance with the vendor specs: every example request in the four specs (read from
//! `../shared/seeds` at test time) gets a response of the example's shape — the same keys,
//! values of the same JSON types — or is listed as pending with the reason.

mod support;

mod conformance {
    pub mod shape;
    pub mod spec;

    mod arrigoo;
    mod chartmogul;
    mod followanalytics;
    mod primedata;

    /// Asserts the examples read from a spec are exactly the listed ones, in order, so an
    /// example nobody looked at fails the build.
    pub fn assert_listed(examples: &[spec::Example], cases: &[(&str, u16)]) {
        let read: Vec<(String, u16)> = examples
            .iter()
            .map(|example| (example.request.clone(), example.status))
            .collect();
        let listed: Vec<(String, u16)> = cases
            .iter()
            .map(|(request, status)| ((*request).to_owned(), *status))
            .collect();
        assert_eq!(read, listed);
    }

    /// Asserts a response has the documented status and the example's shape.
    pub fn assert_conforms(
        example: &spec::Example,
        response: &cdp_engine::api::Response,
        loose: shape::Loose<'_>,
    ) {
        assert_eq!(
            response.status, example.status,
            "{}: {}",
            example.request, response.body
        );
        if let Some(expected) = &example.response {
            let found = shape::mismatches(expected, &response.body_json(), loose);
            assert!(
                found.is_empty(),
                "{} ({}):\n{}\n{}",
                example.request,
                example.status,
                found.join("\n"),
                response.body
            );
        }
    }
}
