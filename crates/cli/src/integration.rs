//! `lapor integration`: connected institutions and their API clients.

use clap::Subcommand;
use lapor_integration::client::{Scope, parse_scopes};
use lapor_server::integration::clients;
use lapor_store::Store;

#[derive(Subcommand)]
pub enum IntegrationCmd {
    /// Set an institution's mode: `native` (works in Lapor) or `connected`
    /// (works in its own system through the integration API).
    Mode { institution: String, mode: String },
    /// List the connected institutions and every API client.
    List,
    /// Register an API client for an institution; prints its first key once.
    CreateClient {
        institution: String,
        /// A name people recognise, e.g. "SP4N Kota Bandung".
        #[arg(long)]
        name: String,
        /// Space- or comma-separated: reports:read reports:write webhooks open311.
        #[arg(long, default_value = "reports:read reports:write webhooks open311")]
        scopes: String,
    },
    /// A new key for a client; the old ones keep working for the overlap.
    RotateKey {
        client: String,
        #[arg(long, default_value_t = clients::DEFAULT_OVERLAP_HOURS)]
        overlap_hours: i64,
    },
    /// Revoke a client: its keys stop at once.
    Revoke { client: String },
}

pub async fn run(store: &dyn Store, cmd: IntegrationCmd) -> Result<(), String> {
    let e = |e: lapor_domain::Error| e.to_string();
    match cmd {
        IntegrationCmd::Mode { institution, mode } => {
            clients::set_mode(store, &institution, &mode, None).await.map_err(e)?;
            println!("{institution}: {mode}");
        }
        IntegrationCmd::List => {
            let connected = store.connected_institutions().await.map_err(e)?;
            println!(
                "connected institutions: {}",
                if connected.is_empty() {
                    "-".into()
                } else {
                    connected.join(", ")
                }
            );
            for c in store.api_clients(None).await.map_err(e)? {
                let state = if c.revoked_at.is_some() { "revoked" } else { "active" };
                println!(
                    "{}  {:<24} {:<8} {}  [{}]",
                    c.id, c.institution, state, c.name, c.scopes
                );
                for k in store.api_keys(&c.id).await.map_err(e)? {
                    let until = k.expires_at.map_or("no expiry".to_string(), |t| format!("until {t}"));
                    let used = k
                        .last_used_at
                        .map_or("never used".to_string(), |t| format!("last used {t}"));
                    println!("    {}  {until}; {used}", k.prefix);
                }
            }
        }
        IntegrationCmd::CreateClient {
            institution,
            name,
            scopes,
        } => {
            let scopes: Vec<Scope> = parse_scopes(&scopes).map_err(|bad| format!("unknown scope {bad:?}"))?;
            let created = clients::create(store, &institution, &name, &scopes, None)
                .await
                .map_err(e)?;
            println!("client_id: {}", created.client.id);
            println!("api key:   {}", created.key);
            println!("(shown once; Lapor keeps only its digest)");
        }
        IntegrationCmd::RotateKey { client, overlap_hours } => {
            let (key, until) = clients::rotate(store, &client, overlap_hours).await.map_err(e)?;
            println!("new api key: {key}");
            println!("the previous keys work until {until}");
        }
        IntegrationCmd::Revoke { client } => {
            if clients::revoke(store, &client, None).await.map_err(e)? {
                println!("{client}: revoked");
            } else {
                return Err(format!("{client}: no such active client"));
            }
        }
    }
    Ok(())
}
