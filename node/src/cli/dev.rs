//! `lichen dev`: a ready-to-use development chain in a local folder: keys, a genesis with a demo
//! council, agencies, licence types and a court, and a running node with the HTTP API. Running it
//! again resumes the same chain. One validator for now; the network issue makes it four.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};
use lichen_contracts::crypto::{SigAlgo, Suite};
use lichen_node::service::{DataDir, NodeOptions};

use super::genesis as g;
use super::keys::{self, PasswordSource};

/// The password of the dev chain's key files. Development only: it is printed and documented.
pub const DEV_PASSWORD: &str = "lichen-dev";

/// Demo agencies (id, name) and licence types (code, name, authorised agency).
const AGENCIES: [(&str, &str); 2] = [
    ("market-bureau", "Municipal Market Regulation Bureau"),
    ("health-commission", "Municipal Health Commission"),
];
const LICENCE_TYPES: [(&str, &str, &str); 2] = [
    ("business", "Business licence", "market-bureau"),
    ("food", "Food operation permit", "health-commission"),
];

fn dev_passwords(dir: &Path) -> Result<PasswordSource> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let file = dir.join("password.txt");
    if !file.exists() {
        std::fs::write(&file, format!("{DEV_PASSWORD}\n"))
            .with_context(|| format!("cannot write {}", file.display()))?;
    }
    Ok(PasswordSource { file: Some(file) })
}

/// Creates the dev chain's files in `dir` unless they exist.
fn ensure_files(dir: &Path, suite: Suite, passwords: &PasswordSource) -> Result<bool> {
    let genesis = dir.join("genesis.json");
    if genesis.exists() {
        return Ok(false);
    }
    std::fs::create_dir_all(dir.join("keys"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let algo = suite.sig_algo();
    let password = passwords.get("the dev keys", false)?;
    let new_key = |name: &str| -> Result<String> {
        let path = dir.join("keys").join(format!("{name}.key"));
        if !path.exists() {
            keys::write_key_file(&path, &keys::generate(algo)?, &password)?;
        }
        Ok(keys::public_path(&path).display().to_string())
    };
    let validator = new_key("validator-1")?;
    let council = new_key("council-1")?;
    let court = new_key("court-1")?;
    let tmp = dir.join("genesis.json.new");
    g::new(
        &tmp,
        "lichen-dev",
        suite,
        lichen_node::runtime::now_ms(),
        true,
    )?;
    g::add_council(&tmp, &[council], Some(1))?;
    g::add_validator(&tmp, "validator-1", &validator, None)?;
    for (id, name) in AGENCIES {
        let key = new_key(id)?;
        g::add_agency(&tmp, id, name, &[key])?;
    }
    for (code, name, agency) in LICENCE_TYPES {
        g::add_licence_type(&tmp, code, name, &[agency.to_string()])?;
    }
    g::add_submitter(&tmp, "court-1", "Internet Court", &[court])?;
    g::load(&tmp)?;
    std::fs::rename(&tmp, &genesis)?;
    Ok(true)
}

/// A listen address: `port` on 127.0.0.1 if free, else the next free one.
fn pick_listen(port: u16) -> SocketAddr {
    (port..port.saturating_add(100))
        .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
        .find(|a| std::net::TcpListener::bind(a).is_ok())
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)))
}

pub fn options(dir: &Path, suite: Suite, port: u16) -> Result<(NodeOptions, bool)> {
    let passwords = dev_passwords(dir)?;
    let created = ensure_files(dir, suite, &passwords)?;
    let genesis = g::load(&dir.join("genesis.json"))?;
    let key = keys::load_secret_key(&dir.join("keys").join("validator-1.key"), &passwords)?;
    let data = dir.join("data");
    std::fs::create_dir_all(&data)?;
    Ok((
        NodeOptions::new(DataDir::Disk(data), genesis, key, pick_listen(port)),
        created,
    ))
}

/// What to try next, printed once the node serves.
pub fn next_steps(dir: &Path, url: &str, suite: Suite) -> String {
    let d = dir.display();
    let algo = match suite.sig_algo() {
        SigAlgo::Sm2 => "SM2",
        SigAlgo::Ed25519 => "Ed25519",
    };
    format!(
        "dev chain 'lichen-dev' ({} suite, {algo} keys in {d}/keys, password in {d}/password.txt)\n\
         serving {url}\n\n\
         try, in another terminal:\n\
         \x20 export LICHEN_NODE={url} LICHEN_PASSWORD={DEV_PASSWORD}\n\
         \x20 echo 'my licence' > licence.pdf\n\
         \x20 lichen issue --key {d}/keys/market-bureau.key --agency market-bureau --type business \\\n\
         \x20     --id LIC-0001 --file licence.pdf --holder-id holder-1\n\
         \x20 lichen query licence LIC-0001\n\
         \x20 lichen presentation export LIC-0001 -o LIC-0001.pres\n\
         \x20 lichen verify --presentation LIC-0001.pres --trust {d}/genesis.json --file licence.pdf\n\
         \x20 lichen revoke --key {d}/keys/market-bureau.key --id LIC-0001 --reason 'demo'\n\
         \x20 curl {url}/v1/status\n\n\
         Ctrl-C stops the node; `lichen dev` again resumes the same chain.",
        suite.name()
    )
}
