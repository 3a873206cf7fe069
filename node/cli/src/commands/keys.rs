//! Key files and passwords: `lichen keygen`, `lichen key show`, and loading keys for signing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use lichen_contracts::crypto::keystore::{self, KDF_ITERATIONS_DEFAULT, MAGIC};
use lichen_contracts::crypto::{PublicKey, SecretKey, SigAlgo};
use lichen_views as views;
use serde_json::json;

use crate::args::Algo;
use crate::output::out;

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Signature algorithm: sm2 for an `sm` chain, ed25519 for an `intl` chain (a chain accepts
    /// only its suite's keys).
    #[arg(long, value_enum, default_value = "sm2")]
    algo: Algo,
    /// Where to write the key file (never overwritten); the public key goes beside it, with
    /// `.pub` added.
    #[arg(short, long)]
    out: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Open a key file and print its public key.
    Show {
        /// The key file (`lichen keygen`), opened with its password.
        file: PathBuf,
    },
}

/// `lichen keygen`.
pub fn keygen(a: KeygenArgs, as_json: bool, pw: &PasswordSource) -> Result<()> {
    let out = a.out;
    let password = pw.get(&out.display().to_string(), true)?;
    let key = generate(a.algo.into())?;
    write_key_file(&out, &key, &password)?;
    let public = views::public_key_string(&key.public_key());
    if as_json {
        out!(
            "{}",
            json!({ "file": out, "public_key": public, "public_key_file": public_path(&out) })
        );
    } else {
        out!(
            "wrote {} (public key in {})\n{public}",
            out.display(),
            public_path(&out).display()
        );
    }
    Ok(())
}

/// `lichen key ...`.
pub fn run(command: KeyCommand, as_json: bool, pw: &PasswordSource) -> Result<()> {
    let KeyCommand::Show { file } = command;
    let key = load_secret_key(&file, pw)?;
    let public = views::public_key_string(&key.public_key());
    if as_json {
        out!(
            "{}",
            json!({ "algo": key.algo().name(), "public_key": public })
        );
    } else {
        out!("{} key\n{public}", key.algo().name());
    }
    Ok(())
}

/// The environment variable a password may come from.
pub const PASSWORD_ENV: &str = "LICHEN_PASSWORD";

/// Where passwords come from: a file, the environment, or a prompt.
#[derive(Debug, Clone, Default)]
pub struct PasswordSource {
    pub file: Option<PathBuf>,
}

impl PasswordSource {
    /// The password for `what`; `confirm` asks twice on a terminal (new key files).
    pub fn get(&self, what: &str, confirm: bool) -> Result<Vec<u8>> {
        if let Some(file) = &self.file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the password file {}", file.display()))?;
            let password = text.trim_end_matches(['\n', '\r']).as_bytes().to_vec();
            if password.is_empty() {
                bail!("the password file {} is empty", file.display());
            }
            return Ok(password);
        }
        if let Ok(p) = std::env::var(PASSWORD_ENV) {
            if p.is_empty() {
                bail!("{PASSWORD_ENV} is set but empty");
            }
            return Ok(p.into_bytes());
        }
        let first = rpassword::prompt_password(format!("Password for {what}: ")).with_context(
            || format!("no password: use --password-file FILE or set {PASSWORD_ENV}, or run on a terminal"),
        )?;
        if first.is_empty() {
            bail!("an empty password is not allowed");
        }
        if confirm {
            let second = rpassword::prompt_password("Repeat the password: ")?;
            if first != second {
                bail!("the two passwords differ");
            }
        }
        Ok(first.into_bytes())
    }
}

/// Fresh random bytes from the operating system.
pub fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| anyhow!("the operating system gave no randomness: {e}"))?;
    Ok(b)
}

/// A new secret key of `algo` from OS randomness.
pub fn generate(algo: SigAlgo) -> Result<SecretKey> {
    loop {
        // An SM2 scalar must lie in [1, n-2]: out-of-range draws (probability ~2^-32) are redrawn.
        if let Ok(key) = SecretKey::from_bytes(algo, &random::<32>()?) {
            return Ok(key);
        }
    }
}

/// Path of the public-key file written beside a key file.
pub fn public_path(key_file: &Path) -> PathBuf {
    let mut s = key_file.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// Writes `key` sealed under `password` to `path` (refusing to overwrite) and its public key to
/// `path.pub`.
pub fn write_key_file(path: &Path, key: &SecretKey, password: &[u8]) -> Result<()> {
    if path.exists() {
        bail!(
            "{} already exists; remove it first or choose another path",
            path.display()
        );
    }
    let sealed = keystore::seal(
        key,
        password,
        random::<16>()?,
        random::<16>()?,
        KDF_ITERATIONS_DEFAULT,
    )?;
    write_private(path, &sealed)?;
    std::fs::write(
        public_path(path),
        format!("{}\n", views::public_key_string(&key.public_key())),
    )
    .with_context(|| format!("cannot write {}", public_path(path).display()))?;
    Ok(())
}

#[cfg(unix)]
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Opens a key file.
pub fn load_secret_key(path: &Path, passwords: &PasswordSource) -> Result<SecretKey> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    if !bytes.starts_with(&MAGIC) {
        bail!(
            "{} is not a Lichen key file (make one with `lichen keygen`)",
            path.display()
        );
    }
    let password = passwords.get(&path.display().to_string(), false)?;
    keystore::open(&bytes, &password).map_err(|e| {
        anyhow!(
            "cannot open {}: {e} (wrong password, or the file was altered)",
            path.display()
        )
    })
}

/// A public key given as `sm2:<hex>` / `ed25519:<hex>`, or as a file holding one (`*.pub`).
pub fn parse_public_key_arg(arg: &str) -> Result<PublicKey> {
    if let Ok(key) = views::parse_public_key(arg) {
        return Ok(key);
    }
    let path = Path::new(arg);
    if !path.exists() {
        bail!("'{arg}' is neither a public key (sm2:<hex> or ed25519:<hex>) nor a file");
    }
    let bytes = std::fs::read(path)?;
    if bytes.starts_with(&MAGIC) {
        bail!(
            "{arg} is a secret key file; pass its public key file {} instead",
            public_path(path).display()
        );
    }
    let text = String::from_utf8_lossy(&bytes);
    views::parse_public_key(text.trim())
        .map_err(|e| anyhow!("{arg} does not hold a public key: {e}"))
}
