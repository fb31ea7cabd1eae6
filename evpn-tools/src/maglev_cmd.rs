//! `maglev table`: the new-flow table VPP's lb plugin builds for a set of ASes, offline
//! (operator-tools.md §4.3, §4.4, scenario G), from the `maglev` crate. Rows and slots are in a
//! canonical order (addresses numerically, names in natural order), so the output does not
//! depend on the order of `--as` and two runs print the same bytes.

use std::net::IpAddr;

use maglev::{balance, disruption, paper_table, vpp_table, Backend, BackendId, Table, Variant};
use serde_json::json;

use crate::commands::{BadInput, Done, Failure, Global};
use crate::output::exit;

#[derive(Debug, clap::Args)]
pub struct TableArgs {
    /// A backend: `ADDRESS` or `ADDRESS:WEIGHT` (IPv6 with a weight: `[2001:db8::1]:50`); a
    /// name with `--paper`.
    /// Required unless `--compare-vip` names a VIP (then its used ASes are the default).
    #[arg(
        long = "as",
        value_name = "AS",
        required_unless_present = "compare_vip"
    )]
    pub backends: Vec<String>,
    /// Table length: a power of two for VPP (default 1024, `new_flows_table_length`), a prime
    /// for the paper (default 65537).
    #[arg(long)]
    pub size: Option<usize>,
    /// VPP 26.06's table (the default): one entry per AS, weights not supported.
    #[arg(long, conflicts_with_all = ["weighted", "paper"])]
    pub vpp: bool,
    /// VPP master's (lb.api 1.2.0) weighted table: WEIGHT replicas per AS (default 100).
    #[arg(long, conflicts_with = "paper")]
    pub weighted: bool,
    /// The Maglev paper's table (prime length, SHA-256 of the names).
    #[arg(long)]
    pub paper: bool,
    /// Another set of backends to compare with: how many slots change between the two.
    #[arg(long = "baseline", value_name = "AS")]
    pub baseline: Vec<String>,
    /// Print the first N slots (the backend of each).
    #[arg(long, default_value_t = 0)]
    pub slots: usize,
    /// Compare the bucket counts with those VPP shows for this live VIP (`show lb vips
    /// verbose`, over `--socket`): equal counts check VPP's sort and fill; exit 1 when they
    /// differ. Without `--as`, the VIP's used ASes and its table length are taken.
    #[arg(long, value_name = "PREFIX", conflicts_with = "paper")]
    pub compare_vip: Option<crate::lb::IpPrefix>,
}

/// A parsed `--as`: address (or name) and weight.
fn parse_as(s: &str, paper: bool) -> Result<(String, Option<IpAddr>, u32), BadInput> {
    if paper {
        if s.is_empty() {
            return Err(BadInput("--as: an empty backend name".into()));
        }
        return Ok((s.to_string(), None, 1));
    }
    let (addr, weight) = if let Some(rest) = s.strip_prefix('[') {
        match rest.split_once(']') {
            Some((a, "")) => (a, None),
            Some((a, w)) => (a, Some(w.strip_prefix(':').unwrap_or(w))),
            None => return Err(BadInput(format!("--as {s:?}: missing ']'"))),
        }
    } else if s.matches(':').count() == 1 {
        let (a, w) = s.split_once(':').unwrap_or((s, ""));
        (a, Some(w))
    } else {
        (s, None)
    };
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| BadInput(format!("--as {s:?}: {addr:?} is not an IP address")))?;
    let w = match weight {
        None => 100,
        Some(w) => w
            .parse::<u32>()
            .ok()
            .filter(|w| *w <= 100)
            .ok_or_else(|| BadInput(format!("--as {s:?}: the weight must be 0..=100")))?,
    };
    Ok((ip.to_string(), Some(ip), w))
}

struct Built {
    table: Table,
    weights: Vec<u32>,
}

fn build(list: &[String], a: &TableArgs, m: usize) -> Result<Built, BadInput> {
    let mut parsed = list
        .iter()
        .map(|s| parse_as(s, a.paper))
        .collect::<Result<Vec<_>, _>>()?;
    // Canonical order: the table and the output do not depend on the order of --as.
    parsed.sort_by(|x, y| match (x.1, y.1) {
        (Some(p), Some(q)) => maglev::ip46(p).cmp(&maglev::ip46(q)),
        _ => reconcile::key_cmp(&x.0, &y.0),
    });
    let weights: Vec<u32> = parsed.iter().map(|p| p.2).collect();
    let table = if a.paper {
        let names: Vec<&str> = parsed.iter().map(|p| p.0.as_str()).collect();
        paper_table(&names, m)
    } else {
        if !a.weighted && weights.iter().any(|w| *w != 100) {
            return Err(BadInput(
                "weights need --weighted: VPP 26.06 (lb.api 1.1.0) has no AS weights".into(),
            ));
        }
        let b: Vec<Backend> = parsed
            .iter()
            .map(|p| Backend::new(p.1.expect("parsed as an address"), p.2))
            .collect();
        let v = if a.weighted {
            Variant::VppWeighted
        } else {
            Variant::Vpp2606
        };
        vpp_table(&b, m, v)
    }
    .map_err(|e| {
        BadInput(format!(
            "{e}{}",
            if a.paper {
                " (--paper needs a prime --size)"
            } else {
                " (VPP needs a power-of-two --size)"
            }
        ))
    })?;
    Ok(Built { table, weights })
}

/// VPP's view of a VIP for `--compare-vip`: table length and (AS, buckets, weight) of the
/// used ASes (the weight only where VPP prints one: lb.api 1.2.0).
async fn vpp_counts(
    g: &Global,
    p: &crate::lb::IpPrefix,
) -> Result<(usize, Vec<(IpAddr, u32, Option<u8>)>), Failure> {
    let mut vpp = crate::commands::connect(g, &g.socket).await?;
    let r = crate::lb::read::read(&mut vpp).await?;
    vpp.conn.close().await;
    let live: Vec<_> = r.live().filter(|v| v.prefix == *p).collect();
    let v = match live.as_slice() {
        [v] => *v,
        [] => return Err(Failure::Error(format!("no live VIP {p} in VPP"))),
        _ => {
            return Err(Failure::Error(format!(
                "{p} has {} live VIPs (one per protocol/port); their tables are alike only if \
                 their ASes are: compare one by giving --as",
                live.len()
            )))
        }
    };
    let counts = v
        .ases
        .iter()
        .filter(|a| a.used)
        .map(|a| (a.address, a.buckets, a.weight))
        .collect();
    Ok((v.new_size as usize, counts))
}

pub async fn table(g: &Global, mut a: TableArgs) -> Result<Done, Failure> {
    let vpp_view = match &a.compare_vip {
        Some(p) => Some(vpp_counts(g, p).await?),
        None => None,
    };
    if let Some((size, counts)) = &vpp_view {
        if a.backends.is_empty() {
            // VPP prints weights (lb.api 1.2.0): its table is the weighted one.
            let weighted = counts.iter().any(|c| c.2.is_some());
            a.weighted |= weighted;
            a.backends = counts
                .iter()
                .map(|(ip, _, w)| match (w, ip) {
                    (Some(w), IpAddr::V6(_)) => format!("[{ip}]:{w}"),
                    (Some(w), IpAddr::V4(_)) => format!("{ip}:{w}"),
                    (None, _) => ip.to_string(),
                })
                .collect();
        }
        a.size = a.size.or(Some(*size));
    }
    let m = a.size.unwrap_or(if a.paper { 65537 } else { 1024 });
    let t = build(&a.backends, &a, m)?;
    let buckets = t.table.buckets_per_backend();
    let n_live = t.table.entries.iter().filter(|e| **e > 0).count();
    let variant = if a.paper {
        "paper"
    } else if a.weighted {
        "vpp-weighted"
    } else {
        "vpp-26.06"
    };
    let base = if a.baseline.is_empty() {
        None
    } else {
        Some(build(&a.baseline, &a, m)?)
    };
    let changed = base.as_ref().map(|b| disruption(&b.table, &t.table));
    let id = |i: &BackendId| i.to_string();
    let rows: Vec<_> = t
        .table
        .ids
        .iter()
        .zip(&buckets)
        .zip(&t.weights)
        .map(|((i, b), w)| json!({"as": id(i), "weight": w, "buckets": b}))
        .collect();
    let slots: Vec<String> = (0..a.slots.min(m))
        .map(|s| t.table.backend_at(s).map(id).unwrap_or_else(|| "-".into()))
        .collect();
    let warn = (!a.paper && n_live > 0 && m < 100 * n_live).then(|| {
        format!(
            "{m} slots for {n_live} ASes: fewer than 100 per AS makes changes disruptive (operator-tools.md §4.4)"
        )
    });
    // --compare-vip: VPP's count per AS next to ours.
    let comparison = vpp_view.as_ref().map(|(_, counts)| {
        let ours: Vec<(String, u64)> = rows
            .iter()
            .map(|r| {
                (
                    r["as"].as_str().unwrap_or("").to_string(),
                    r["buckets"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        let mut equal = ours.len() == counts.len();
        let per_as: Vec<_> = ours
            .iter()
            .map(|(a, b)| {
                let v = counts
                    .iter()
                    .find(|(ip, _, _)| ip.to_string() == *a)
                    .map(|(_, n, _)| u64::from(*n));
                equal &= v == Some(*b);
                json!({"as": a, "computed": b, "vpp": v})
            })
            .collect();
        (equal, per_as)
    });
    if g.json {
        let mut doc = json!({
            "variant": variant, "size": m, "backends": rows,
            "balance": balance(&t.table), "empty_slots": t.table.empty_slots(),
        });
        if let Some(c) = changed {
            doc["changed_vs_baseline"] = json!(c);
        }
        if !slots.is_empty() {
            doc["slots"] = json!(slots);
        }
        if let Some(w) = &warn {
            doc["warning"] = json!(w);
        }
        if let Some((equal, per_as)) = &comparison {
            doc["compare_vip"] = json!({"equal": equal, "ases": per_as});
        }
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        println!("{variant} table, {m} slots, {} backends", rows.len());
        for r in &rows {
            println!(
                "  {:40} weight {:>3}  {:>7} buckets",
                r["as"].as_str().unwrap_or(""),
                r["weight"],
                r["buckets"]
            );
        }
        println!("balance (max/avg): {:.4}", balance(&t.table));
        if let Some(c) = changed {
            println!("changed against the baseline: {:.2} % of slots", c * 100.0);
        }
        if !slots.is_empty() {
            println!("slots 0..{}: {}", slots.len(), slots.join(" "));
        }
        if let Some(w) = &warn {
            println!("warning: {w}");
        }
        if let Some((equal, per_as)) = &comparison {
            println!(
                "VPP's buckets for this VIP: {}",
                if *equal { "EQUAL" } else { "DIFFERENT" }
            );
            for r in per_as {
                println!(
                    "  {:40} computed {:>7}  vpp {}",
                    r["as"].as_str().unwrap_or(""),
                    r["computed"],
                    r["vpp"]
                );
            }
        }
    }
    Ok(Done::Printed(match comparison {
        Some((false, _)) => exit::ERROR,
        _ => exit::CONVERGED,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_syntax() {
        assert_eq!(parse_as("2001:db8::1", false).unwrap().2, 100);
        assert_eq!(parse_as("[2001:db8::1]:50", false).unwrap().2, 50);
        assert_eq!(parse_as("192.0.2.1:7", false).unwrap().2, 7);
        assert!(parse_as("192.0.2.1:101", false).is_err());
        assert!(parse_as("be0", false).is_err());
        assert_eq!(parse_as("be0", true).unwrap().0, "be0");
    }
}
