//! A TCP proxy that can cut its link on demand: a real network failure between
//! two services, for tests of what happens when a peer goes away and comes back.
//! It can also swallow replies, so a call reaches the server and its answer
//! never comes back: the connection dropped mid-call.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    sync::watch,
};

/// Forwards connections to `target` while up; refuses and cuts them while down.
pub struct Proxy {
    addr: SocketAddr,
    target: Arc<Mutex<SocketAddr>>,
    up: Arc<AtomicBool>,
    muted: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts forwarding loopback connections to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let target = Arc::new(Mutex::new(target));
        let accept_target = target.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let up = Arc::new(AtomicBool::new(true));
        let muted = Arc::new(AtomicBool::new(false));
        let (cut, _) = watch::channel(0u64);
        let (accept_up, accept_cut, accept_muted) = (up.clone(), cut.clone(), muted.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !accept_up.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let mut cut = accept_cut.subscribe();
                let muted = accept_muted.clone();
                let target = *accept_target.lock().expect("target lock");
                tokio::spawn(async move {
                    let Ok(outbound) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut from_client, mut to_client) = inbound.split();
                    let (mut from_server, mut to_server) = outbound.into_split();
                    let replies = async {
                        let mut buffer = vec![0u8; 16 * 1024];
                        loop {
                            let read = from_server.read(&mut buffer).await.unwrap_or(0);
                            if read == 0 {
                                break;
                            }
                            if !muted.load(Ordering::SeqCst)
                                && to_client.write_all(&buffer[..read]).await.is_err()
                            {
                                break;
                            }
                        }
                    };
                    tokio::select! {
                        _ = tokio::io::copy(&mut from_client, &mut to_server) => {}
                        () = replies => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self {
            addr,
            target,
            up,
            muted,
            cut,
            task,
        }
    }

    /// `http://127.0.0.1:<port>` of the proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts every open connection and refuses new ones.
    pub fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|generation| *generation += 1);
    }

    /// Forwards again, replies included.
    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
        self.muted.store(false, Ordering::SeqCst);
    }

    /// Forwards new connections to `target` from now on (a restarted service
    /// on another port); open connections are cut.
    pub fn retarget(&self, target: SocketAddr) {
        *self.target.lock().expect("target lock") = target;
        self.cut.send_modify(|generation| *generation += 1);
    }

    /// Keeps forwarding calls but drops every reply.
    pub fn mute_replies(&self) {
        self.muted.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
