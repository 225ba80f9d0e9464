//! The REST API in NGC's paths, headers and JSON field names, so that NGC tooling (ngcsdk) and
//! Arca's own CLI use the same API.

pub mod caller;
pub mod charts;
pub mod json;
pub mod keys;
pub mod models;
pub mod orgs;
pub mod repos;
pub mod routes;
pub mod search;
pub mod token;
pub mod users;
