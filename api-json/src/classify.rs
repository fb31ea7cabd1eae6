//! Message and service classification (wire doc 1.5, 2.5, 4.7-4.9).
//!
//! A message's kind comes from the services that mention it (request, reply, details, event);
//! its header from its leading fields. Services are classified by shape. Whether a service was
//! written in a `service { }` block or generated implicitly by vppapigen cannot be read from the
//! JSON (which lists both alike): [`ServiceOrigin`] says only what the shape proves.

use crate::layout::Layout;
use crate::model::Service;

/// What a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    /// Sent by the client (a service's request).
    Request,
    /// The single answer to a request (incl. `_get_reply` of cursor services and `want_*_reply`).
    Reply,
    /// One record of a stream (legacy dump or cursor `_get`).
    Details,
    /// Sent by VPP unsolicited, after a `want_*` registration.
    Event,
    /// Mentioned by no service of the tree.
    Other,
}

impl MessageKind {
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Request => "request",
            MessageKind::Reply => "reply",
            MessageKind::Details => "details",
            MessageKind::Event => "event",
            MessageKind::Other => "other",
        }
    }
}

/// A message's role in one service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// It is the request of the service keyed by this message (itself).
    Request,
    /// It is the reply of the service whose request is named.
    Reply { request: String },
    /// It is the streamed details message of the service whose request is named.
    Details { request: String },
    /// It is an event registered by the service whose request is named.
    Event { request: String },
}

/// Where the conventional header fields sit (wire doc 2.5). Offsets from the start of the
/// message (`_vl_msg_id` is at 0).
///
/// Only fields 1 and 2 (right after `_vl_msg_id`) count as header, as in VAPI's rule: e.g.
/// `control_ping_reply` has a `client_index` at 10 that VPP never sets, and it is not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    pub client_index: Option<u32>,
    pub context: Option<u32>,
    /// Events carry `client_index` + `pid` instead of a context.
    pub pid: Option<u32>,
}

impl Header {
    /// From a message layout: u32 fields named `client_index`/`context`/`pid` among fields 1..=2.
    pub fn of(layout: &Layout) -> Header {
        let mut h = Header::default();
        for f in layout.fields.iter().skip(1).take(2) {
            if f.ty != "u32" {
                continue;
            }
            match f.name.as_str() {
                "client_index" => h.client_index = Some(f.offset),
                "context" => h.context = Some(f.offset),
                "pid" => h.pid = Some(f.offset),
                _ => {}
            }
        }
        h
    }

    /// A short description: `client_index@2 context@6`, `context@2`, `none`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(o) = self.client_index {
            parts.push(format!("client_index@{o}"));
        }
        if let Some(o) = self.context {
            parts.push(format!("context@{o}"));
        }
        if let Some(o) = self.pid {
            parts.push(format!("pid@{o}"));
        }
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(" ")
        }
    }
}

/// The shape of a service (wire doc 1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    /// `rpc a returns a_reply;`
    RequestReply,
    /// `rpc a returns null;`: no answer at all.
    NullReply,
    /// `rpc a_dump returns stream a_details;`: N details, ended by a `control_ping_reply`.
    Dump,
    /// `rpc a_get returns a_get_reply stream a_details;`: details then the reply with a cursor.
    Cursor,
    /// `rpc want_x returns want_x_reply events x_event;`
    Events,
}

impl ServiceKind {
    pub fn of(s: &Service) -> ServiceKind {
        if s.events.is_some() {
            ServiceKind::Events
        } else if s.stream_msg.is_some() {
            ServiceKind::Cursor
        } else if s.stream {
            ServiceKind::Dump
        } else if s.reply.is_none() {
            ServiceKind::NullReply
        } else {
            ServiceKind::RequestReply
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::RequestReply => "request/reply",
            ServiceKind::NullReply => "no reply",
            ServiceKind::Dump => "dump/details",
            ServiceKind::Cursor => "cursor get/details",
            ServiceKind::Events => "events",
        }
    }
}

/// What the JSON proves about how a service was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceOrigin {
    /// The service has a shape vppapigen never generates implicitly (null reply, events,
    /// `stream_msg`, or a reply not named `<request>_reply` / `<x>_details` for `<x>_dump`), so it
    /// was written in a `service { }` block.
    Explicit,
    /// The service is exactly what vppapigen's implicit rule would generate
    /// (`x` -> `x_reply`, or `x_dump` -> stream `x_details`). It may have been declared
    /// explicitly all the same; the JSON does not say which.
    MatchesImplicitRule,
}

impl ServiceOrigin {
    pub fn of(s: &Service) -> ServiceOrigin {
        if s.events.is_some() || s.stream_msg.is_some() {
            return ServiceOrigin::Explicit;
        }
        let Some(reply) = &s.reply else {
            return ServiceOrigin::Explicit;
        };
        let implicit = if let Some(base) = s.request.strip_suffix("_dump") {
            s.stream && reply.strip_suffix("_details") == Some(base)
        } else {
            !s.stream && reply.strip_suffix("_reply") == Some(s.request.as_str())
        };
        if implicit {
            ServiceOrigin::MatchesImplicitRule
        } else {
            ServiceOrigin::Explicit
        }
    }
}

/// Roles of every message a service mentions: `(message, role)`.
pub fn service_roles(s: &Service) -> Vec<(String, Role)> {
    let mut out = vec![(s.request.clone(), Role::Request)];
    let req = || s.request.clone();
    match ServiceKind::of(s) {
        ServiceKind::Dump => {
            if let Some(r) = &s.reply {
                out.push((r.clone(), Role::Details { request: req() }));
            }
        }
        _ => {
            if let Some(r) = &s.reply {
                out.push((r.clone(), Role::Reply { request: req() }));
            }
        }
    }
    if let Some(d) = &s.stream_msg {
        out.push((d.clone(), Role::Details { request: req() }));
    }
    for e in s.events.iter().flatten() {
        out.push((e.clone(), Role::Event { request: req() }));
    }
    out
}

/// A message's kind from its roles: request first, then reply, details, event.
pub fn kind_of(roles: &[Role]) -> MessageKind {
    let has = |f: fn(&Role) -> bool| roles.iter().any(f);
    if has(|r| matches!(r, Role::Request)) {
        MessageKind::Request
    } else if has(|r| matches!(r, Role::Reply { .. })) {
        MessageKind::Reply
    } else if has(|r| matches!(r, Role::Details { .. })) {
        MessageKind::Details
    } else if has(|r| matches!(r, Role::Event { .. })) {
        MessageKind::Event
    } else {
        MessageKind::Other
    }
}
