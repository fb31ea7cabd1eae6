//! The connection tests against the VPP 26.06 simulator, once per transport: every case in
//! `connection/cases.rs` runs over the socket and over shared memory.

mod socket {
    const SHM: bool = false;
    include!("connection/cases.rs");
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod shm {
    const SHM: bool = true;
    include!("connection/cases.rs");
}
