//! Writes a small segment built by the writer, shaped like VPP's (interfaces, symlinks, error
//! counters, gauges, every entry type, a removed entry), as a file: the fuzz seed
//! `fuzz/seeds/stats_segment/synthetic.bin` is made with it.
//!
//! `cargo run -p vppapi-stats --example stats_fixture -- OUT`

use vppapi_stats::writer::{SegmentWriter, WriterOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).ok_or("usage: stats_fixture OUT")?;
    let mut w = SegmentWriter::new(WriterOptions {
        size: 1 << 16,
        n_threads: 2,
    })?;
    w.add_scalar("/sys/heartbeat", 4)?;
    w.add_gauge("/sys/vector_rate", 185)?;
    let names = ["local0", "pg0"];
    w.add_name_vector("/if/names", &[Some(names[0]), Some(names[1])])?;
    let rx = w.add_combined_counter("/if/rx", 2)?;
    let drops = w.add_simple_counter("/if/drops", 2)?;
    w.add_combined(rx, 1, 1, 1876, 222152)?;
    w.add_simple(drops, 0, 1, 3)?;
    w.add_symlink("/interfaces/pg0/rx", rx, 1)?;
    w.add_symlink("/interfaces/pg0/drops", drops, 1)?;
    let errors = w.add_simple_counter("/node/errors", 3)?;
    w.add_symlink("/err/ip4-input/bad checksum", errors, 2)?;
    let lb = w.add_simple_counter("packet from existing sessions", 2)?;
    w.add_simple(lb, 0, 1, 320)?;
    let h = w.add_histogram_log2("/test/hist", 3, 4)?;
    w.add_simple(h, 0, 2, 5)?;
    w.add_ring_buffer("/test/ring", 16, 2)?;
    w.add_raw("/test/unknown", 42, 7)?;
    w.add_scalar("/test/removed", 1)?;
    w.remove("/test/removed")?;
    let len = w.used_len();
    let seg = w.reader()?;
    // Copy the used prefix of the memfd.
    let file = std::fs::File::from(w.fd().try_clone_to_owned()?);
    let mut data = Vec::new();
    std::io::Read::read_to_end(&mut std::io::BufReader::new(file), &mut data)?;
    data.truncate(len);
    // The prefix must read exactly like the live segment.
    let copy = vppapi_stats::StatsSegment::from_bytes(&data)?;
    assert_eq!(copy.dump(&[])?, seg.dump(&[])?);
    std::fs::write(&out, &data)?;
    println!("{out}: {} bytes", data.len());
    Ok(())
}
