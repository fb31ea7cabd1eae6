//! Transports: how frames get to VPP and back.
//!
//! The connection ([`crate::connection`]) is one implementation of pending calls, routing by
//! context, dumps, cursor streams, events, health, reconnect, metrics and trace. Underneath
//! it, a transport connects and hands over a [`Link`](crate::connection) made of:
//!
//! * the **handshake result**: the `client_index` requests carry and VPP's message table;
//! * a **frame reader**: every transport keeps VPP's API socket, read in place by whoever
//!   waits (a caller waiting for its reply reads the socket itself, so the reply wakes it
//!   with no hop through another task); the shared-memory transport adds a receive thread
//!   that drains its queue in the segment;
//! * a **batch writer**: callers encode into one buffer; when nobody else is writing, the
//!   caller writes it to the socket itself, otherwise a writer task sends the batch;
//! * the **goodbye**: `sockclnt_delete` on the socket; on shared memory `memclnt_delete`
//!   through the segment first.
//!
//! Two transports, chosen by [`Endpoint`](crate::Endpoint):
//!
//! * `socket:PATH` ([`socket`]): VPP's API socket (`socksvr`), frames of a 16-byte header and
//!   the body. The default.
//! * `shm:PATH` (module `shm`, Linux with glibc only): the hybrid transport of
//!   VPP's `sock_init_shm`. The handshake runs on the socket, VPP sends a memfd, the client
//!   maps it (anywhere: VPP's pointers are translated), builds its own input queue in the
//!   segment and registers with `memclnt_create_v2` through it. Requests and replies then go
//!   through rings and queues in the segment; events, and messages too large for a ring,
//!   stay on the socket. Shared memory is only faster where VPP's main loop polls (a busy
//!   VPP); on an idle VPP every request through the segment waits for VPP's next epoll
//!   timeout (up to 10 ms), so the default routing is adaptive ([`crate::ShmRoute`]).
//!   **After a shared-memory client disconnects, `vppctl show memory` (no arguments)
//!   crashes VPP 26.06**: VPP unmaps the segment's heaps without unregistering them. No
//!   client can avoid it; the connection logs a warning when it connects over shared memory.

mod frame;
pub(crate) mod socket;

#[cfg(shm_transport)]
pub(crate) mod shm;

pub use frame::*;
