//! An embedded surfpool JSON-RPC server: offline (no mainnet fork), bound to 127.0.0.1, with
//! the GPUFuel SBF program deployed, reached through a proxy that can take the endpoint down and
//! bring it back to simulate an RPC outage.

use std::{
    net::TcpListener as StdListener,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use async_trait::async_trait;
use crossbeam_channel::{Sender, unbounded};
use gpufuel_chain::{Chain, RpcChain};
use solana_address::Address;
use solana_client::nonblocking::rpc_client::RpcClient;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client_api::request::RpcRequest;
use solana_signer::Signer;
use surfpool_core::{
    runloops::start_local_surfnet_runloop,
    surfnet::{
        locker::SurfnetSvmLocker,
        svm::{SurfnetSvm, SurfnetSvmConfig},
    },
};
use surfpool_types::{RpcConfig, SimnetCommand, SimnetConfig, SimnetEvent, SurfpoolConfig};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
};

use crate::{Cluster, LAMPORTS};

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running server.
pub struct Surfnet {
    deployer: Keypair,
    ws_port: u16,
    chain: RpcChain,
    direct: RpcClient,
    pub proxy: Arc<Proxy>,
    commands: Sender<SimnetCommand>,
    thread: Option<JoinHandle<()>>,
}

impl Surfnet {
    /// Starts the server and its proxy, and waits until it serves.
    pub async fn start() -> Self {
        let (mut svm, events, geyser) = SurfnetSvm::new(SurfnetSvmConfig::default()).expect("surfnet");
        let deployer = Keypair::new();
        gpufuel_chain::local::deploy(&mut svm.inner.svm, &deployer.pubkey()).expect("deploy the GPUFuel program");
        let (port, ws_port) = (free_port(), free_port());
        let config = SurfpoolConfig {
            simnets: vec![SimnetConfig { offline_mode: true, remote_rpc_url: None, ..SimnetConfig::default() }],
            rpc: RpcConfig { bind_host: "127.0.0.1".into(), bind_port: port, ws_port, ..RpcConfig::default() },
            ..SurfpoolConfig::default()
        };
        let (commands, commands_rx) = unbounded();
        let tx = commands.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
            let runloop = start_local_surfnet_runloop(SurfnetSvmLocker::new(svm), config, tx, commands_rx, geyser);
            if let Err(e) = runtime.block_on(runloop) {
                eprintln!("surfnet stopped: {e}");
            }
        });
        tokio::task::spawn_blocking(move || {
            loop {
                match events.recv_timeout(Duration::from_secs(120)) {
                    Ok(SimnetEvent::CoreStarted(_)) => return,
                    Ok(_) => {}
                    Err(e) => panic!("surfnet did not start: {e}"),
                }
            }
        })
        .await
        .unwrap();
        let upstream = format!("127.0.0.1:{port}");
        let proxy = Proxy::start(upstream.clone()).await;
        let url = format!("http://127.0.0.1:{}", proxy.port);
        Self {
            deployer,
            ws_port,
            chain: RpcChain::new(url, CommitmentConfig::confirmed()),
            direct: RpcClient::new_with_commitment(format!("http://{upstream}"), CommitmentConfig::confirmed()),
            proxy,
            commands,
            thread: Some(thread),
        }
    }
}

impl Surfnet {
    /// The JSON-RPC URL (through the proxy).
    pub fn url(&self) -> String {
        self.chain.url()
    }

    /// The websocket URL (direct: the proxy relays JSON-RPC only).
    pub fn websocket_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.ws_port)
    }

    /// Brings the endpoint back and waits until a request through it succeeds: connections the
    /// outage cut may still sit in the client's pool, and the first request can meet one.
    pub async fn restore(&self) {
        self.proxy.set_up(true);
        for _ in 0..50 {
            if self.chain.block_height().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the endpoint did not come back");
    }
}

impl Drop for Surfnet {
    fn drop(&mut self) {
        let _ = self.commands.send(SimnetCommand::Terminate(None));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[async_trait]
impl Cluster for Surfnet {
    fn chain(&self) -> &dyn Chain {
        &self.chain
    }
    fn deployer(&self) -> Keypair {
        self.deployer.insecure_clone()
    }

    async fn fund(&self, address: &Address) {
        let signature = self.direct.request_airdrop(address, LAMPORTS).await.expect("airdrop");
        for _ in 0..200 {
            if self.direct.get_signature_status(&signature).await.expect("status").is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("airdrop to {address} did not land");
    }

    async fn advance(&self, secs: i64) {
        let now = self.chain.unix_time().await.expect("clock");
        let target_ms = (now + secs) * 1_000;
        let travel = RpcRequest::Custom { method: "surfnet_timeTravel" };
        let _: serde_json::Value = self
            .direct
            .send(travel, serde_json::json!([{ "absoluteTimestamp": target_ms }]))
            .await
            .expect("time travel");
    }
}

/// A TCP proxy in front of the RPC server. `set_up(false)` refuses new connections and cuts
/// open ones, as an endpoint that went down would; `set_up(true)` brings it back.
/// `cut_after_send(d)` lets the next `sendTransaction` reach the server, drops its response and
/// takes the endpoint down for `d`: the transaction runs, the client cannot know.
pub struct Proxy {
    port: u16,
    up: watch::Sender<bool>,
    cut: Mutex<Option<Duration>>,
}

impl Proxy {
    async fn start(upstream: String) -> Arc<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, _) = watch::channel(true);
        let proxy = Arc::new(Self { port, up, cut: Mutex::new(None) });
        let p = Arc::clone(&proxy);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !*p.up.borrow() {
                    continue; // dropped: connection refused/reset
                }
                tokio::spawn(Arc::clone(&p).relay(client, upstream.clone()));
            }
        });
        proxy
    }

    async fn relay(self: Arc<Self>, client: TcpStream, upstream: String) {
        let Ok(server) = TcpStream::connect(upstream).await else { return };
        let (mut from_client, mut to_client) = client.into_split();
        let (mut from_server, mut to_server) = server.into_split();
        let sending = AtomicBool::new(false);
        let requests = async {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n @ 1..) = from_client.read(&mut buf).await {
                // Keep-alive connections carry many requests: each one decides afresh.
                if buf[..n].starts_with(b"POST ") {
                    sending.store(false, Ordering::SeqCst);
                }
                if buf[..n].windows(15).any(|w| w == b"sendTransaction") {
                    sending.store(true, Ordering::SeqCst);
                }
                if to_server.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        };
        let responses = async {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n @ 1..) = from_server.read(&mut buf).await {
                if sending.load(Ordering::SeqCst) {
                    let cut = self.cut.lock().unwrap().take();
                    if let Some(outage) = cut {
                        self.outage(outage);
                        return;
                    }
                }
                if to_client.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        };
        let mut down = self.up.subscribe();
        tokio::select! {
            _ = requests => {}
            _ = responses => {}
            _ = down.wait_for(|up| !*up) => {}
        }
    }

    fn outage(self: &Arc<Self>, duration: Duration) {
        self.set_up(false);
        let p = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            p.set_up(true);
        });
    }

    /// Takes the endpoint down (`false`) or brings it back.
    pub fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }

    /// Arms a cut: the next `sendTransaction` response is dropped and the endpoint stays down
    /// for `outage`.
    pub fn cut_after_send(&self, outage: Duration) {
        *self.cut.lock().unwrap() = Some(outage);
    }

    /// Whether an armed cut has not fired yet.
    pub fn cut_pending(&self) -> bool {
        self.cut.lock().unwrap().is_some()
    }
}
