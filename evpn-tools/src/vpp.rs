//! The tool's side of VPP: one connection, every message sent through [`Vpp::call`] (recorded
//! for `--dry-run` and the JSON plan, traced with `--trace`), capability checks by `name_crc`,
//! and one read of the whole L2 state ([`Snapshot`]) that the descriptors share.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Instant, SystemTime};

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{json, Value as Json};
use vppapi_binapi::interface::{SwInterfaceDetails, SwInterfaceDump};
use vppapi_binapi::ip::{IpAddressDump, SwInterfaceIp6GetLinkLocalAddress};
use vppapi_binapi::l2::{BridgeDomainDetails, BridgeDomainDump, L2FibTableDetails, L2FibTableDump};
use vppapi_binapi::lcp::LcpItfPairGet;
use vppapi_binapi::vxlan::{VxlanTunnelV2Details, VxlanTunnelV2Dump};
use vppapi_runtime::codec::{Dump, Reflect, Request, Value};
use vppapi_runtime::{Address, Connection, Error as RtError, InterfaceIndex, Message};

use crate::mac::Mac;
use crate::model::IfAddr;

/// An error of one operation: the message, VPP's answer, or the transport.
#[derive(Debug, thiserror::Error)]
pub enum VppError {
    #[error("{message} failed: {retval} ({name})")]
    Retval {
        message: &'static str,
        retval: i32,
        name: &'static str,
    },
    #[error("{message}: {source}")]
    Transport {
        message: &'static str,
        #[source]
        source: RtError,
    },
    #[error("{0}")]
    Other(String),
}

impl VppError {
    /// VPP's retval, when VPP answered with an error.
    pub fn retval(&self) -> Option<i32> {
        match self {
            VppError::Retval { retval, .. } => Some(*retval),
            _ => None,
        }
    }
}

/// One mutating message: sent, or (with `--dry-run`) that would be sent.
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    /// The key of the operation that sent it (None for a step outside the engine, e.g. GARP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub message: &'static str,
    pub args: Json,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retval: Option<i32>,
}

/// An interface as `sw_interface_dump` shows it.
#[derive(Debug, Clone)]
pub struct IfInfo {
    pub sw_if_index: u32,
    pub name: String,
    pub dev_type: String,
    pub mac: Mac,
    pub admin_up: bool,
    pub mtu: u32,
    pub tag: String,
}

/// Everything the eVPN descriptors read, in one round of dumps.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub ifs: Vec<IfInfo>,
    pub bds: Vec<BridgeDomainDetails>,
    pub l2fib: Vec<L2FibTableDetails>,
    pub vxlan: Vec<VxlanTunnelV2Details>,
    /// Per loopback (sw_if_index): global addresses and the link-local.
    pub l3: HashMap<u32, (Vec<IfAddr>, Option<Ipv6Addr>)>,
    /// linux-cp pairs: VPP interface (sw_if_index) -> host interface name.
    pub lcp: HashMap<u32, String>,
    /// sw_if_index -> position in `ifs` (lookups per BD member and L2FIB entry stay O(1)).
    by_sw: HashMap<u32, usize>,
}

impl Snapshot {
    pub fn by_index(&self, sw: u32) -> Option<&IfInfo> {
        self.by_sw.get(&sw).map(|&i| &self.ifs[i])
    }
    pub fn by_name(&self, name: &str) -> Option<&IfInfo> {
        self.ifs.iter().find(|i| i.name == name)
    }
    /// The name of an interface index, or `sw_if_index<N>` for one the dump did not show.
    pub fn name_of(&self, sw: u32) -> String {
        self.by_index(sw)
            .map(|i| i.name.clone())
            .unwrap_or_else(|| format!("sw_if_index{sw}"))
    }
}

/// Options of a session with VPP.
#[derive(Debug, Clone, Default)]
pub struct VppOptions {
    /// Record mutating messages instead of sending them.
    pub dry_run: bool,
    /// Every request and reply as a JSON line on stderr.
    pub trace: bool,
}

/// See [`Vpp::on_api`].
pub type ApiHook = std::sync::Arc<dyn Fn(&'static str, &'static str, bool) + Send + Sync>;

/// One VPP, as the tool talks to it.
pub struct Vpp {
    pub conn: Connection,
    pub opts: VppOptions,
    /// Mutating messages, in order.
    pub sent: Vec<Sent>,
    /// The key of the operation running now.
    pub current_key: Option<String>,
    snapshot: Option<Snapshot>,
    /// Interface name -> sw_if_index, kept up to date as operations create and delete.
    pub names: BTreeMap<String, u32>,
    /// Current MAC per interface name (kept up to date by operations).
    pub macs: HashMap<String, Mac>,
    /// Interfaces this plan deletes: their addresses, MAC, link-local and admin state go with
    /// them, so those deletes send nothing.
    pub doomed: HashSet<String>,
    /// Interfaces with a linux-cp pair now (read, or created by this run).
    pub lcp_pairs: HashSet<String>,
    /// The LB reconcile's share: its read of VPP and its wire options.
    pub lb: crate::lb::LbCtx,
    /// Called for every request sent and every reply or details message received (message
    /// name, `"send"` or `"recv"`, ok = no transport error and retval 0): a daemon's
    /// `maglev_vpp_api_total`. Not called for what a dry run only records.
    pub on_api: Option<ApiHook>,
    next_fake: u32,
}

impl Vpp {
    pub fn new(conn: Connection, opts: VppOptions) -> Self {
        Vpp {
            conn,
            opts,
            sent: Vec::new(),
            current_key: None,
            snapshot: None,
            names: BTreeMap::new(),
            macs: HashMap::new(),
            doomed: HashSet::new(),
            lcp_pairs: HashSet::new(),
            lb: crate::lb::LbCtx::default(),
            on_api: None,
            next_fake: 0,
        }
    }

    /// A placeholder index for an interface a dry run "creates" (counting down from ~0 - 1).
    pub fn fake_index(&mut self) -> u32 {
        self.next_fake += 1;
        u32::MAX - self.next_fake
    }

    /// Which of `name_crcs` this VPP lacks (missing, or with another CRC).
    pub fn missing(&self, name_crcs: &[&str]) -> Vec<String> {
        match self.conn.compat(name_crcs) {
            Some(r) => r
                .missing
                .into_iter()
                .chain(r.different_crc.into_iter().map(|(n, _)| n))
                .collect(),
            None => name_crcs.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn count(&self, message: &'static str, direction: &'static str, ok: bool) {
        if let Some(h) = &self.on_api {
            h(message, direction, ok);
        }
    }

    fn trace_line(&self, line: Json) {
        if self.opts.trace {
            eprintln!("{line}");
        }
    }

    fn trace_send<M: Message + Reflect>(&self, msg: &M) {
        if self.opts.trace {
            self.trace_request(M::NAME, to_json(&msg.to_value()), false);
        }
    }

    fn trace_request(&self, message: &str, args: Json, mutating: bool) {
        self.trace_line(json!({
            "ts": crate::output::rfc3339(SystemTime::now()),
            "dir": "request",
            "message": message,
            "args": args,
            "dry_run": mutating && self.opts.dry_run,
        }));
    }

    /// Sends a mutating request (or records it in a dry run, answering with the default reply)
    /// and fails on a non-zero retval.
    pub async fn call<M>(&mut self, msg: M) -> Result<M::Reply, VppError>
    where
        M: Request + Reflect + Sync,
        M::Reply: Default,
    {
        let mut rec = Sent {
            key: self.current_key.clone(),
            message: M::NAME,
            args: to_json(&msg.to_value()),
            retval: None,
        };
        if self.opts.trace {
            self.trace_request(M::NAME, rec.args.clone(), true);
        }
        if self.opts.dry_run {
            self.sent.push(rec);
            return Ok(M::Reply::default());
        }
        let r = self.raw(&msg).await;
        rec.retval = Some(match &r {
            Ok(_) => 0,
            Err(e) => e.retval().unwrap_or(0),
        });
        self.sent.push(rec);
        r
    }

    /// Sends a request that changes nothing (a read, `arping`) and fails on a non-zero retval.
    pub async fn read<M>(&mut self, msg: M) -> Result<M::Reply, VppError>
    where
        M: Request + Reflect + Sync,
    {
        self.trace_send(&msg);
        self.raw(&msg).await
    }

    async fn raw<M>(&self, msg: &M) -> Result<M::Reply, VppError>
    where
        M: Request + Sync,
    {
        let t = Instant::now();
        self.count(M::NAME, "send", true);
        let raw = self.conn.call_raw(msg).await;
        let ok = raw.as_ref().is_ok_and(|r| r.retval().unwrap_or(0) == 0);
        self.count(<M::Reply as Message>::NAME, "recv", ok);
        let raw = raw.map_err(|source| match source {
            RtError::Api(a) => VppError::Retval {
                message: M::NAME,
                retval: a.retval,
                name: a.name().unwrap_or("unknown error"),
            },
            source => VppError::Transport {
                message: M::NAME,
                source,
            },
        })?;
        let retval = raw.retval().unwrap_or(0);
        let context = raw.view().ok().and_then(|(h, _)| h.context).unwrap_or(0);
        self.trace_line(json!({
            "ts": crate::output::rfc3339(SystemTime::now()),
            "dir": "reply",
            "message": <M::Reply as Message>::NAME,
            "context": context,
            "retval": retval,
            "elapsed_us": t.elapsed().as_micros() as u64,
        }));
        if retval != 0 {
            return Err(VppError::Retval {
                message: M::NAME,
                retval,
                name: vppapi_runtime::api_error::error_name(retval).unwrap_or("unknown error"),
            });
        }
        raw.decode().map_err(|e| VppError::Transport {
            message: M::NAME,
            source: RtError::Decode {
                message: <M::Reply as Message>::NAME,
                source: e,
            },
        })
    }

    /// All details of a dump.
    pub async fn dump<M>(&self, msg: M) -> Result<Vec<M::Details>, VppError>
    where
        M: Dump + Reflect + Sync,
    {
        self.trace_send(&msg);
        let t = Instant::now();
        let err = |source| VppError::Transport {
            message: M::NAME,
            source,
        };
        self.count(M::NAME, "send", true);
        let details = <M::Details as Message>::NAME;
        let mut s = self.conn.dump(&msg).await.map_err(|e| {
            self.count(details, "recv", false);
            err(e)
        })?;
        let mut out = Vec::new();
        while let Some(d) = s.next().await {
            self.count(details, "recv", d.is_ok());
            out.push(d.map_err(err)?);
        }
        self.trace_line(json!({
            "ts": crate::output::rfc3339(SystemTime::now()),
            "dir": "details",
            "message": <M::Details as Message>::NAME,
            "count": out.len(),
            "elapsed_us": t.elapsed().as_micros() as u64,
        }));
        Ok(out)
    }

    /// The state read once per plan (and again for the verification).
    pub async fn snapshot(&mut self) -> Result<&Snapshot, VppError> {
        if self.snapshot.is_none() {
            let s = self.read_snapshot().await?;
            self.names = s
                .ifs
                .iter()
                .map(|i| (i.name.clone(), i.sw_if_index))
                .collect();
            self.macs = s.ifs.iter().map(|i| (i.name.clone(), i.mac)).collect();
            self.lcp_pairs = s.lcp.keys().map(|sw| s.name_of(*sw)).collect();
            self.snapshot = Some(s);
        }
        Ok(self.snapshot.as_ref().expect("just read"))
    }

    /// Forgets the snapshot (the next read goes to VPP again).
    pub fn invalidate(&mut self) {
        self.snapshot = None;
        self.lb.read = None;
    }

    async fn read_snapshot(&self) -> Result<Snapshot, VppError> {
        let ifs: Vec<IfInfo> = self
            .dump(SwInterfaceDump::default())
            .await?
            .into_iter()
            .map(if_info)
            .collect();
        let bds = self
            .dump(BridgeDomainDump::default())
            .await?
            .into_iter()
            .filter(|b| b.bd_id != 0)
            .collect();
        let l2fib = self.dump(L2FibTableDump { bd_id: u32::MAX }).await?;
        let vxlan = if self.missing(&[VxlanTunnelV2Dump::NAME_CRC]).is_empty() {
            self.dump(VxlanTunnelV2Dump {
                sw_if_index: InterfaceIndex::NONE,
            })
            .await?
        } else {
            Vec::new()
        };
        // Addresses and link-locals of every loopback, all requests in flight at once.
        let loops: Vec<u32> = ifs
            .iter()
            .filter(|i| i.dev_type == "Loopback")
            .map(|i| i.sw_if_index)
            .collect();
        let reads = loops.iter().map(|&sw| self.read_l3(sw));
        let l3 = futures_util::future::join_all(reads)
            .await
            .into_iter()
            .zip(&loops)
            .map(|(r, &sw)| r.map(|v| (sw, v)))
            .collect::<Result<HashMap<_, _>, _>>()?;
        // All pairs through the v1 getter: VPP 26.06 answers `lcp_itf_pair_get_v2` for all
        // interfaces with the v1 reply, and a client waiting for the v2 reply hangs.
        let lcp = if self.missing(&[LcpItfPairGet::NAME_CRC]).is_empty() {
            self.trace_send(&LcpItfPairGet { cursor: 0 });
            let mut s = self
                .conn
                .stream(&LcpItfPairGet { cursor: 0 })
                .await
                .map_err(|source| VppError::Transport {
                    message: LcpItfPairGet::NAME,
                    source,
                })?;
            let mut m = HashMap::new();
            while let Some(d) = s.next().await {
                let d = d.map_err(|source| VppError::Transport {
                    message: LcpItfPairGet::NAME,
                    source,
                })?;
                m.insert(d.phy_sw_if_index.0, d.host_if_name);
            }
            m
        } else {
            HashMap::new()
        };
        let by_sw = ifs
            .iter()
            .enumerate()
            .map(|(i, f)| (f.sw_if_index, i))
            .collect();
        Ok(Snapshot {
            ifs,
            bds,
            l2fib,
            vxlan,
            l3,
            lcp,
            by_sw,
        })
    }

    async fn read_l3(&self, sw: u32) -> Result<(Vec<IfAddr>, Option<Ipv6Addr>), VppError> {
        let idx = InterfaceIndex(sw);
        let ll_req = SwInterfaceIp6GetLinkLocalAddress { sw_if_index: idx };
        let (v4, v6, ll) = tokio::join!(
            self.dump(IpAddressDump {
                sw_if_index: idx,
                is_ipv6: false
            }),
            self.dump(IpAddressDump {
                sw_if_index: idx,
                is_ipv6: true
            }),
            self.raw(&ll_req)
        );
        let mut addrs: Vec<IfAddr> = v4?
            .into_iter()
            .chain(v6?)
            .filter_map(|d| {
                let p = d.prefix.0;
                let addr = IpAddr::try_from(p.address).ok()?;
                Some(IfAddr { addr, len: p.len })
            })
            .collect();
        addrs.sort();
        let ll = match ll {
            Ok(r) => Some(Ipv6Addr::from(r.ip)),
            // -62 IP6_NOT_ENABLED: no link-local yet.
            Err(VppError::Retval { retval: -62, .. }) => None,
            Err(e) => return Err(e),
        };
        Ok((addrs, ll))
    }

    /// The sw_if_index of an interface by name (created by this plan, or read).
    pub fn index_of(&self, name: &str) -> Result<InterfaceIndex, VppError> {
        self.names
            .get(name)
            .map(|&i| InterfaceIndex(i))
            .ok_or_else(|| VppError::Other(format!("no interface named {name:?} in VPP")))
    }
}

fn if_info(d: SwInterfaceDetails) -> IfInfo {
    IfInfo {
        sw_if_index: d.sw_if_index.0,
        name: d.interface_name,
        dev_type: d.interface_dev_type,
        mac: d.l2_address.into(),
        admin_up: d.flags.0 & 1 != 0,
        mtu: d.mtu[0],
        tag: d.tag,
    }
}

/// An [`Address`] from a std address.
pub fn address(a: IpAddr) -> Address {
    Address::from(a)
}

/// A message's field tree as JSON: integers as numbers, strings as strings; 4- and 16-byte
/// arrays as IPv4 and IPv6 addresses (`ip4_address`, `ip6_address`), an `address` (af + union)
/// as its IP address, other byte arrays as colon-separated hex (MACs read naturally); structs
/// as objects.
pub fn to_json(v: &Value) -> Json {
    if let Some(ip) = as_address(v) {
        return Json::String(ip.to_string());
    }
    match v {
        Value::Bytes(b) if b.len() == 4 => {
            Json::String(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string())
        }
        Value::Bytes(b) if b.len() == 16 => {
            let a: [u8; 16] = b.as_slice().try_into().unwrap_or([0; 16]);
            Json::String(Ipv6Addr::from(a).to_string())
        }
        Value::Int(i) => i64::try_from(*i)
            .map(Json::from)
            .or_else(|_| u64::try_from(*i).map(Json::from))
            .unwrap_or_else(|_| Json::String(i.to_string())),
        Value::F64(f) => json!(f),
        Value::Bool(b) => json!(b),
        Value::Str(s) => json!(s),
        Value::Bytes(b) => Json::String(
            b.iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        ),
        Value::List(l) => Json::Array(l.iter().map(to_json).collect()),
        Value::Struct(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), to_json(v)))
                .collect(),
        ),
    }
}

/// `vl_api_address_t` (`af` 0 = IPv4, 1 = IPv6, then the union) as an IP address.
fn as_address(v: &Value) -> Option<IpAddr> {
    let Value::Struct(f) = v else { return None };
    let [(af_name, Value::Int(af)), ("un", Value::Struct(arms))] = f.as_slice() else {
        return None;
    };
    if *af_name != "af" {
        return None;
    }
    let bytes = arms.iter().find_map(|(_, v)| match v {
        Value::Bytes(b) => Some(b.as_slice()),
        _ => None,
    })?;
    match af {
        0 if bytes.len() >= 4 => Some(IpAddr::from([bytes[0], bytes[1], bytes[2], bytes[3]])),
        1 if bytes.len() == 16 => {
            let a: [u8; 16] = bytes.try_into().ok()?;
            Some(IpAddr::from(a))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vppapi_binapi::interface::SwInterfaceAddDelAddress;
    use vppapi_binapi::ip::SwInterfaceIp6SetLinkLocalAddress;
    use vppapi_runtime::{AddressWithPrefix, Prefix};

    #[test]
    fn messages_read_naturally_as_json() {
        let m = SwInterfaceAddDelAddress {
            sw_if_index: InterfaceIndex(3),
            is_add: true,
            del_all: false,
            prefix: AddressWithPrefix(Prefix {
                address: address("172.16.0.32".parse().unwrap()),
                len: 24,
            }),
        };
        let j = to_json(&m.to_value());
        assert_eq!(j["prefix"]["address"], "172.16.0.32");
        assert_eq!(j["prefix"]["len"], 24);
        let m = SwInterfaceIp6SetLinkLocalAddress {
            sw_if_index: InterfaceIndex(3),
            ip: "fe80::ff:fe00:100".parse::<Ipv6Addr>().unwrap().into(),
        };
        assert_eq!(to_json(&m.to_value())["ip"], "fe80::ff:fe00:100");
    }
}
