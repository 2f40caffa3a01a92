//! Solana CLI conventions: keypairs are JSON files of 64 bytes, and the RPC URL, keypair and
//! commitment default to the Solana CLI config (`~/.config/solana/cli/config.yml`). The program's
//! address comes from the flag, `$GPUFUEL_PROGRAM_ID` or GPUFuel's own config file
//! (`~/.config/gpufuel/config.yml`, kept apart because the Solana CLI rewrites its file without
//! keys it does not know).
//!
//! Both files are flat `key: value` YAML; a few keys are read, so a line parser does it without a
//! YAML dependency.

use std::path::{Path, PathBuf};

use solana_address::Address;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;

use crate::ChainError;

/// The settings the client takes from the Solana CLI config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliConfig {
    /// The cluster's JSON-RPC URL.
    pub json_rpc_url: String,
    /// Its websocket URL; empty: derived from the RPC URL as the Solana CLI does
    /// ([`crate::rpc::websocket_url`]).
    pub websocket_url: String,
    /// The wallet's keypair file.
    pub keypair_path: PathBuf,
    /// The commitment reads and confirmations wait for.
    pub commitment: CommitmentConfig,
}

impl Default for CliConfig {
    /// The Solana CLI's own defaults.
    fn default() -> Self {
        Self {
            json_rpc_url: "https://api.mainnet-beta.solana.com".into(),
            websocket_url: String::new(),
            keypair_path: home().join(".config/solana/id.json"),
            commitment: CommitmentConfig::confirmed(),
        }
    }
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

impl CliConfig {
    /// The websocket URL: the config's, else derived from the RPC URL as the Solana CLI does.
    pub fn websocket(&self) -> String {
        if self.websocket_url.is_empty() {
            crate::rpc::websocket_url(&self.json_rpc_url)
        } else {
            self.websocket_url.clone()
        }
    }

    /// The default config file path.
    pub fn default_path() -> PathBuf {
        home().join(".config/solana/cli/config.yml")
    }

    /// Reads a config file; keys it lacks keep their defaults. A missing file is the defaults.
    pub fn load(path: &Path) -> Result<Self, ChainError> {
        let mut config = Self::default();
        for (key, value) in entries(path)? {
            match key.as_str() {
                "json_rpc_url" => config.json_rpc_url = value,
                "websocket_url" => config.websocket_url = value,
                "keypair_path" => config.keypair_path = PathBuf::from(value),
                "commitment" => config.commitment = commitment(&value)?,
                _ => {}
            }
        }
        Ok(config)
    }

    /// `url` and `commitment` when given (a URL or a CLI moniker), else the config's. A URL given
    /// here replaces the config's websocket URL too (it belongs to the config's cluster).
    pub fn resolve(mut self, url: Option<&str>, commitment_level: Option<&str>) -> Result<Self, ChainError> {
        if let Some(url) = url {
            self.json_rpc_url = moniker(url);
            self.websocket_url.clear();
        }
        if let Some(level) = commitment_level {
            self.commitment = commitment(level)?;
        }
        Ok(self)
    }
}

/// The top-level `key: value` entries of a flat YAML file (none if it does not exist).
fn entries(path: &Path) -> Result<Vec<(String, String)>, ChainError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(ChainError::Config(format!("{}: {e}", path.display()))),
    };
    let entry = |line: &str| {
        let (key, value) = line.split_once(':')?;
        Some((key.trim().to_string(), value.trim().trim_matches(|c| c == '"' || c == '\'').to_string()))
    };
    Ok(text.lines().filter(|l| !l.starts_with(' ')).filter_map(entry).collect())
}

/// The environment variable naming the deployment to talk to.
pub const PROGRAM_ID_ENV: &str = "GPUFUEL_PROGRAM_ID";

/// GPUFuel's config file, `~/.config/gpufuel/config.yml`; its `program_id` entry names the
/// deployment when neither the flag nor [`PROGRAM_ID_ENV`] does.
pub fn gpufuel_config_path() -> PathBuf {
    home().join(".config/gpufuel/config.yml")
}

/// The deployment to talk to: `given` (a flag), else `$GPUFUEL_PROGRAM_ID`, else the
/// `program_id` of [`gpufuel_config_path`], else the well-known [`crate::PROGRAM_ID`].
pub fn program_id(given: Option<&str>) -> Result<Address, ChainError> {
    resolve_program_id(given, std::env::var(PROGRAM_ID_ENV).ok().as_deref(), &gpufuel_config_path())
}

fn resolve_program_id(given: Option<&str>, env: Option<&str>, path: &Path) -> Result<Address, ChainError> {
    let (source, text) = match (given, env.filter(|e| !e.is_empty())) {
        (Some(given), _) => ("program id".to_string(), given.to_string()),
        (None, Some(env)) => (PROGRAM_ID_ENV.to_string(), env.to_string()),
        (None, None) => match entries(path)?.into_iter().find(|(k, _)| k == "program_id") {
            Some((_, value)) => (format!("program_id in {}", path.display()), value),
            None => return Ok(crate::PROGRAM_ID),
        },
    };
    text.parse().map_err(|_| ChainError::Config(format!("{source}: {text:?} is not a base58 address")))
}

/// Expands the Solana CLI's URL monikers (`mainnet-beta`/`m`, `devnet`/`d`, `testnet`/`t`,
/// `localhost`/`l`); anything else is taken as a URL.
pub fn moniker(url: &str) -> String {
    match url {
        "m" | "mainnet-beta" => "https://api.mainnet-beta.solana.com",
        "d" | "devnet" => "https://api.devnet.solana.com",
        "t" | "testnet" => "https://api.testnet.solana.com",
        "l" | "localhost" => "http://localhost:8899",
        other => other,
    }
    .to_string()
}

fn commitment(level: &str) -> Result<CommitmentConfig, ChainError> {
    match level {
        "processed" => Ok(CommitmentConfig::processed()),
        "confirmed" => Ok(CommitmentConfig::confirmed()),
        "finalized" => Ok(CommitmentConfig::finalized()),
        other => Err(ChainError::Config(format!("unknown commitment {other:?}"))),
    }
}

/// Reads a Solana CLI keypair file (a JSON array of 64 bytes).
pub fn read_keypair(path: &Path) -> Result<Keypair, ChainError> {
    solana_keypair::read_keypair_file(path).map_err(|e| ChainError::Config(format!("keypair {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_websocket_url_or_derives_it() {
        let dir = std::env::temp_dir().join(format!("gpufuel-ws-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.yml");
        std::fs::write(&path, "json_rpc_url: http://10.0.0.1:8899\nwebsocket_url: ws://10.0.0.1:9999/ws\n").unwrap();
        let c = CliConfig::load(&path).unwrap();
        assert_eq!(c.websocket(), "ws://10.0.0.1:9999/ws");
        assert_eq!(c.resolve(Some("http://10.0.0.2:8899"), None).unwrap().websocket(), "ws://10.0.0.2:8900");
        std::fs::write(&path, "json_rpc_url: http://10.0.0.1:8899\nwebsocket_url: \"\"\n").unwrap();
        assert_eq!(CliConfig::load(&path).unwrap().websocket(), "ws://10.0.0.1:8900");
    }

    #[test]
    fn reads_the_cli_config_and_applies_overrides() {
        let dir = std::env::temp_dir().join(format!("gpufuel-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.yml");
        std::fs::write(
            &path,
            "---\njson_rpc_url: \"https://api.devnet.solana.com\"\nwebsocket_url: \"\"\nkeypair_path: /keys/me.json\naddress_labels:\n  \"11111111111111111111111111111111\": System Program\ncommitment: finalized\n",
        )
        .unwrap();
        let c = CliConfig::load(&path).unwrap();
        assert_eq!(c.json_rpc_url, "https://api.devnet.solana.com");
        assert_eq!(c.keypair_path, PathBuf::from("/keys/me.json"));
        assert_eq!(c.commitment, CommitmentConfig::finalized());
        let c = c.resolve(Some("l"), Some("processed")).unwrap();
        assert_eq!((c.json_rpc_url.as_str(), c.commitment), ("http://localhost:8899", CommitmentConfig::processed()));
        assert!(matches!(CliConfig::default().resolve(None, Some("soon")), Err(ChainError::Config(_))));
        assert_eq!(CliConfig::load(&dir.join("missing.yml")).unwrap(), CliConfig::default());
    }

    #[test]
    fn the_program_id_comes_from_the_flag_the_environment_the_config_or_the_default() {
        let dir = std::env::temp_dir().join(format!("gpufuel-program-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.yml");
        let (flag, env, file) = (Address::new_unique(), Address::new_unique(), Address::new_unique());
        let missing = dir.join("missing.yml");
        assert_eq!(resolve_program_id(None, None, &missing).unwrap(), crate::PROGRAM_ID);
        std::fs::write(&path, format!("---\nprogram_id: \"{file}\"\n")).unwrap();
        assert_eq!(resolve_program_id(None, None, &path).unwrap(), file);
        assert_eq!(resolve_program_id(None, Some(""), &path).unwrap(), file, "an empty variable is unset");
        assert_eq!(resolve_program_id(None, Some(&env.to_string()), &path).unwrap(), env);
        assert_eq!(resolve_program_id(Some(&flag.to_string()), Some(&env.to_string()), &path).unwrap(), flag);
        let err = resolve_program_id(Some("not-an-address"), None, &path).unwrap_err();
        assert!(matches!(&err, ChainError::Config(m) if m.contains("program id")), "{err}");
        std::fs::write(&path, "program_id: 0OIl\n").unwrap();
        let err = resolve_program_id(None, None, &path).unwrap_err();
        assert!(matches!(&err, ChainError::Config(m) if m.contains("config.yml")), "{err}");
    }

    #[test]
    fn keypair_files_round_trip_and_bad_ones_are_typed_errors() {
        let dir = std::env::temp_dir().join(format!("gpufuel-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = Keypair::new();
        let path = dir.join("id.json");
        std::fs::write(&path, format!("{:?}", key.to_bytes().to_vec())).unwrap();
        assert_eq!(read_keypair(&path).unwrap().to_bytes(), key.to_bytes());
        std::fs::write(&path, "[1, 2, 3]").unwrap();
        assert!(matches!(read_keypair(&path), Err(ChainError::Config(_))));
        assert!(matches!(read_keypair(&dir.join("none.json")), Err(ChainError::Config(_))));
    }
}
