//! A writer thread keeps changing the segment (adding and removing entries, moving vectors,
//! bumping counters) while reader threads read it: no panic, no torn or inconsistent values.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vppapi_stats::writer::{SegmentWriter, WriterOptions};
use vppapi_stats::{ReadOptions, StatValue, StatsSegment};

const THREADS: usize = 2;
const RUN: Duration = Duration::from_millis(1500);

fn dyn_len(n: u64) -> usize {
    (n % 50) as usize + 1
}

fn run_writer(mut w: SegmentWriter, stop: Arc<AtomicBool>) -> u64 {
    let names = w.index_of("/if/names").unwrap();
    let rx = w.index_of("/if/rx").unwrap();
    let drops = w.index_of("/if/drops").unwrap();
    let mono = w.index_of("/mono").unwrap();
    let mut n_if = 4usize;
    let mut live = std::collections::VecDeque::new();
    let start = Instant::now();
    let mut k: u64 = 1;
    while start.elapsed() < RUN {
        // Lock-free bumps, like VPP workers: high and low halves equal, increasing.
        for t in 0..THREADS {
            for o in 0..4 {
                w.set_simple(mono, t, o, (k << 32) | k).unwrap();
            }
        }
        // Pairs updated under the lock: a consistent snapshot sees bytes == 64 * packets.
        w.update(|w| {
            for t in 0..THREADS {
                for i in 0..n_if {
                    w.set_combined(rx, t, i, k, 64 * k)?;
                }
            }
            Ok(())
        })
        .unwrap();
        // New entries whose content encodes their name, with a symlink into them.
        let idx = w
            .add_simple_counter(&format!("/dyn/{k}"), dyn_len(k))
            .unwrap();
        for t in 0..THREADS {
            for o in 0..dyn_len(k) {
                w.set_simple(idx, t, o, k).unwrap();
            }
        }
        w.add_symlink(&format!("/dyn/{k}/link"), idx, 0).unwrap();
        live.push_back(k);
        if live.len() > 20 {
            let old = live.pop_front().unwrap();
            w.remove(&format!("/dyn/{old}")).unwrap();
        }
        // Now and then a new interface: names and counters grow (and move) in one update.
        if k % 16 == 0 && n_if < 400 {
            w.update(|w| {
                w.set_name(names, n_if, Some(&format!("if{n_if}")))?;
                w.resize_counter(rx, n_if + 1)?;
                w.resize_counter(drops, n_if + 1)?;
                for t in 0..THREADS {
                    w.set_combined(rx, t, n_if, k, 64 * k)?;
                }
                Ok(())
            })
            .unwrap();
            n_if += 1;
        }
        k += 1;
        // Like VPP, change the structure often but not back to back: an optimistic reader
        // cannot finish while every attempt overlaps an update (it then fails with Busy).
        std::thread::sleep(Duration::from_micros(300));
    }
    stop.store(true, Ordering::Relaxed);
    k
}

fn check_snapshot(seg: &StatsSegment, last_mono: &mut [u64]) -> usize {
    let mut checks = 0;
    // Dynamic entries: content matches the name, symlinks resolve to the right data.
    for e in seg.dump(&["^/dyn/"]).unwrap() {
        let parts: Vec<&str> = e.name.split('/').collect();
        let n: u64 = parts[2].parse().unwrap();
        match (&e.value, parts.len()) {
            (StatValue::Simple(c), 3) => {
                assert_eq!(c.n_threads(), THREADS, "{}", e.name);
                for t in &c.values {
                    assert_eq!(t.len(), dyn_len(n), "{}", e.name);
                    assert!(t.iter().all(|v| *v == n || *v == 0), "{}: {t:?}", e.name);
                }
            }
            (StatValue::SimpleColumn(c), 4) => {
                assert!(c.iter().all(|v| *v == n || *v == 0), "{}: {c:?}", e.name)
            }
            other => panic!("unexpected {other:?}"),
        }
        checks += 1;
    }
    // Interfaces: names and counter vectors grow together; pairs are never torn.
    let ifs = seg.interface_counters().unwrap();
    let rx = &ifs.combined.iter().find(|(n, _)| *n == "rx").unwrap().1;
    let drops = &ifs.simple.iter().find(|(n, _)| *n == "drops").unwrap().1;
    assert_eq!(ifs.names.len(), rx.n_objects());
    assert_eq!(ifs.names.len(), drops.n_objects());
    for t in &rx.values {
        assert_eq!(t.len(), ifs.names.len());
        for c in t {
            assert_eq!(c.bytes, 64 * c.packets, "torn combined counter {c:?}");
        }
    }
    for (i, n) in ifs.names.iter().enumerate().skip(4) {
        assert_eq!(n.as_deref(), Some(format!("if{i}").as_str()));
    }
    // Lock-free counters: never torn, never going back.
    let StatValue::Simple(m) = seg.read("/mono").unwrap() else {
        panic!()
    };
    for (t, vals) in m.values.iter().enumerate() {
        for (o, v) in vals.iter().enumerate() {
            assert_eq!(v >> 32, v & 0xffff_ffff, "torn u64 {v:#x}");
            let last = &mut last_mono[t * 4 + o];
            assert!(*v >= *last, "counter went back: {v} < {last}");
            *last = *v;
        }
    }
    checks + 1
}

#[test]
fn readers_survive_a_busy_writer() {
    let mut w = SegmentWriter::new(WriterOptions {
        size: 16 << 20,
        n_threads: THREADS,
    })
    .unwrap();
    w.add_name_vector(
        "/if/names",
        &[Some("local0"), Some("pg0"), None, Some("pg1")],
    )
    .unwrap();
    w.add_combined_counter("/if/rx", 4).unwrap();
    w.add_simple_counter("/if/drops", 4).unwrap();
    w.add_simple_counter("/mono", 4).unwrap();
    let opts = ReadOptions {
        busy_timeout: Duration::from_secs(10),
    };
    let readers: Vec<StatsSegment> = (0..2)
        .map(|_| w.reader().unwrap().with_options(opts.clone()))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || run_writer(w, stop))
    };
    let handles: Vec<_> = readers
        .into_iter()
        .map(|seg| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut last = vec![0u64; THREADS * 4];
                let mut checks = 0;
                let mut rounds = 0;
                let mut h = seg.prepare("/mono").unwrap();
                while !stop.load(Ordering::Relaxed) {
                    checks += check_snapshot(&seg, &mut last);
                    assert!(matches!(
                        seg.read_handle(&mut h).unwrap(),
                        StatValue::Simple(_)
                    ));
                    rounds += 1;
                }
                (rounds, checks, seg.retries())
            })
        })
        .collect();
    let started = Instant::now();
    let steps = writer.join().unwrap();
    let mut retries = 0;
    for h in handles {
        let (rounds, checks, r) = h.join().unwrap();
        eprintln!(
            "reader: {rounds} rounds, {checks} checked values, {r} retried attempts; writer: {steps} steps"
        );
        assert!(rounds > 0);
        retries += r;
    }
    // The readers really raced the writer (attempts overlapping an update were retried).
    assert!(retries > 0);
    assert!(steps > 20, "writer made {steps} steps");
    assert!(started.elapsed() < Duration::from_secs(60));
}
