//! The gRPC status of a response, known only when its body ends: a
//! trailers-only response (most errors) carries `grpc-status` in its headers,
//! a streamed one in its trailers. [`on_end`] wraps a response so a callback
//! learns the code once the last frame has passed (or the client went away).

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use http_body::{Body, Frame, SizeHint};

/// CANCELLED: the response was dropped before it ended (the client went away).
const CANCELLED: i32 = 1;
/// UNKNOWN: the body ended without any `grpc-status` (not a gRPC answer).
const UNKNOWN: i32 = 2;

type Callback = Box<dyn FnOnce(i32) + Send>;

/// Calls `done` once with the response's gRPC status code number when its body ends.
pub fn on_end<B>(
    response: http::Response<B>,
    done: impl FnOnce(i32) + Send + 'static,
) -> http::Response<ObservedBody<B>> {
    let code = status_in(response.headers());
    response.map(|inner| ObservedBody {
        inner,
        observer: Some(Observer {
            code,
            done: Some(Box::new(done)),
        }),
    })
}

fn status_in(headers: &http::HeaderMap) -> Option<i32> {
    headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// Reports its code when dropped: at the end of the body, or early when the
/// response is abandoned.
struct Observer {
    code: Option<i32>,
    done: Option<Callback>,
}

impl Drop for Observer {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            done(self.code.unwrap_or(CANCELLED));
        }
    }
}

pin_project_lite::pin_project! {
    /// Response body that reads `grpc-status` from the trailers as they pass.
    pub struct ObservedBody<B> {
        #[pin]
        inner: B,
        observer: Option<Observer>,
    }
}

impl<B: Body> Body for ObservedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(code), Some(observer)) = (
                    frame.trailers_ref().and_then(status_in),
                    this.observer.as_mut(),
                ) {
                    observer.code = Some(code);
                }
            }
            Poll::Ready(None) => {
                if let Some(mut observer) = this.observer.take() {
                    observer.code.get_or_insert(UNKNOWN);
                }
            }
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
