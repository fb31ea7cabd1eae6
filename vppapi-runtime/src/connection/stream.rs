//! Streams of details: legacy dumps (`X_dump` + `control_ping`, ended by
//! `control_ping_reply`) and cursor services (`X_get` → details + `X_get_reply`, re-issued
//! with the reply's cursor while `retval` is -165).

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

use super::session::{Pending, Session};
use crate::api_error::{ApiError, EAGAIN};
use crate::codec::{decode_message, view_message, DecodeError, Message, MessageHeader};
use crate::error::{Error, Result};
use crate::transport::msg_id;

/// How the stream ends.
pub(crate) enum StreamEnd {
    /// At `control_ping_reply` (legacy dump).
    Ping,
    /// At the `*_get_reply`; -165 re-issues `request` (a whole frame) with the cursor.
    Cursor {
        request: Vec<u8>,
        reply_name: &'static str,
        /// Offset of the request's `cursor` in `request` (the frame, socket header included).
        request_cursor: usize,
        /// Offsets of the reply's `retval` and `cursor` from `_vl_msg_id`.
        reply_retval: usize,
        reply_cursor: usize,
    },
}

/// One received details message, kept as its frame bytes: view it in place or decode it.
#[derive(Debug, Clone)]
pub struct RawMessage<M> {
    frame: Bytes,
    _m: PhantomData<fn() -> M>,
}

impl<M: Message> RawMessage<M> {
    pub(crate) fn new(frame: Bytes) -> Self {
        Self {
            frame,
            _m: PhantomData,
        }
    }
    /// The message body as received (from `_vl_msg_id` on).
    pub fn bytes(&self) -> &Bytes {
        &self.frame
    }
    /// A zero-copy view of the message.
    pub fn view(&self) -> Result<(MessageHeader, M::View<'_>), DecodeError> {
        view_message::<M>(&self.frame).map(|(h, v, _)| (h, v))
    }
    /// The owned message.
    pub fn decode(&self) -> Result<M, DecodeError> {
        decode_message::<M>(&self.frame).map(|(_, m, _)| m)
    }
}

/// Details of a dump or cursor service as a stream of raw frames; see [`DetailsStream`] for
/// the decoded form. Ends after the terminator; a timeout between two messages or a lost
/// connection is yielded as an error, then the stream ends.
pub struct RawDetailsStream<D> {
    session: Arc<Session>,
    context: u32,
    rx: mpsc::UnboundedReceiver<Bytes>,
    details_id: u16,
    end_id: u16,
    end: StreamEnd,
    request: &'static str,
    idle_timeout: Duration,
    last: Instant,
    sleep: Pin<Box<Sleep>>,
    done: bool,
    count: u64,
    _d: PhantomData<fn() -> D>,
}

impl<D: Message> RawDetailsStream<D> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        session: Arc<Session>,
        context: u32,
        rx: mpsc::UnboundedReceiver<Bytes>,
        details_id: u16,
        end_id: u16,
        end: StreamEnd,
        request: &'static str,
        idle_timeout: Duration,
    ) -> Self {
        let now = Instant::now();
        Self {
            session,
            context,
            rx,
            details_id,
            end_id,
            end,
            request,
            idle_timeout,
            last: now,
            sleep: Box::pin(tokio::time::sleep_until(now + idle_timeout)),
            done: false,
            count: 0,
            _d: PhantomData,
        }
    }

    /// Details received so far.
    pub fn received(&self) -> u64 {
        self.count
    }

    fn finish(&mut self) {
        self.done = true;
        self.session.remove_pending(self.context);
        self.rx.close();
    }

    /// Handle the terminator; `Some` to yield, `None` to keep going (cursor re-issued).
    fn on_end(&mut self, frame: &Bytes) -> Option<Option<Result<RawMessage<D>>>> {
        // Taken out while handled (finish() needs &mut self); put back to continue.
        let mut end = std::mem::replace(&mut self.end, StreamEnd::Ping);
        match &mut end {
            StreamEnd::Ping => {
                self.finish();
                Some(None)
            }
            StreamEnd::Cursor {
                request,
                reply_name,
                request_cursor,
                reply_retval,
                reply_cursor,
            } => {
                let (rv_at, c_at, rc_at) = (*reply_retval, *reply_cursor, *request_cursor);
                let retval = frame
                    .get(rv_at..rv_at + 4)
                    .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                match retval {
                    Some(0) => {
                        self.finish();
                        Some(None)
                    }
                    Some(EAGAIN) => {
                        let Some(c) = frame.get(c_at..c_at + 4) else {
                            self.finish();
                            return Some(Some(Err(Error::Usage(format!(
                                "{reply_name}: retval -165 without a cursor"
                            )))));
                        };
                        // Same context, the reply's cursor patched into the request.
                        request[rc_at..rc_at + 4].copy_from_slice(c);
                        let (tx, rx) = mpsc::unbounded_channel();
                        self.rx = rx;
                        let ok = self.session.insert_pending(
                            self.context,
                            Pending::Stream {
                                tx,
                                end_id: self.end_id,
                            },
                        ) && self.session.push_now(request).is_ok();
                        if ok {
                            self.end = end;
                            None
                        } else {
                            self.finish();
                            Some(Some(Err(Error::ConnectionLost {
                                message: self.request,
                            })))
                        }
                    }
                    Some(rv) => {
                        let name: &'static str = reply_name;
                        self.finish();
                        Some(Some(Err(Error::Api(ApiError {
                            retval: rv,
                            message: name,
                        }))))
                    }
                    None => {
                        self.finish();
                        Some(Some(Err(Error::Usage(format!(
                            "{reply_name}: reply too short for retval"
                        )))))
                    }
                }
            }
        }
    }
}

impl<D: Message> Stream for RawDetailsStream<D> {
    type Item = Result<RawMessage<D>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some(frame)) => {
                    this.last = Instant::now();
                    let id = msg_id(&frame);
                    if id == this.end_id {
                        match this.on_end(&frame) {
                            Some(item) => return Poll::Ready(item),
                            None => continue,
                        }
                    }
                    if id == this.details_id {
                        this.count += 1;
                        return Poll::Ready(Some(Ok(RawMessage::new(frame))));
                    }
                    tracing::debug!(id, "unexpected message in a details stream skipped");
                }
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(Error::ConnectionLost {
                        message: this.request,
                    })));
                }
                Poll::Pending => {
                    let deadline = this.last + this.idle_timeout;
                    if this.sleep.deadline() != deadline {
                        this.sleep.as_mut().reset(deadline);
                    }
                    if this.sleep.as_mut().poll(cx).is_ready() {
                        this.finish();
                        return Poll::Ready(Some(Err(Error::Timeout {
                            message: this.request,
                            timeout: this.idle_timeout,
                        })));
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

impl<D> Drop for RawDetailsStream<D> {
    fn drop(&mut self) {
        if !self.done {
            // Cancelled mid-stream: the rest of the details are discarded by the reader.
            self.session.remove_pending(self.context);
        }
    }
}

/// Details decoded into owned messages.
pub struct DetailsStream<D> {
    raw: RawDetailsStream<D>,
}

impl<D: Message> DetailsStream<D> {
    pub(crate) fn new(raw: RawDetailsStream<D>) -> Self {
        Self { raw }
    }
    /// The raw form (zero-copy views).
    pub fn into_raw(self) -> RawDetailsStream<D> {
        self.raw
    }
    /// Details received so far.
    pub fn received(&self) -> u64 {
        self.raw.received()
    }
}

impl<D: Message> Stream for DetailsStream<D> {
    type Item = Result<D>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let raw = Pin::new(&mut self.get_mut().raw);
        raw.poll_next(cx).map(|o| {
            o.map(|r| {
                r.and_then(|m| {
                    m.decode().map_err(|source| Error::Decode {
                        message: D::NAME,
                        source,
                    })
                })
            })
        })
    }
}
