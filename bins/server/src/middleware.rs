//! Two pieces of wiring around the web layer: the access log, and waking the
//! mail sender after a change so that its mail leaves without waiting for
//! the next poll.

use std::sync::Arc;
use std::time::Instant;

use ferry_mail::OutboxSender;
use poem::http::Method;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

/// Logs one line per request: method, path, status and duration. Never the
/// query string: links from mail carry their tokens there, and a browser
/// that follows one to this server must not put the token in the log.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AccessLog;

impl<E: Endpoint> Middleware<E> for AccessLog {
    type Output = AccessLogEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        AccessLogEndpoint(ep)
    }
}

/// The endpoint of [`AccessLog`].
#[derive(Debug)]
pub(crate) struct AccessLogEndpoint<E>(E);

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let method = req.method().clone();
        let path = req.original_uri().path().to_owned();
        let remote =
            req.remote_addr().as_socket_addr().map_or_else(|| req.remote_addr().to_string(), ToString::to_string);
        let started = Instant::now();
        let response = match self.0.call(req).await {
            Ok(response) => response.into_response(),
            Err(error) => error.into_response(),
        };
        let status = response.status().as_u16();
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if response.status().is_server_error() {
            tracing::warn!(target: "ferry_server::access", %method, %path, status, duration_ms, %remote, "request");
        } else {
            tracing::info!(target: "ferry_server::access", %method, %path, status, duration_ms, %remote, "request");
        }
        Ok(response)
    }
}

/// After a successful change (any method but GET, HEAD and OPTIONS), wakes
/// the outbox sender: use cases queue mail in the transaction they commit
/// before answering, so the mail is due by then. Wakes coalesce; a change
/// that queued nothing costs one empty pass.
#[derive(Debug, Clone)]
pub(crate) struct WakeMailSender(pub(crate) Arc<OutboxSender>);

impl<E: Endpoint> Middleware<E> for WakeMailSender {
    type Output = WakeMailSenderEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        WakeMailSenderEndpoint(ep, Arc::clone(&self.0))
    }
}

/// The endpoint of [`WakeMailSender`].
#[derive(Debug)]
pub(crate) struct WakeMailSenderEndpoint<E>(E, Arc<OutboxSender>);

impl<E: Endpoint> Endpoint for WakeMailSenderEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let response = self.0.call(req).await?.into_response();
        if changes && response.status().is_success() {
            self.1.wake();
        }
        Ok(response)
    }
}
