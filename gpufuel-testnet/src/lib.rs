//! Test and benchmark support: a GPUFuel market built through transactions on any [`Cluster`],
//! the embedded LiteSVM chain ([`Local`]) or an embedded surfpool JSON-RPC server ([`Surfnet`]).
//! Not for production use.

mod market;
mod surfnet;

pub use market::{CLASS, Cluster, LAMPORTS, Local, Market, REF_PRICE, STAKE, Wallet, options};
pub use surfnet::{Proxy, Surfnet};
