//! Two deployments of the same binary on one chain: a client of each, told the program's
//! address, sees and acts on its own deployment's accounts only.

use gpufuel_chain::{ChainError, GpuFuelClient, LocalChain, PROGRAM_ID, local::deploy_at, pda};
use gpufuel_core::instruction::GpuClassArgs;
use gpufuel_fixtures::{CLASS, STAKE, job_spec, options, world::spec};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

const LAMPORTS_PER_SOL: u64 = 1_000_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_of_two_deployments_see_only_their_own_accounts() {
    let chain = LocalChain::new().unwrap();
    let admin = chain.admin();
    let second = Address::new_unique();
    deploy_at(&mut chain.svm(), &second, &admin.pubkey()).unwrap();
    let first = GpuFuelClient::new(chain.clone()).with_options(options());
    let other = GpuFuelClient::new(chain.clone()).with_program(second).with_options(options());
    assert_eq!((*first.program(), *other.program()), (PROGRAM_ID, second));
    for (client, ref_price) in [(&first, 100), (&other, 777)] {
        client.init_market(&admin, &chain.mint(), Default::default(), 8).await.unwrap();
        client.add_gpu_class(&admin, GpuClassArgs { class_id: CLASS, ref_price, min_price: 1 }).await.unwrap();
    }
    assert_eq!(first.prices().await.unwrap(), vec![(CLASS, 100)]);
    assert_eq!(other.prices().await.unwrap(), vec![(CLASS, 777)]);

    // A node, a submitter and a job in the second deployment only.
    let (node, submitter) = (chain.wallet(2 * STAKE).unwrap(), chain.wallet(3 * STAKE).unwrap());
    other.register_node(&node.keypair, &node.token, spec(1), STAKE).await.unwrap();
    other.register_submitter(&submitter.keypair, &submitter.token, STAKE).await.unwrap();
    let job =
        other.create_job(&submitter.keypair, &submitter.token, job_spec(1, CLASS, 1_000, chain.now())).await.unwrap();
    assert_eq!(job, pda::job(&second, &submitter.keypair.pubkey(), 1));
    assert_eq!(other.jobs(&[]).await.unwrap().iter().map(|(a, _)| *a).collect::<Vec<_>>(), vec![job]);
    assert_eq!(other.nodes(None).await.unwrap().len(), 1);
    assert!(first.jobs(&[]).await.unwrap().is_empty());
    assert!(first.nodes(None).await.unwrap().is_empty());
    assert!(matches!(first.job(&job).await, Err(ChainError::Account(_))), "another deployment's job is not one");
    assert!(matches!(first.submitter(&submitter.keypair.pubkey()).await, Err(ChainError::Account(_))));

    // The first deployment's own submitter account is a separate stake, at its own address.
    let before = chain.balance(&submitter.token);
    first.register_submitter(&submitter.keypair, &submitter.token, STAKE).await.unwrap();
    assert_eq!(chain.balance(&submitter.token), before - STAKE);
    assert_ne!(
        pda::submitter(&PROGRAM_ID, &submitter.keypair.pubkey()),
        pda::submitter(&second, &submitter.keypair.pubkey())
    );
    assert_eq!(first.submitter(&submitter.keypair.pubkey()).await.unwrap().header.stake, STAKE);
}

/// `gpufuel program deploy`'s steps on the embedded chain: a buffer written in parallel chunks, a
/// write resumed from what the buffer already held, a deploy that runs (the upgrade authority
/// creates a market), an upgrade from a second buffer, and the authority handed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_program_deploys_from_a_resumed_buffer_write_and_upgrades() {
    use gpufuel_chain::{PROGRAM_SO, deploy};
    let chain = LocalChain::new().unwrap();
    let authority = Keypair::new();
    chain.svm().airdrop(&authority.pubkey(), 100 * LAMPORTS_PER_SOL).unwrap();
    let (so, opts) = (PROGRAM_SO, options());

    let seen = std::sync::Mutex::new(vec![]);
    let buffer =
        deploy::write_buffer(&chain, &authority, so, &opts, 8, |done, total| seen.lock().unwrap().push((done, total)))
            .await
            .unwrap();
    let chunks = so.len().div_ceil(deploy::chunk_len(&authority.pubkey(), &buffer.address));
    assert_eq!((buffer.written, buffer.kept), (chunks, 0));
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.first(), Some(&(0, chunks)));
    assert_eq!(seen.last(), Some(&(chunks, chunks)), "every chunk reported");
    assert_eq!(buffer.address, deploy::buffer_address(&authority.pubkey(), so).0);

    // An interrupted write leaves chunks unwritten (zero): the next call writes only those.
    let mut account = chain.svm().get_account(&buffer.address).unwrap();
    let header = account.data.len() - so.len();
    account.data[header + 2_000..header + 10_000].fill(0);
    chain.svm().set_account(buffer.address, account).unwrap();
    let resumed = deploy::write_buffer(&chain, &authority, so, &opts, 8, |_, _| {}).await.unwrap();
    assert_eq!(resumed.address, buffer.address);
    assert!(resumed.written >= 8 && resumed.written <= 10, "{resumed:?}");
    assert_eq!(resumed.kept + resumed.written, chunks);

    // Deployed, it runs: its upgrade authority creates a market there.
    let program = Keypair::new();
    deploy::deploy(&chain, &authority, &program, &buffer.address, 2 * so.len(), &opts).await.unwrap();
    chain.advance(1);
    assert!(chain.svm().get_account(&buffer.address).is_none(), "the buffer is closed into the program");
    let client = GpuFuelClient::new(chain.clone()).with_program(program.pubkey()).with_options(options());
    assert_eq!(client.upgrade_authority().await.unwrap(), Some(authority.pubkey()));
    client.init_market(&authority, &chain.mint(), Default::default(), 8).await.unwrap();
    client.add_gpu_class(&authority, GpuClassArgs { class_id: CLASS, ref_price: 5, min_price: 1 }).await.unwrap();
    assert_eq!(client.prices().await.unwrap(), vec![(CLASS, 5)]);

    // An upgrade from a fresh buffer at the same address, then another authority; the old one
    // can upgrade no more.
    let again = deploy::write_buffer(&chain, &authority, so, &opts, 8, |_, _| {}).await.unwrap();
    deploy::upgrade(&chain, &authority, &program.pubkey(), &again.address, so.len(), &opts).await.unwrap();
    let next = Address::new_unique();
    deploy::set_upgrade_authority(&chain, &authority, &program.pubkey(), Some(&next), &opts).await.unwrap();
    assert_eq!(client.upgrade_authority().await.unwrap(), Some(next));
    let third = deploy::write_buffer(&chain, &authority, so, &opts, 8, |_, _| {}).await.unwrap();
    assert!(deploy::upgrade(&chain, &authority, &program.pubkey(), &third.address, so.len(), &opts).await.is_err());
    assert_eq!(client.prices().await.unwrap(), vec![(CLASS, 5)], "the market survived the upgrade");
}
