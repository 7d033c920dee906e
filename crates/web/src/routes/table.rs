//! The pages' router, built so that it can also say which routes it holds:
//! the role-matrix test walks that list, so a page added without a row in
//! the matrix fails it.

use crate::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::MethodRouter;

/// A router that remembers each (method, path) it was given.
#[derive(Default)]
pub struct Pages {
    router: Router<AppState>,
    listed: Vec<(&'static str, &'static str)>,
}

/// The handlers of one path, with the methods they answer.
pub struct Methods {
    router: MethodRouter<AppState>,
    names: Vec<&'static str>,
}

pub fn get<H, T>(handler: H) -> Methods
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Methods {
        router: axum::routing::get(handler),
        names: vec!["GET"],
    }
}

pub fn post<H, T>(handler: H) -> Methods
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Methods {
        router: axum::routing::post(handler),
        names: vec!["POST"],
    }
}

impl Methods {
    pub fn post<H, T>(mut self, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.post(handler);
        self.names.push("POST");
        self
    }

    /// A body limit of the route's own (uploads), instead of the default.
    pub fn body_limit(mut self, limit: DefaultBodyLimit) -> Self {
        self.router = self.router.layer(limit);
        self
    }
}

impl Pages {
    pub fn route(mut self, path: &'static str, methods: Methods) -> Self {
        self.listed.extend(methods.names.iter().map(|m| (*m, path)));
        self.router = self.router.route(path, methods.router);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<(&'static str, &'static str)>) {
        (self.router, self.listed)
    }
}
