//! The stats socket: the writer serves its memfd like VPP, the client receives and maps it, and
//! re-connects when "VPP" restarts with a new segment.

use std::time::Duration;

use vppapi_stats::writer::{SegmentWriter, WriterOptions};
use vppapi_stats::{Client, ClientOptions, ReadOptions, StatValue, StatsError};

fn segment(heartbeat: u64, names: &[Option<&str>]) -> SegmentWriter {
    let mut w = SegmentWriter::new(WriterOptions {
        size: 1 << 20,
        n_threads: 1,
    })
    .unwrap();
    w.add_scalar("/sys/heartbeat", heartbeat).unwrap();
    w.add_name_vector("/if/names", names).unwrap();
    w.add_combined_counter("/if/rx", names.len()).unwrap();
    w
}

#[test]
fn connect_read_and_reconnect_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stats.sock");

    let mut w1 = segment(1, &[Some("local0"), Some("pg0")]);
    let rx = w1.index_of("/if/rx").unwrap();
    w1.set_combined(rx, 0, 1, 5, 500).unwrap();
    let server = w1.serve(&path).unwrap();

    let mut client = Client::with_options(ClientOptions {
        socket_path: path.clone(),
        restart_check_interval: Some(Duration::ZERO),
        ..Default::default()
    })
    .unwrap();
    // The server counts a connection after its sendmsg returns, which can be just after the
    // client already has the fd: wait (bounded) for the count.
    let t0 = std::time::Instant::now();
    while server.served() < 1 && t0.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(server.served(), 1);
    assert_eq!(client.read("/sys/heartbeat").unwrap(), StatValue::Scalar(1));
    assert_eq!(client.interface_by_name("pg0").unwrap().rx().bytes, 500);
    let mut hb = client.prepare("/sys/heartbeat").unwrap();
    // Live view: the writer's changes show up without re-connecting.
    let hb_index = w1.index_of("/sys/heartbeat").unwrap();
    w1.set_value(hb_index, 2).unwrap();
    assert_eq!(client.read_handle(&mut hb).unwrap(), StatValue::Scalar(2));
    // An explicit reconnect to the same segment keeps the mapping.
    assert!(!client.reconnect().unwrap());
    assert_eq!(client.reconnects(), 0);

    // "VPP" goes away: the old segment stays readable, no error.
    drop(server);
    drop(w1);
    assert!(!path.exists());
    assert_eq!(client.read("/sys/heartbeat").unwrap(), StatValue::Scalar(2));

    // "VPP" restarts with a new segment and different entries at other indices.
    let mut w2 = segment(100, &[Some("local0"), Some("pg0"), Some("pg1")]);
    w2.add_gauge("/sys/new", 7).unwrap();
    let _server2 = w2.serve(&path).unwrap();
    assert_eq!(
        client.read("/sys/heartbeat").unwrap(),
        StatValue::Scalar(100)
    );
    assert_eq!(client.reconnects(), 1);
    assert_eq!(client.read("/sys/new").unwrap(), StatValue::Gauge(7));
    assert_eq!(client.interface_counters().unwrap().names.len(), 3);
    // The prepared handle re-resolves on the new segment.
    assert_eq!(client.read_handle(&mut hb).unwrap(), StatValue::Scalar(100));
}

#[test]
fn busy_segment_triggers_a_restart_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stats.sock");
    let mut w1 = segment(1, &[Some("local0")]);
    let server = w1.serve(&path).unwrap();
    let mut client = Client::with_options(ClientOptions {
        socket_path: path.clone(),
        read: ReadOptions {
            busy_timeout: Duration::from_millis(50),
        },
        // No periodic check: only the Busy error leads to the new segment.
        restart_check_interval: None,
        ..Default::default()
    })
    .unwrap();
    // VPP "dies" holding the lock.
    w1.wedge();
    assert!(matches!(
        client.read("/sys/heartbeat"),
        Err(StatsError::Busy { .. })
    ));
    drop(server);
    let w2 = segment(9, &[Some("local0")]);
    let _s2 = w2.serve(&path).unwrap();
    assert_eq!(client.read("/sys/heartbeat").unwrap(), StatValue::Scalar(9));
    assert_eq!(client.reconnects(), 1);
}

#[test]
fn connect_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.sock");
    let e = Client::connect(&path).unwrap_err();
    assert!(matches!(e, StatsError::Socket { .. }));
    assert!(e.to_string().contains("none.sock"), "{e}");
    // A plain file is no stats segment server either.
    std::fs::write(&path, b"x").unwrap();
    assert!(Client::connect(&path).is_err());
}
