//! DESIGN.md's attack classes against the instructions they apply to. Each attack must be refused
//! with the specific program error and leave every watched account and the vault unchanged.
//! Sysvar spoofing does not apply: no instruction takes a sysvar account (clock, rent and slot
//! hashes are read by syscall).
use gpufuel_chain::{
    ChainError, PROGRAM_ID,
    ix::{self, Leaving, Role},
    pda,
};
use gpufuel_core::{
    GpuFuelError,
    instruction::GpuFuelInstruction,
    state::{MarketParams, NodeSpec},
};
use gpufuel_fixtures::world::*;
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// Runs `send`, expects `expected`, and checks that `watch` and the vault did not change.
fn attack(
    w: &mut World,
    watch: &[Address],
    expected: GpuFuelError,
    send: impl FnOnce(&mut World) -> Result<u64, ChainError>,
) {
    let snapshot = |w: &World| (w.m.vault_balance(), watch.iter().map(|a| w.m.chain.data(a)).collect::<Vec<_>>());
    let before = snapshot(w);
    refused(send(w), expected);
    assert_eq!(snapshot(w), before, "a refused attack changed state");
    w.assert_conserved();
}

fn send(w: &mut World, ix: Instruction, signer: &Keypair) -> Result<u64, ChainError> {
    w.m.chain.send(&[ix], &[signer])
}

#[test]
fn missing_signer() {
    let mut w = world();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let thief = Keypair::new();
    w.m.chain.svm().airdrop(&thief.pubkey(), 1_000_000_000).unwrap();
    let n = w.nodes[0].address();
    let cases: Vec<Instruction> = vec![
        ix::bid(&PROGRAM_ID, &n, &job, CLASS, 500, None),
        ix::heartbeat(&PROGRAM_ID, &n),
        ix::cancel(&PROGRAM_ID, &w.submitter.address(), &job, CLASS, &w.submitter.token, None),
        ix::request_unstake(&PROGRAM_ID, &n, Role::Node, Leaving::Node { gpu_class: CLASS }),
        ix::propose_params(&PROGRAM_ID, &w.m.authority.address(), MarketParams::default()),
        ix::transfer_authority(&PROGRAM_ID, &w.m.authority.address(), &n),
    ];
    for mut ix in cases {
        ix.accounts[0].is_signer = false;
        attack(
            &mut w,
            &[job, pda::node(&PROGRAM_ID, &n), pda::market(&PROGRAM_ID)],
            GpuFuelError::MissingSignature,
            |w| send(w, ix, &thief),
        );
    }
}

#[test]
fn missing_owner_check() {
    let mut w = world();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    // A byte-perfect copy of the job owned by another program.
    let fake = Address::new_unique();
    let mut account = w.m.chain.svm().get_account(&job).unwrap();
    account.owner = spl_token_interface::ID;
    w.m.chain.svm().set_account(fake, account).unwrap();
    let n = &w.nodes[0];
    let (op, key) = (n.address(), n.keypair.insecure_clone());
    attack(&mut w, &[fake, pda::node(&PROGRAM_ID, &op)], GpuFuelError::InvalidAccountOwner, |w| {
        send(w, ix::bid(&PROGRAM_ID, &op, &fake, CLASS, 500, None), &key)
    });
}

#[test]
fn account_data_matching() {
    let mut w = world();
    // Wrong mint: a token account of another mint as the stake source.
    let other_mint = Keypair::new();
    let auth = w.m.authority.keypair.insecure_clone();
    let rent = w.m.chain.svm().minimum_balance_for_rent_exemption(82);
    let create = solana_system_interface::instruction::create_account(
        &auth.pubkey(),
        &other_mint.pubkey(),
        rent,
        82,
        &spl_token_interface::ID,
    );
    let init = spl_token_interface::instruction::initialize_mint2(
        &spl_token_interface::ID,
        &other_mint.pubkey(),
        &auth.pubkey(),
        None,
        6,
    )
    .unwrap();
    w.m.chain.send(&[create, init], &[&auth, &other_mint]).unwrap();
    let v = w.m.chain.wallet(0).unwrap();
    let foreign = w.m.chain.token_account_of(&v.keypair, &v.address(), &other_mint.pubkey()).unwrap();
    attack(&mut w, &[pda::validator(&PROGRAM_ID, &v.address())], GpuFuelError::InvalidMint, |w| {
        send(w, ix::register_validator(&PROGRAM_ID, &v.address(), &foreign, 1_000_000), &v.keypair)
    });

    // Wrong vault: top up into the attacker's own token account.
    let n = w.nodes[0].clone();
    let mut top_up = ix::top_up(&PROGRAM_ID, &n.address(), Role::Node, &n.token, 1_000, None);
    top_up.accounts[4].pubkey = w.nodes[1].token;
    attack(&mut w, &[pda::node(&PROGRAM_ID, &n.address())], GpuFuelError::InvalidVault, |w| {
        send(w, top_up, &n.keypair)
    });

    // Wrong job for this node: node 0 submits a result for node 1's job.
    let job = w.assigned_job(1, 1, 500);
    let ix = ix::submit_result(&PROGRAM_ID, &n.address(), &job, gpufuel_fixtures::sample_cid(1), [1; 32], false);
    attack(&mut w, &[job], GpuFuelError::WrongNode, |w| send(w, ix, &n.keypair));

    // Payout redirection: settle with the node's token account swapped for the caller's.
    let job = w.submitted_job(2, 0, 500);
    w.vote(&job, |_, _| Some(true));
    w.m.end_windows(&job);
    let mut accounts = w.m.settle_accounts(&job).unwrap();
    accounts.node_token = w.nodes[2].token;
    let thief = w.nodes[2].keypair.insecure_clone();
    let watched = [job, w.nodes[2].token];
    attack(&mut w, &watched, GpuFuelError::InvalidTokenOwner, |w| send(w, ix::settle(&PROGRAM_ID, &accounts), &thief));
    // A validator set of the attacker's making, where the market's belongs.
    let mut accounts = w.m.settle_accounts(&job).unwrap();
    accounts.validator_set = job;
    attack(&mut w, &[job], GpuFuelError::InvalidValidatorSet, |w| send(w, ix::settle(&PROGRAM_ID, &accounts), &thief));
}

#[test]
fn type_cosplay() {
    let mut w = world();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let n = w.nodes[0].clone();
    // A validator account (same owner program) where the node belongs.
    let mut bid = ix::bid(&PROGRAM_ID, &n.address(), &job, CLASS, 500, None);
    bid.accounts[2].pubkey = pda::validator(&PROGRAM_ID, &w.validators[0].address());
    attack(&mut w, &[job], GpuFuelError::InvalidAccountType, |w| send(w, bid, &n.keypair));
    // The market where a job belongs.
    let mut bid = ix::bid(&PROGRAM_ID, &n.address(), &job, CLASS, 500, None);
    bid.accounts[3].pubkey = pda::market(&PROGRAM_ID);
    attack(&mut w, &[job], GpuFuelError::InvalidAccountType, |w| send(w, bid, &n.keypair));
}

#[test]
fn reinitialisation() {
    let mut w = world();
    let a = w.m.authority.clone();
    let set = w.m.validator_set;
    let mint = w.m.chain.mint();
    attack(&mut w, &[pda::market(&PROGRAM_ID), set], GpuFuelError::AlreadyInitialized, |w| {
        send(w, ix::init_market(&PROGRAM_ID, &a.address(), &mint, &set, MarketParams::default()), &a.keypair)
    });
    let n = w.nodes[0].clone();
    attack(&mut w, &[pda::node(&PROGRAM_ID, &n.address())], GpuFuelError::AlreadyInitialized, |w| {
        send(w, ix::register_node(&PROGRAM_ID, &n.address(), &n.token, spec(100), STAKE), &n.keypair)
    });
    w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let s = w.submitter.clone();
    let spec = w.job_spec(1, 2_000);
    attack(&mut w, &[pda::job(&PROGRAM_ID, &s.address(), 1)], GpuFuelError::AlreadyInitialized, |w| {
        send(w, ix::create_job(&PROGRAM_ID, &s.address(), &s.token, spec), &s.keypair)
    });
}

#[test]
fn arbitrary_cpi_target() {
    let mut w = world();
    let n = w.nodes[0].clone();
    for fake in [Address::new_unique(), solana_sdk_ids::system_program::ID] {
        let mut top_up = ix::top_up(&PROGRAM_ID, &n.address(), Role::Node, &n.token, 1_000, None);
        top_up.accounts[5].pubkey = fake;
        attack(&mut w, &[pda::node(&PROGRAM_ID, &n.address())], GpuFuelError::InvalidTokenProgram, |w| {
            send(w, top_up, &n.keypair)
        });
    }
    let v = w.m.chain.wallet(STAKE).unwrap();
    let mut register = ix::register_validator(&PROGRAM_ID, &v.address(), &v.token, STAKE);
    register.accounts[5].pubkey = Address::new_unique();
    attack(&mut w, &[pda::validator(&PROGRAM_ID, &v.address())], GpuFuelError::InvalidSystemProgram, |w| {
        send(w, register, &v.keypair)
    });
}

#[test]
fn duplicate_mutable_accounts() {
    let mut w = world();
    let job = w.submitted_job(1, 0, 500);
    w.vote(&job, |_, _| Some(true));
    w.m.end_windows(&job);
    // Seat 0's account replaced by another validator's (a seat may not be paid twice).
    let mut accounts = w.m.settle_accounts(&job).unwrap();
    let others: Vec<Address> = w.validators.iter().map(|v| pda::validator(&PROGRAM_ID, &v.address())).collect();
    accounts.seats[0] = *others.iter().find(|a| **a != accounts.seats[0]).unwrap();
    let caller = w.nodes[1].keypair.insecure_clone();
    attack(&mut w, &[job], GpuFuelError::VoterMismatch, |w| send(w, ix::settle(&PROGRAM_ID, &accounts), &caller));
    // The node's account passed as the submitter's account too.
    let mut accounts = ix::settle(&PROGRAM_ID, &w.m.settle_accounts(&job).unwrap());
    accounts.accounts[3].pubkey = accounts.accounts[2].pubkey;
    attack(&mut w, &[job], GpuFuelError::InvalidAccountType, |w| send(w, accounts, &caller));
}

#[test]
fn non_canonical_or_foreign_pda() {
    let mut w = world();
    let n = w.m.chain.wallet(STAKE).unwrap();
    // Another operator's node address, and a plain keypair address.
    for wrong in [pda::node(&PROGRAM_ID, &w.nodes[0].address()), Address::new_unique()] {
        let mut register = ix::register_node(&PROGRAM_ID, &n.address(), &n.token, spec(100), STAKE);
        register.accounts[2].pubkey = wrong;
        attack(&mut w, &[wrong], GpuFuelError::InvalidPda, |w| send(w, register, &n.keypair));
    }
    // A valid but non-canonical bump for the same seeds.
    let (canonical, bump) = Address::find_program_address(&[b"node", n.address().as_ref()], &gpufuel_chain::PROGRAM_ID);
    let other = (0..bump).rev().find_map(|b| {
        Address::create_program_address(&[b"node", n.address().as_ref(), &[b]], &gpufuel_chain::PROGRAM_ID).ok()
    });
    if let Some(other) = other {
        assert_ne!(other, canonical);
        let mut register = ix::register_node(&PROGRAM_ID, &n.address(), &n.token, spec(100), STAKE);
        register.accounts[2].pubkey = other;
        attack(&mut w, &[other], GpuFuelError::InvalidPda, |w| send(w, register, &n.keypair));
    }
}

#[test]
fn pda_sharing_between_users() {
    let mut w = world();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let thief = w.nodes[1].clone();
    let mut bid = ix::bid(&PROGRAM_ID, &thief.address(), &job, CLASS, 500, None);
    bid.accounts[2].pubkey = pda::node(&PROGRAM_ID, &w.nodes[0].address());
    attack(&mut w, &[job], GpuFuelError::Unauthorized, |w| send(w, bid, &thief.keypair));
    let victim = pda::node(&PROGRAM_ID, &w.nodes[0].address());
    let mut top_up = ix::top_up(&PROGRAM_ID, &thief.address(), Role::Node, &thief.token, 5, None);
    top_up.accounts[2].pubkey = victim;
    attack(&mut w, &[victim], GpuFuelError::Unauthorized, |w| send(w, top_up, &thief.keypair));
    let s = w.submitter.clone();
    let mut cancel = ix::cancel(&PROGRAM_ID, &thief.address(), &job, CLASS, &thief.token, None);
    cancel.accounts[3].pubkey = pda::submitter(&PROGRAM_ID, &s.address());
    attack(&mut w, &[job], GpuFuelError::Unauthorized, |w| send(w, cancel, &thief.keypair));
}

#[test]
fn closed_account_cannot_be_revived() {
    let mut w = world();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    let s = w.submitter.clone();
    refused(send(&mut w, ix::close_job(&PROGRAM_ID, &s.address(), &job), &s.keypair), GpuFuelError::InvalidJobState);
    send(&mut w, ix::cancel(&PROGRAM_ID, &s.address(), &job, CLASS, &s.token, None), &s.keypair).unwrap();
    // Close and send lamports back in the same transaction: the address is a plain system account.
    let revive = solana_system_interface::instruction::transfer(&s.address(), &job, 10_000_000);
    w.m.chain.send(&[ix::close_job(&PROGRAM_ID, &s.address(), &job), revive], &[&s.keypair]).unwrap();
    let n = w.nodes[0].clone();
    attack(&mut w, &[job], GpuFuelError::InvalidAccountOwner, |w| {
        send(w, ix::bid(&PROGRAM_ID, &n.address(), &job, CLASS, 500, None), &n.keypair)
    });
    attack(&mut w, &[job], GpuFuelError::InvalidAccountOwner, |w| {
        send(w, ix::cancel(&PROGRAM_ID, &s.address(), &job, CLASS, &s.token, None), &s.keypair)
    });
}

#[test]
fn overflow_and_bad_input() {
    let mut w = world();
    let s = w.submitter.clone();
    let now = w.m.chain.now();
    let cases: Vec<(gpufuel_core::instruction::JobSpec, GpuFuelError)> = vec![
        (
            {
                let mut j = w.job_spec(1, u64::MAX);
                j.gpu_seconds = 2;
                j
            },
            GpuFuelError::Overflow,
        ),
        (
            {
                let mut j = w.job_spec(2, 100);
                j.deadline = now - 1;
                j
            },
            GpuFuelError::InvalidDeadline,
        ),
        (
            {
                let mut j = w.job_spec(3, 100);
                j.deadline = now + 10;
                j
            },
            GpuFuelError::InvalidDeadline,
        ),
        (
            {
                let mut j = w.job_spec(4, 0);
                j.max_price = 0;
                j
            },
            GpuFuelError::ZeroAmount,
        ),
        (
            {
                let mut j = w.job_spec(5, 100);
                j.gpu_seconds = 0;
                j
            },
            GpuFuelError::ZeroAmount,
        ),
        (
            {
                let mut j = w.job_spec(6, 100);
                j.gpu_count = 0;
                j
            },
            GpuFuelError::InvalidGpuSpec,
        ),
        (
            {
                let mut j = w.job_spec(7, 100);
                j.input_cid.bytes[0] = 0x07;
                j
            },
            GpuFuelError::InvalidCid,
        ),
        (
            {
                let mut j = w.job_spec(8, 100);
                j.urgent = true;
                j.max_price = u64::MAX / 100;
                j
            },
            GpuFuelError::Overflow,
        ),
    ];
    for (spec, expected) in cases {
        let job = pda::job(&PROGRAM_ID, &s.address(), spec.job_id);
        attack(&mut w, &[job], expected, |w| {
            send(w, ix::create_job(&PROGRAM_ID, &s.address(), &s.token, spec), &s.keypair)
        });
    }
    // Unknown GPU class: the class account does not match the requested class.
    let mut spec = w.job_spec(9, 100);
    spec.gpu_class = 7;
    let mut create = ix::create_job(&PROGRAM_ID, &s.address(), &s.token, spec);
    create.accounts[4].pubkey = pda::gpu_class(&PROGRAM_ID, CLASS);
    attack(&mut w, &[pda::job(&PROGRAM_ID, &s.address(), 9)], GpuFuelError::UnknownGpuClass, |w| {
        send(w, create, &s.keypair)
    });
    // Malformed instruction data: unknown tag, truncated fields, trailing bytes.
    let n = w.nodes[0].clone();
    let good = ix::heartbeat(&PROGRAM_ID, &n.address());
    for data in
        [vec![200u8], GpuFuelInstruction::Bid { price: 5 }.pack()[..4].to_vec(), [good.data.clone(), vec![0]].concat()]
    {
        let mut bad = good.clone();
        bad.data = data;
        attack(&mut w, &[pda::node(&PROGRAM_ID, &n.address())], GpuFuelError::InvalidInstruction, |w| {
            send(w, bad, &n.keypair)
        });
    }
    // Missing accounts.
    let mut short = ix::bid(&PROGRAM_ID, &n.address(), &pda::job(&PROGRAM_ID, &s.address(), 1), CLASS, 5, None);
    short.accounts.truncate(3);
    attack(&mut w, &[], GpuFuelError::NotEnoughAccounts, |w| send(w, short, &n.keypair));
    // Invalid market parameters.
    let a = w.m.authority.clone();
    let mut params = MarketParams::default();
    params.terms.protocol_fee_bps = 9_000;
    attack(&mut w, &[pda::market(&PROGRAM_ID)], GpuFuelError::InvalidParams, |w| {
        send(w, ix::propose_params(&PROGRAM_ID, &a.address(), params), &a.keypair)
    });
    let n2 = w.nodes[1].clone();
    attack(&mut w, &[pda::market(&PROGRAM_ID)], GpuFuelError::Unauthorized, |w| {
        send(w, ix::propose_params(&PROGRAM_ID, &n2.address(), MarketParams::default()), &n2.keypair)
    });
}

#[test]
fn double_vote_outsider_vote_bad_reveal_double_settlement() {
    let mut w = world();
    let job = w.submitted_job(1, 0, 500);
    w.m.chain.advance(1);
    let payer = w.submitter.clone();
    let (draw, _) = w.m.draw_ix(&job).unwrap();
    w.send(draw, &payer).unwrap();
    let seats = w.m.seats(&job).unwrap();
    let (seat, key) = (seats[0].0, seats[0].1.insecure_clone());
    let commit = w.m.commit_ix(&job, seat, &key.pubkey(), false).unwrap();
    send(&mut w, commit.clone(), &key).unwrap();
    attack(&mut w, &[job], GpuFuelError::AlreadyVoted, |w| send(w, commit, &key));
    // A registered validator not drawn into the seat cannot vote on it.
    let outsider = w.m.validator(STAKE, 0).unwrap();
    let ix = w.m.commit_ix(&job, seats[1].0, &outsider.address(), false).unwrap();
    attack(&mut w, &[job], GpuFuelError::NotOnCommittee, |w| send(w, ix, &outsider.keypair));
    // Nor on a seat beyond the round's.
    let ix = w.m.commit_ix(&job, 15, &key.pubkey(), false).unwrap();
    attack(&mut w, &[job], GpuFuelError::NotOnCommittee, |w| send(w, ix, &key));
    // A reveal must open the commitment: the other vote does not.
    w.m.chain.advance(30);
    let ix = w.m.reveal_ix(&job, seat, &key.pubkey(), true);
    attack(&mut w, &[job], GpuFuelError::BadReveal, |w| send(w, ix, &key));
    let ix = w.m.reveal_ix(&job, seat, &key.pubkey(), false);
    send(&mut w, ix.clone(), &key).unwrap();
    attack(&mut w, &[job], GpuFuelError::AlreadyVoted, |w| send(w, ix, &key));
    // One fail of quorum two: undecided, so the round escalates; nothing settles it meanwhile.
    w.m.chain.advance(31);
    let caller = w.nodes[1].keypair.insecure_clone();
    let accounts = w.m.settle_accounts(&job).unwrap();
    attack(&mut w, &[job], GpuFuelError::NotFinal, |w| send(w, ix::settle(&PROGRAM_ID, &accounts), &caller));
    w.send(w.m.draw_ix(&job).unwrap().0, &payer).unwrap();
    w.vote(&job, |_, _| Some(false));
    let accounts = w.m.settle_accounts(&job).unwrap();
    send(&mut w, ix::settle(&PROGRAM_ID, &accounts), &caller).unwrap();
    attack(&mut w, &[job], GpuFuelError::InvalidJobState, |w| send(w, ix::settle(&PROGRAM_ID, &accounts), &caller));
    let ix = w.m.commit_ix(&job, seat, &key.pubkey(), true).unwrap();
    attack(&mut w, &[job], GpuFuelError::InvalidJobState, |w| send(w, ix, &key));
}

#[test]
fn bidding_rules() {
    let mut w = world();
    let weak = w.m.node(NodeSpec { vram_mib: 1_024, ..spec(100) }, STAKE, 0).unwrap();
    let job = w.m.create_job(&w.submitter, w.job_spec(1, 2_000)).unwrap();
    attack(&mut w, &[job], GpuFuelError::RequirementsNotMet, |w| {
        send(w, ix::bid(&PROGRAM_ID, &weak.address(), &job, CLASS, 500, None), &weak.keypair)
    });
    let n = w.nodes[2].clone(); // floor 102
    attack(&mut w, &[job], GpuFuelError::BidBelowFloor, |w| {
        send(w, ix::bid(&PROGRAM_ID, &n.address(), &job, CLASS, 101, None), &n.keypair)
    });
    attack(&mut w, &[job], GpuFuelError::BidAboveMax, |w| {
        send(w, ix::bid(&PROGRAM_ID, &n.address(), &job, CLASS, 2_001, None), &n.keypair)
    });
    send(&mut w, ix::bid(&PROGRAM_ID, &n.address(), &job, CLASS, 500, None), &n.keypair).unwrap();
    let m = w.nodes[0].clone();
    let leader = pda::node(&PROGRAM_ID, &n.address());
    attack(&mut w, &[job], GpuFuelError::BidNotBetter, |w| {
        send(w, ix::bid(&PROGRAM_ID, &m.address(), &job, CLASS, 500, Some(&leader)), &m.keypair)
    });
    // Outbidding must release the real leader.
    let wrong = pda::node(&PROGRAM_ID, &w.nodes[1].address());
    attack(&mut w, &[job, leader], GpuFuelError::WrongNode, |w| {
        send(w, ix::bid(&PROGRAM_ID, &m.address(), &job, CLASS, 400, Some(&wrong)), &m.keypair)
    });
    w.m.chain.advance(31);
    attack(&mut w, &[job], GpuFuelError::BiddingClosed, |w| {
        send(w, ix::bid(&PROGRAM_ID, &m.address(), &job, CLASS, 400, Some(&leader)), &m.keypair)
    });
    // Assign must name the best bidder.
    let mut assign = w.m.assign_ix(&job).unwrap();
    assign.accounts[2].pubkey = pda::node(&PROGRAM_ID, &m.address());
    attack(&mut w, &[job], GpuFuelError::WrongNode, |w| send(w, assign, &m.keypair));
}
