//! The committed message catalog (`data/catalog-26.06.tsv`) is generated from VPP 26.06's
//! `.api.json` tree. When the tree is present (`VPP_API_ROOT`, default `<repo>/../shared/vpp-api`)
//! this test regenerates it and fails on any difference (`VPP_SIM_BLESS=1` rewrites the file).
//! Without the tree it checks the committed file's shape only.

use std::path::PathBuf;

fn api_root() -> PathBuf {
    std::env::var_os("VPP_API_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vpp-api"))
        })
        .join("26.06")
}

fn generate(root: &std::path::Path) -> String {
    let api = api_json::Api::load(&[root]).expect("load 26.06 tree");
    let mut out = String::from(
        "# module\tname\tcrc\tkind\tfixed_size\tcontext_off\tclient_index_off\tretval_off\treply\n",
    );
    let mut rows = Vec::new();
    for (i, f) in api.files().iter().enumerate() {
        let module = f
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".api.json")
            .to_string();
        for m in &f.messages {
            let info = api.message(&m.name).expect("message resolved");
            let off = |name: &str| {
                info.layout
                    .field(name)
                    .map(|f| f.offset.to_string())
                    .unwrap_or_else(|| "-".into())
            };
            let ctx = info
                .header
                .context
                .map(|o| o.to_string())
                .unwrap_or_else(|| "-".into());
            let ci = info
                .header
                .client_index
                .map(|o| o.to_string())
                .unwrap_or_else(|| "-".into());
            let reply = api
                .service(&m.name)
                .map(
                    |s| match (&s.service.reply, s.service.stream, &s.service.stream_msg) {
                        (None, _, _) => "-".to_string(),
                        (Some(r), _, Some(d)) => format!("{r}+{d}"),
                        (Some(r), true, None) => format!("*{r}"),
                        (Some(r), false, None) => r.clone(),
                    },
                )
                .unwrap_or_else(|| "-".into());
            rows.push((
                i,
                format!(
                    "{module}\t{}\t{:08x}\t{}\t{}\t{ctx}\t{ci}\t{}\t{reply}\n",
                    m.name,
                    m.crc,
                    info.kind.name(),
                    info.layout.fixed_size,
                    off("retval"),
                ),
            ));
        }
    }
    for (_, r) in rows {
        out.push_str(&r);
    }
    out
}

#[test]
fn catalog_matches_api_json() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/catalog-26.06.tsv");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let root = api_root();
    if !root.exists() {
        eprintln!(
            "notice: {} absent; checking the committed catalog only",
            root.display()
        );
        assert!(committed.lines().count() > 2000);
        return;
    }
    let fresh = generate(&root);
    if std::env::var_os("VPP_SIM_BLESS").is_some() {
        std::fs::write(path, &fresh).unwrap();
        return;
    }
    assert!(
        committed == fresh,
        "data/catalog-26.06.tsv is stale: rerun with VPP_SIM_BLESS=1"
    );
}
