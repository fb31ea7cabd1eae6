//! sock_init_shm encoding and checks, the fd passing, the message table.

use vppapi_shm::*;

mod common;
use common::fixture_configs;

#[test]
fn supported_on_linux_gnu() {
    assert_eq!(
        SUPPORTED,
        cfg!(all(target_os = "linux", target_env = "gnu"))
    );
}

#[test]
fn sock_init_shm_layout() {
    let mut b = vec![];
    let cfg = [RingConfig {
        kind: RingKind::Client,
        count: 32,
        size: 256,
    }];
    encode_sock_init_shm(&mut b, 19, [0x80, 0, 0, 1], 0x102, 64 << 20, &cfg);
    // spec 1.2/1.3: ids BE, size and configs host order (LE here)
    assert_eq!(
        b,
        [0, 19, 0x80, 0, 0, 1, 0, 0, 1, 2, 0, 0, 0, 4, 1, 1, 0, 0x20, 0, 0, 1, 0, 0]
    );
    let p = parse_sock_init_shm(&b).unwrap();
    assert_eq!(p.configs, cfg);
    // short bodies: VPP sends no reply
    assert!(matches!(
        parse_sock_init_shm(&b[..b.len() - 1]),
        Err(ShmError::BadMessage(_))
    ));
    assert!(parse_sock_init_shm(&b[..14]).is_err());
    let mut bad = b.clone();
    bad[15] = 9;
    assert!(matches!(
        parse_sock_init_shm(&bad),
        Err(ShmError::BadConfig(_))
    ));
    // round trip of every default
    for cfg in [default_configs(), vpp_default_configs(), vec![]] {
        let mut b = vec![];
        encode_sock_init_shm(&mut b, 19, [1, 2, 3, 4], 7, DEFAULT_SEGMENT_SIZE, &cfg);
        assert_eq!(b.len(), 15 + 8 * cfg.len());
        let p = parse_sock_init_shm(&b).unwrap();
        assert_eq!(
            (p.client_index, p.context, p.requested_size, p.configs),
            ([1, 2, 3, 4], 7, DEFAULT_SEGMENT_SIZE, cfg)
        );
    }
}

#[test]
fn check_configs_refuses_the_crash_cases() {
    let ok = fixture_configs();
    check_configs(64 << 20, &ok).unwrap();
    check_configs(64 << 20, &default_configs()).unwrap();
    check_configs(16 << 20, &[]).unwrap();
    assert!(matches!(check_configs(0, &ok), Err(ShmError::NoSize)));
    // 64 MiB sent big-endian reads as 4 on x86
    let e = check_configs((64u32 << 20).swap_bytes(), &ok).unwrap_err();
    assert!(
        matches!(&e, ShmError::WouldCrashVpp(m) if m.contains("byte-swapped")),
        "{e}"
    );
    let e = check_configs(64 << 10, &ok).unwrap_err();
    assert!(
        matches!(&e, ShmError::WouldCrashVpp(m) if m.contains("below")),
        "{e}"
    );
    let without = |k| {
        ok.iter()
            .copied()
            .filter(|c| c.kind != k)
            .collect::<Vec<_>>()
    };
    for k in [RingKind::Queue, RingKind::Vlib, RingKind::Client] {
        let e = check_configs(64 << 20, &without(k)).unwrap_err();
        assert!(matches!(e, ShmError::WouldCrashVpp(_)), "without {k}: {e}");
    }
    let mut c = ok.clone();
    c[1].count = 0;
    assert!(matches!(
        check_configs(64 << 20, &c),
        Err(ShmError::WouldCrashVpp(_))
    ));
    let mut c = ok.clone();
    c[6].count = 0;
    assert!(matches!(
        check_configs(64 << 20, &c),
        Err(ShmError::WouldCrashVpp(_))
    ));
    let mut c = ok.clone();
    c[2].size = 65512; // + 24 = 65536
    assert!(matches!(
        check_configs(64 << 20, &c),
        Err(ShmError::WouldCrashVpp(_))
    ));
    c[2].size = 65504; // the largest: slot 65528
    check_configs(64 << 20, &c).unwrap();
    let mut c = ok.clone();
    c[6].size = 4;
    let e = check_configs(64 << 20, &c).unwrap_err();
    assert!(e.to_string().contains("must be 8"), "{e}");
    let mut c = ok.clone();
    c[0].size = 100;
    assert!(matches!(
        check_configs(64 << 20, &c),
        Err(ShmError::BadConfig(_))
    ));
    let many = vec![ok[0]; 256];
    assert!(matches!(
        check_configs(64 << 20, &many),
        Err(ShmError::BadConfig(_))
    ));
}

#[test]
fn message_table_encoding() {
    let names: Vec<String> = (0..300)
        .map(|i| format!("m{i}_{}", "x".repeat(i % 200)))
        .collect();
    let entries: Vec<(u16, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| ((i * 97) as u16, n.as_str()))
        .collect();
    let b = serialize_message_table(&entries);
    assert_eq!(&b[..4], &300u32.to_be_bytes());
    let back = parse_message_table(&b).unwrap();
    assert_eq!(back.len(), 300);
    assert!(back
        .iter()
        .zip(&entries)
        .all(|(a, b)| a.0 == b.0 && a.1 == b.1));
    // 1-byte and 2-byte likely-small forms
    assert_eq!(
        serialize_message_table(&[(1, "ab")]),
        [0, 0, 0, 1, 3, 5, b'a', b'b']
    );
    assert_eq!(
        &serialize_message_table(&[(649, "")])[4..],
        &[0x26, 0x08, 1]
    );
    assert!(parse_message_table(&[0xff, 0xff, 0xff, 0xff]).is_err());
    let mut trailing = b.clone();
    trailing.push(0);
    assert!(parse_message_table(&trailing).is_err());
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn fd_passing_over_a_unix_stream() {
    use std::io::{Read, Write};
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    let (mut vpp, client) = UnixStream::pair().unwrap();
    let (_srv, memfd) = ServerSegment::create("fdtest", 4 << 20, &[], 1).unwrap();
    // the 16 + 10 byte sock_init_shm_reply frame, then the fd message
    let mut frame = vec![0u8; 16];
    frame[8..12].copy_from_slice(&10u32.to_be_bytes());
    frame.extend_from_slice(&[0, 20, 0, 0, 1, 2, 0, 0, 0, 0]);
    assert_eq!(frame.len(), 26);
    vpp.write_all(&frame).unwrap();
    assert_eq!(send_with_fd(vpp.as_fd(), FDMSG, memfd.as_fd()).unwrap(), 5);

    client.set_nonblocking(true).unwrap();
    let mut got = vec![];
    let mut fd = None;
    let mut buf = [0u8; 64];
    while got.len() < 31 {
        match recv_with_fd(client.as_fd(), &mut buf) {
            Ok((0, _)) => panic!("EOF"),
            Ok((n, f)) => {
                got.extend_from_slice(&buf[..n]);
                if f.is_some() {
                    assert!(fd.is_none(), "one fd");
                    fd = f;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(1))
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(&got[..26], &frame[..]);
    assert_eq!(&got[26..], FDMSG);
    let fd = fd.expect("the memfd arrived with the fdmsg");
    // it is the segment: attach works through it
    let c = ClientSegment::attach(fd, &[]).unwrap();
    assert_eq!(c.size(), 4 << 20);
    // nothing left: WouldBlock surfaces as such
    let e = recv_with_fd(client.as_fd(), &mut buf).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);

    // a plain read of the fd message loses the fd (spec 1.6): recv_with_fd does not
    let (_srv2, memfd2) = ServerSegment::create("fdtest2", 4 << 20, &[], 1).unwrap();
    send_with_fd(vpp.as_fd(), FDMSG, memfd2.as_fd()).unwrap();
    client.set_nonblocking(false).unwrap();
    let mut c2 = &client;
    let mut five = [0u8; 5];
    c2.read_exact(&mut five).unwrap();
    assert_eq!(&five, FDMSG);
}
