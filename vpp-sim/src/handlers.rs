//! Handlers registered by message type, and the glue between them and the wire.
//!
//! A handler is written against the generated structs of `vppapi-binapi`: it gets the decoded
//! request (owned, or a zero-copy view when it needs the raw bytes VPP reads) and returns the
//! reply, the details of a dump, or both for a cursor service:
//!
//! ```text
//! h.on::<CreateLoopback>(|model, call, req| CreateLoopbackReply { .. });
//! h.dump::<SwInterfaceDump>(|model, call, req| vec![SwInterfaceDetails { .. }]);
//! ```
//!
//! The glue decodes the request, so a handler never sees a field beyond the body: a truncated
//! request fails to decode and gets no reply (VPP drops it too). It writes the reply's header
//! (the request's `context` echoed; the frame goes to the registration named by the request's
//! `client_index`) and encodes with `encode_message`. Dumps send their details and nothing
//! more (the client's `control_ping` ends them); events a request causes follow its reply.
//!
//! Requests without a handler get [`unimplemented`]: their reply, built from the table alone.

use std::fmt::Debug;

use tracing::{debug, warn};
use vppapi_codec::{
    api_errno, decode_message, encode_message, message_len, view_message, DecodeError, Dump,
    Message, MessageInfo, Request, Wire,
};

use crate::model::Model;
use crate::server::Core;
use crate::table::MessageTable;
use crate::trace::{fields_of, Fmt};

/// Size of the socket frame header (`msgbuf_t`: q, data_len, gc_mark_timestamp).
pub const FRAME_HEADER: usize = 16;

/// Where replies go: the frames for the connection that sent the batch, and frames for other
/// registrations (replies addressed by another client's `client_index`, events).
#[derive(Debug, Default)]
pub struct Outbox {
    pub own_reg: u32,
    pub own: Vec<u8>,
    pub others: Vec<(u32, Vec<u8>)>,
}

impl Outbox {
    pub fn buf(&mut self, reg: u32) -> &mut Vec<u8> {
        if reg == self.own_reg {
            return &mut self.own;
        }
        let i = match self.others.iter().position(|(r, _)| *r == reg) {
            Some(i) => i,
            None => {
                self.others.push((reg, Vec::new()));
                self.others.len() - 1
            }
        };
        &mut self.others[i].1
    }
}

/// Appends one frame (16-byte header + `msg` encoded with its `_vl_msg_id` and header) to `buf`.
/// A message that cannot be encoded (a field the model filled wrongly) is logged and skipped.
pub fn push_frame<M: Message>(
    buf: &mut Vec<u8>,
    msg_id: u16,
    client_index: [u8; 4],
    context: u32,
    msg: &M,
) {
    let start = buf.len();
    buf.resize(start + FRAME_HEADER + message_len(msg), 0);
    match encode_message(
        msg,
        msg_id,
        client_index,
        context,
        &mut buf[start + FRAME_HEADER..],
    ) {
        Ok(n) => {
            buf.truncate(start + FRAME_HEADER + n);
            buf[start + 8..start + 12].copy_from_slice(&(n as u32).to_be_bytes());
        }
        Err(e) => {
            warn!(msg = M::NAME, "cannot encode: {e}; not sent");
            buf.truncate(start);
        }
    }
}

/// What the server does once a request's answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Then {
    Nothing,
    /// `sockclnt_delete` of the sending connection: flush, then close it.
    CloseOwn,
    /// `sockclnt_delete` of another registration: deliver, then free it.
    Free(u32),
}

/// One request being handled: where its answer goes and what it echoes.
pub struct Call<'a> {
    out: &'a mut Outbox,
    /// The simulator's message table (26.06, or with lb.api 1.2.0): the IDs of what it sends.
    table: &'static MessageTable,
    /// Registration the answer goes to (named by the request's `client_index`).
    pub reg: u32,
    /// The request's `client_index`, verbatim.
    pub client_index: [u8; 4],
    /// The request's `context`, echoed in its reply and details.
    pub context: u32,
    /// Events caused by the request: sent after its reply.
    events: Vec<(u32, Vec<u8>)>,
    /// Bytes VPP sends after the reply's encoding (see `trailing_bytes`).
    trailer: &'static [u8],
    pub(crate) then: Then,
}

impl<'a> Call<'a> {
    pub(crate) fn new(
        out: &'a mut Outbox,
        table: &'static MessageTable,
        reg: u32,
        client_index: [u8; 4],
        context: u32,
    ) -> Self {
        Call {
            out,
            table,
            reg,
            client_index,
            context,
            events: Vec::new(),
            trailer: &[],
            then: Then::Nothing,
        }
    }

    /// The registration of the connection the request came on.
    pub(crate) fn own_reg(&self) -> u32 {
        self.out.own_reg
    }

    /// Sends event `msg` to registration `reg` after the reply; `client_index` is the
    /// subscriber's (the event's header).
    pub fn event<M: Message>(&mut self, reg: u32, client_index: [u8; 4], msg: &M) {
        let Some(id) = self.table.id_of::<M>() else {
            warn!(
                msg = M::NAME_CRC,
                "event not in the message table; not sent"
            );
            return;
        };
        let mut frame = Vec::new();
        push_frame(&mut frame, id, client_index, 0, msg);
        self.events.push((reg, frame));
    }

    /// Bytes to append to the reply's body after its encoding (a VPP quirk, e.g. the NUL of a
    /// C vector): counted in the frame's `data_len`.
    pub fn trailing_bytes(&mut self, bytes: &'static [u8]) {
        self.trailer = bytes;
    }

    /// Writes a message to the requester with the request's context.
    fn send<M: Message>(&mut self, msg_id: u16, msg: &M) {
        let buf = self.out.buf(self.reg);
        let start = buf.len();
        push_frame(buf, msg_id, [0; 4], self.context, msg);
        if !self.trailer.is_empty() && buf.len() > start {
            buf.extend_from_slice(self.trailer);
            let len = (buf.len() - start - FRAME_HEADER) as u32;
            buf[start + 8..start + 12].copy_from_slice(&len.to_be_bytes());
        }
    }

    /// Sends `msg` as the answer in place of the request's own reply type (a VPP quirk: a
    /// handler that answers with another message's ID).
    pub fn reply_as<R: Message>(&mut self, msg: &R) {
        match self.table.id_of::<R>() {
            Some(id) => self.send(id, msg),
            None => warn!(msg = R::NAME_CRC, "not in the message table; not sent"),
        }
    }

    /// Writes a body built byte by byte (the generic unimplemented reply).
    fn send_raw(&mut self, body: &[u8]) {
        let buf = self.out.buf(self.reg);
        let mut h = [0u8; FRAME_HEADER];
        h[8..12].copy_from_slice(&(body.len() as u32).to_be_bytes());
        buf.extend_from_slice(&h);
        buf.extend_from_slice(body);
    }

    /// Sends the queued events; returns what the server has to do next.
    pub(crate) fn finish(self) -> Then {
        for (reg, frame) in self.events {
            self.out.buf(reg).extend_from_slice(&frame);
        }
        self.then
    }
}

/// A registered handler: decodes the request body (from `_vl_msg_id` on) and answers.
pub(crate) type Run =
    Box<dyn Fn(&mut Core, &mut Call, &[u8]) -> Result<(), DecodeError> + Send + Sync>;

/// What the server does with a request ID.
pub(crate) struct Route {
    /// The handler, if the request is modelled.
    pub run: Option<Run>,
    /// Answered to the connection it came on, whatever its `client_index` (the handshake).
    pub from_connection: bool,
}

/// The handlers by message ID.
pub(crate) struct Handlers {
    table: &'static MessageTable,
    routes: Vec<Option<Route>>,
    /// Field formatters of the modelled requests by ID (for `api trace dump`).
    fmts: Vec<Option<Fmt>>,
}

impl Handlers {
    pub(crate) fn new(table: &'static MessageTable) -> Self {
        let mut routes: Vec<Option<Route>> = Vec::with_capacity(table.len() + 1);
        routes.push(None); // ID 0 is no message
        for (_, info) in table.iter() {
            routes.push(
                (info.kind == vppapi_codec::MessageKind::Request).then_some(Route {
                    run: None,
                    from_connection: false,
                }),
            );
        }
        let fmts = vec![None; routes.len()];
        Handlers {
            table,
            routes,
            fmts,
        }
    }

    /// The field formatters by message ID.
    pub(crate) fn formatters(&self) -> Vec<Option<Fmt>> {
        self.fmts.clone()
    }

    /// The route of request `id` (`None`: not a request).
    pub(crate) fn route(&self, id: u16) -> Option<&Route> {
        self.routes.get(usize::from(id))?.as_ref()
    }

    fn id<M: Message>(&self) -> u16 {
        self.table
            .id_of::<M>()
            .unwrap_or_else(|| panic!("{} is not in the message table", M::NAME_CRC))
    }

    /// Whether message `M` is in the table (handlers of optional messages, such as lb.api
    /// 1.2.0's, are registered only then).
    pub(crate) fn has<M: Message>(&self) -> bool {
        self.table.id_of::<M>().is_some()
    }

    fn add<M: Message + Debug>(&mut self, run: Run) -> &mut Route {
        let id = self.id::<M>();
        self.fmts[usize::from(id)] = Some(fields_of::<M>);
        let route = self.routes[usize::from(id)]
            .as_mut()
            .unwrap_or_else(|| panic!("{} is not a request", M::NAME));
        assert!(route.run.is_none(), "two handlers for {}", M::NAME);
        route.run = Some(run);
        route
    }

    /// A request answered by its reply, with the whole simulator state.
    pub(crate) fn on_core<M, F>(&mut self, f: F) -> &mut Route
    where
        M: Request + Debug,
        F: Fn(&mut Core, &mut Call, M) -> M::Reply + Send + Sync + 'static,
    {
        let reply = self.id::<M::Reply>();
        self.add::<M>(Box::new(move |core, call, body| {
            let (_, req, _) = decode_message::<M>(body)?;
            let r = f(core, call, req);
            call.send(reply, &r);
            Ok(())
        }))
    }

    /// A request answered by its reply.
    pub(crate) fn on<M, F>(&mut self, f: F)
    where
        M: Request + Debug,
        F: Fn(&mut Model, &mut Call, M) -> M::Reply + Send + Sync + 'static,
    {
        self.on_core::<M, _>(move |core, call, req| f(&mut core.model, call, req));
    }

    /// A request answered by its reply, or by what the handler sent itself (`None`, e.g.
    /// with [`Call::reply_as`]).
    pub(crate) fn on_opt<M, F>(&mut self, f: F)
    where
        M: Request + Debug,
        F: Fn(&mut Model, &mut Call, M) -> Option<M::Reply> + Send + Sync + 'static,
    {
        let reply = self.id::<M::Reply>();
        self.add::<M>(Box::new(move |core, call, body| {
            let (_, req, _) = decode_message::<M>(body)?;
            if let Some(r) = f(&mut core.model, call, req) {
                call.send(reply, &r);
            }
            Ok(())
        }));
    }

    /// A request answered by its reply, handled on a zero-copy view of the request, with the
    /// whole simulator state.
    pub(crate) fn on_core_view<M, F>(&mut self, f: F) -> &mut Route
    where
        M: Request + Debug,
        F: for<'v> Fn(&mut Core, &mut Call, <M as Wire>::View<'v>) -> M::Reply
            + Send
            + Sync
            + 'static,
    {
        let reply = self.id::<M::Reply>();
        self.add::<M>(Box::new(move |core, call, body| {
            let (_, req, _) = view_message::<M>(body)?;
            let r = f(core, call, req);
            call.send(reply, &r);
            Ok(())
        }))
    }

    /// A request answered by its reply, handled on a zero-copy view of the request: for
    /// handlers that read what VPP reads (raw union bytes, strings that need not be UTF-8).
    pub(crate) fn on_view<M, F>(&mut self, f: F)
    where
        M: Request + Debug,
        F: for<'v> Fn(&mut Model, &mut Call, <M as Wire>::View<'v>) -> M::Reply
            + Send
            + Sync
            + 'static,
    {
        self.on_core_view::<M, _>(move |core, call, req| f(&mut core.model, call, req));
    }

    /// A legacy dump: its details, nothing after them (the client's `control_ping` ends it).
    pub(crate) fn dump<M, F>(&mut self, f: F)
    where
        M: Dump + Debug,
        F: Fn(&mut Model, &mut Call, M) -> Vec<M::Details> + Send + Sync + 'static,
    {
        let details = self.id::<M::Details>();
        self.add::<M>(Box::new(move |core, call, body| {
            let (_, req, _) = decode_message::<M>(body)?;
            for d in f(&mut core.model, call, req) {
                call.send(details, &d);
            }
            Ok(())
        }));
    }

    /// A legacy dump handled on a zero-copy view of the request.
    pub(crate) fn dump_view<M, F>(&mut self, f: F)
    where
        M: Dump + Debug,
        F: for<'v> Fn(&mut Model, &mut Call, <M as Wire>::View<'v>) -> Vec<M::Details>
            + Send
            + Sync
            + 'static,
    {
        let details = self.id::<M::Details>();
        self.add::<M>(Box::new(move |core, call, body| {
            let (_, req, _) = view_message::<M>(body)?;
            for d in f(&mut core.model, call, req) {
                call.send(details, &d);
            }
            Ok(())
        }));
    }

    /// A cursor service (`_get` → details, then the `_get_reply` with the next cursor).
    pub(crate) fn cursor<M, F>(&mut self, f: F)
    where
        M: Request + Dump + Debug,
        F: Fn(&mut Model, &mut Call, M) -> (Vec<<M as Dump>::Details>, M::Reply)
            + Send
            + Sync
            + 'static,
    {
        let reply = self.id::<M::Reply>();
        let details = self.id::<<M as Dump>::Details>();
        self.add::<M>(Box::new(move |core, call, body| {
            let (_, req, _) = decode_message::<M>(body)?;
            let (ds, r) = f(&mut core.model, call, req);
            for d in ds {
                call.send(details, &d);
            }
            call.send(reply, &r);
            Ok(())
        }));
    }
}

/// The answer to a request the simulator does not model, from the table alone: its reply's
/// fixed part zero-filled, the request's context at the reply's context offset and
/// `VNET_API_ERROR_UNIMPLEMENTED` (-9) at its `retval` offset. A dump gets no details.
///
/// A few replies have no `i32 retval` (plugin `*_get_version` replies, `sflow_*_get`): VPP's
/// table gives them no error field, so they go out zero-filled, as before. The two with a
/// `u32 retval` (`get_f64_*`, vlib) are answered by typed handlers instead.
pub(crate) fn unimplemented(info: &MessageInfo, call: &mut Call) {
    let table = call.table;
    let Some((id, reply)) = info
        .reply
        .and_then(|r| table.id_by_name_crc(r))
        .and_then(|id| Some((id, table.info(id)?)))
    else {
        debug!(
            name = info.name,
            "not modelled; dump answered with no details"
        );
        return;
    };
    debug!(
        name = info.name,
        "not modelled: VNET_API_ERROR_UNIMPLEMENTED"
    );
    let mut body = vec![0u8; reply.fixed_size.max(2)];
    body[..2].copy_from_slice(&id.to_be_bytes());
    if let Some(b) = reply.context_offset().and_then(|o| body.get_mut(o..o + 4)) {
        b.copy_from_slice(&call.context.to_be_bytes());
    }
    if let Some(b) = reply.retval_offset.and_then(|o| body.get_mut(o..o + 4)) {
        b.copy_from_slice(&api_errno::UNIMPLEMENTED.to_be_bytes());
    }
    call.send_raw(&body);
}

/// A fixed string `string x[n]` as VPP fills it from a longer C string (`strncpy` of n - 1
/// bytes): cut at n - 1 bytes (on a character boundary), as the encoder refuses longer ones.
pub fn fit(s: &str, n: usize) -> String {
    let mut end = s.len().min(n.saturating_sub(1));
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Bytes of a fixed or variable string as the model keeps them (VPP does not check UTF-8).
pub fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
