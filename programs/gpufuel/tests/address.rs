//! One binary at any address: the program derives its PDAs from, and checks owners against, the
//! address the runtime invoked it at. A second deployment of the same `.so` beside the first has
//! a market of its own, and neither accepts the other's accounts.
use gpufuel_chain::{PROGRAM_ID, ix, local::deploy_at, pda};
use gpufuel_core::{GpuFuelError, instruction::GpuClassArgs, state::GpuClass};
use gpufuel_fixtures::{market::validator_set_account, world::*};
use solana_address::Address;
use solana_instruction::Instruction;
use solana_signer::Signer;

/// `ix` with every `from` account replaced by `to`.
fn swap(mut ix: Instruction, from: Address, to: Address) -> Instruction {
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == from) {
        meta.pubkey = to;
    }
    ix
}

#[test]
fn a_second_deployment_has_its_own_market_and_refuses_the_first_ones_accounts() {
    let w = world();
    let chain = &w.m.chain;
    let authority = &w.m.authority;
    let second = Address::new_unique();
    deploy_at(&mut chain.svm(), &second, &authority.address()).unwrap();
    let first_market = chain.data(&pda::market(&PROGRAM_ID)).unwrap();
    let first_class = chain.account::<GpuClass>(&pda::gpu_class(&PROGRAM_ID, CLASS)).unwrap();

    // The second deployment's market: its PDAs derive from its own address, and its validator
    // set is an account it owns.
    let (set, create) = validator_set_account(chain, &authority.address(), &second);
    let init = ix::init_market(&second, &authority.address(), &chain.mint(), &set.pubkey(), Default::default());
    chain.send(&[create, init], &[&authority.keypair, &set]).unwrap();
    let market = pda::market(&second);
    assert_ne!(market, pda::market(&PROGRAM_ID));
    assert_eq!(chain.svm().get_account(&market).unwrap().owner, second);

    // A class of the same id at another price, in the second market only.
    let args = GpuClassArgs { class_id: CLASS, ref_price: 777, min_price: 7 };
    chain.send(&[ix::add_gpu_class(&second, &authority.address(), args)], &[&authority.keypair]).unwrap();
    let account = chain.svm().get_account(&pda::gpu_class(&second, CLASS)).unwrap();
    assert_eq!(account.owner, second);
    assert_eq!(<GpuClass as borsh::BorshDeserialize>::try_from_slice(&account.data).unwrap().ref_price, 777);
    assert_eq!(chain.data(&pda::market(&PROGRAM_ID)).unwrap(), first_market, "the first market is untouched");
    assert_eq!(chain.account::<GpuClass>(&pda::gpu_class(&PROGRAM_ID, CLASS)).unwrap(), first_class);

    // Each deployment refuses the other's market (owned by the other program) and a class
    // address derived from the other's id.
    let args = GpuClassArgs { class_id: OTHER_CLASS + 1, ref_price: 50, min_price: 5 };
    let add = |program| ix::add_gpu_class(program, &authority.address(), args);
    let cross = swap(add(&second), market, pda::market(&PROGRAM_ID));
    refused(chain.send(&[cross], &[&authority.keypair]), GpuFuelError::InvalidAccountOwner);
    let cross = swap(add(&PROGRAM_ID), pda::market(&PROGRAM_ID), market);
    refused(chain.send(&[cross], &[&authority.keypair]), GpuFuelError::InvalidAccountOwner);
    let (theirs, ours) = (pda::gpu_class(&PROGRAM_ID, OTHER_CLASS + 1), pda::gpu_class(&second, OTHER_CLASS + 1));
    refused(chain.send(&[swap(add(&second), ours, theirs)], &[&authority.keypair]), GpuFuelError::InvalidPda);
    assert!(chain.data(&theirs).is_none());
    assert!(chain.data(&ours).is_none());
}
