//! Not Linux with glibc: the types exist, their constructors return [`ShmError::Unsupported`]
//! (the transport needs glibc's process-shared robust mutexes), and no value can ever exist.

use crate::{ClientStats, QueueState, Recv, Request, RingConfig, RingStat, SendError, ShmError};

#[derive(Debug)]
enum Never {}

/// Uninhabited on this target; see the Linux-glibc documentation.
#[derive(Debug)]
pub struct ClientSegment(Never);

/// Uninhabited on this target; see the Linux-glibc documentation.
#[derive(Debug)]
pub struct ServerSegment(Never);

#[cfg(unix)]
pub(crate) fn unsupported_io<T>(_: std::os::fd::BorrowedFd<'_>, _: usize) -> std::io::Result<T> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        ShmError::Unsupported.to_string(),
    ))
}

#[allow(missing_docs, clippy::missing_errors_doc)]
impl ClientSegment {
    #[cfg(unix)]
    pub fn attach(
        _fd: std::os::fd::OwnedFd,
        _configs: &[RingConfig],
    ) -> Result<ClientSegment, ShmError> {
        Err(ShmError::Unsupported)
    }
    pub fn vpp_base(&self) -> u64 {
        match self.0 {}
    }
    pub fn size(&self) -> u64 {
        match self.0 {}
    }
    pub fn vpp_pid(&self) -> u32 {
        match self.0 {}
    }
    pub fn own_queue_addr(&self) -> u64 {
        match self.0 {}
    }
    pub fn max_request_body(&self) -> usize {
        match self.0 {}
    }
    pub fn client_slots(&self) -> usize {
        match self.0 {}
    }
    pub fn set_client_index(&self, _raw: [u8; 4]) {
        match self.0 {}
    }
    pub fn try_send(&self, _body: &[u8], _w: std::time::Duration) -> Result<(), SendError> {
        match self.0 {}
    }
    pub fn recv_into(
        &self,
        _out: &mut bytes::BytesMut,
        _t: std::time::Duration,
    ) -> Result<Recv, ShmError> {
        match self.0 {}
    }
    pub fn try_recv_into(&self, _out: &mut bytes::BytesMut) -> Result<Recv, ShmError> {
        match self.0 {}
    }
    pub fn wake(&self) {
        match self.0 {}
    }
    pub fn vpp_alive(&self) -> bool {
        match self.0 {}
    }
    pub fn stats(&self) -> ClientStats {
        match self.0 {}
    }
}

#[allow(missing_docs)]
impl ServerSegment {
    #[cfg(unix)]
    pub fn create(
        _name: &str,
        _size: u32,
        _configs: &[RingConfig],
        _pid: u32,
    ) -> Result<(ServerSegment, std::os::fd::OwnedFd), ShmError> {
        Err(ShmError::Unsupported)
    }
    pub fn vpp_base(&self) -> u64 {
        match self.0 {}
    }
    pub fn input_pending(&self) -> bool {
        match self.0 {}
    }
    pub fn take_request(&self, _out: &mut Vec<u8>) -> Result<Option<Request>, ShmError> {
        match self.0 {}
    }
    pub fn free_request(&self, _req: &Request) {
        match self.0 {}
    }
    pub fn check_client_queue(&self, _a: u64) -> Result<(), ShmError> {
        match self.0 {}
    }
    pub fn send_to(&self, _q: u64, _b: &[u8], _t: std::time::Duration) -> Result<(), ShmError> {
        match self.0 {}
    }
    pub fn send_keepalive(&self, _q: u64, _i: [u8; 4]) -> Result<bool, ShmError> {
        match self.0 {}
    }
    pub fn heap_copy(&self, _b: &[u8]) -> Result<u64, ShmError> {
        match self.0 {}
    }
    pub fn heap_outstanding(&self) -> usize {
        match self.0 {}
    }
    pub fn queue_state(&self, _q: u64) -> Result<QueueState, ShmError> {
        match self.0 {}
    }
    pub fn ring_stats(&self) -> Vec<RingStat> {
        match self.0 {}
    }
}
