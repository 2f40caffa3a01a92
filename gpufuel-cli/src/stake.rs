//! `gpufuel node|validator|submitter status|top-up|unstake|withdraw`: a staker's account, its
//! stake and the work that holds it.

use gpufuel_chain::{
    Chain,
    ix::Role,
    pda,
    query::{self, JobFilter},
};
use gpufuel_core::{
    class::class_name,
    settlement,
    state::{JobState, StakeHeader},
};
use solana_address::Address;
use solana_signer::Signer;

use crate::{CliResult, connection::Connection};

#[derive(clap::Subcommand)]
pub enum StakeCommand {
    /// The stake, its state, the jobs in flight and the account's record.
    Status,
    /// Adds tokens from the wallet's token account to the stake.
    TopUp {
        /// Tokens (base units).
        amount: u64,
    },
    /// Stops taking work and starts the cooldown; refused, naming the jobs, while any is in flight.
    Unstake,
    /// After the cooldown, returns the stake to the wallet's token account and closes the account.
    Withdraw,
}

pub async fn run(connection: &Connection, role: Role, command: StakeCommand) -> CliResult {
    let (client, keypair) = (&connection.client, &connection.keypair);
    match command {
        StakeCommand::Status => {
            let (header, record) = account(connection, role).await?;
            let now = client.chain().unix_time().await?;
            println!("{} {} ({})", name(role), keypair.pubkey(), state(&header, now));
            println!("stake      {}", header.stake);
            let jobs = in_flight(connection, role).await?;
            println!("in flight  {}", listed(&jobs));
            println!("{record}");
            if role == Role::Node {
                earnings(connection).await?;
            }
        }
        StakeCommand::TopUp { amount } => {
            let token = connection.token().await?;
            let held = query::token_balance(client.chain(), &token).await?;
            if held < amount {
                return Err(format!("the wallet's token account {token} holds {held}, less than {amount}").into());
            }
            client.top_up(keypair, role, &token, amount).await?;
            println!("stake {}", account(connection, role).await?.0.stake);
        }
        StakeCommand::Unstake => {
            let jobs = in_flight(connection, role).await?;
            if !jobs.is_empty() {
                return Err(format!("work in flight holds the stake: {}; unstake once they end", listed(&jobs)).into());
            }
            client.request_unstake(keypair, role).await?;
            let now = client.chain().unix_time().await?;
            println!("{}", state(&account(connection, role).await?.0, now));
        }
        StakeCommand::Withdraw => {
            let (header, _) = account(connection, role).await?;
            let now = client.chain().unix_time().await?;
            if header.is_active() {
                return Err("the stake is active: unstake first, then withdraw after the cooldown".into());
            }
            if now < header.unstake_ready_at {
                return Err(format!("the cooldown ends in {} s", header.unstake_ready_at - now).into());
            }
            let token = connection.token().await?;
            client.withdraw(keypair, role, &token).await?;
            println!("{} tokens returned to {token}", header.stake);
        }
    }
    Ok(())
}

/// What the node's ended jobs still on chain paid or cost it, by the settlement rules applied to
/// each job as settlement left it (jobs whose accounts their submitters closed are gone).
async fn earnings(connection: &Connection) -> CliResult {
    let client = &connection.client;
    let node = pda::node(client.program(), &connection.keypair.pubkey());
    let mut ended = vec![];
    for (address, job) in client.jobs(&[JobFilter::Node(node)]).await? {
        let change = match job.job_state() {
            Ok(JobState::Settled) => {
                settlement::pass_payout(job.escrow, job.best_bid, job.gpu_seconds, job.premium, &job.terms)?.node
                    as i128
            }
            // The cover, or the whole stake if it was smaller then.
            Ok(JobState::Slashed) => -(job.cover as i128),
            Ok(JobState::Invalid) => 0,
            _ => continue,
        };
        ended.push((job.decided_at, address, job.job_state()?, change));
    }
    ended.sort_unstable_by_key(|(at, ..)| *at);
    let earned: i128 = ended.iter().map(|(.., c)| (*c).max(0)).sum();
    let lost: i128 = ended.iter().map(|(.., c)| (*c).min(0)).sum();
    println!("earnings   {earned} earned, {} slashed, over {} ended jobs on chain", -lost, ended.len());
    for (_, address, state, change) in ended {
        println!("  {address} {:<9} {change:+}", format!("{state:?}"));
    }
    Ok(())
}

/// The role as the CLI names it.
pub(crate) fn name(role: Role) -> &'static str {
    match role {
        Role::Node => "node",
        Role::Validator => "validator",
        Role::Submitter => "submitter",
    }
}

/// The staker's header and its role's record (a node's with its prices).
async fn account(connection: &Connection, role: Role) -> Result<(StakeHeader, String), Box<dyn std::error::Error>> {
    let (client, owner) = (&connection.client, connection.keypair.pubkey());
    Ok(match role {
        Role::Node => {
            let n = client.node(&owner).await?;
            let class = client.gpu_class(n.gpu_class).await?;
            let record = format!(
                "record     {} completed, {} failed validations, {} missed deadlines; {} of {} GPUs busy\n\
                 price      class {} at {}/GPU-s, this node's floor {}: a GPU-hour earns {} at the \
                 reference, {} at the floor (before fees)",
                n.completed,
                n.failed_validations,
                n.missed_deadlines,
                n.gpus_busy,
                n.gpu_count,
                class_name(n.gpu_class),
                class.ref_price,
                n.price_floor,
                class.ref_price.saturating_mul(3600),
                n.price_floor.saturating_mul(3600),
            );
            (n.header, record)
        }
        Role::Validator => {
            let v = client.validator(&owner).await?;
            let record = format!(
                "record     {} votes ({} with the outcome), {} overruled, {} seats missed; {} in rewards to claim",
                v.votes,
                v.votes.saturating_sub(v.overruled),
                v.overruled,
                v.missed,
                v.rewards
            );
            (v.header, record)
        }
        Role::Submitter => {
            let s = client.submitter(&owner).await?;
            (s.header, format!("record     {} jobs created", s.jobs_created))
        }
    })
}

fn state(header: &StakeHeader, now: i64) -> String {
    if header.is_active() {
        "active".into()
    } else if now >= header.unstake_ready_at {
        "unstaking: the stake can be withdrawn now".into()
    } else {
        format!("unstaking: the stake can be withdrawn in {} s", header.unstake_ready_at - now)
    }
}

/// The jobs that hold the stake: a node's auctions and runs, a submitter's unfinished jobs, a
/// validator's seats on undecided ones.
async fn in_flight(connection: &Connection, role: Role) -> Result<Vec<Address>, Box<dyn std::error::Error>> {
    let (client, owner) = (&connection.client, connection.keypair.pubkey());
    let jobs = match role {
        Role::Node => client.jobs(&[JobFilter::Node(pda::node(client.program(), &owner))]).await?,
        Role::Submitter => client.jobs(&[JobFilter::Submitter(owner)]).await?,
        Role::Validator => {
            let index = client.validator(&owner).await?.index;
            let submitted = client.jobs(&[JobFilter::State(JobState::Submitted)]).await?;
            submitted
                .into_iter()
                .filter(|(_, j)| (0..=j.round).any(|r| j.round_seats(r).iter().any(|s| s.validator == index)))
                .collect()
        }
    };
    Ok(jobs.into_iter().filter(|(_, j)| j.job_state().is_ok_and(|s| !s.is_terminal())).map(|(a, _)| a).collect())
}

fn listed(jobs: &[Address]) -> String {
    match jobs {
        [] => "no jobs".into(),
        [one] => format!("job {one}"),
        many => format!("jobs {}", many.iter().map(Address::to_string).collect::<Vec<_>>().join(", ")),
    }
}
