//! One binary at any address: the program derives its PDAs from, and checks owners against, the
//! address the runtime invoked it at. A second deployment of the same `.so` beside the first has
//! a market of its own, and neither accepts the other's accounts.
use gpufuel_chain::{PROGRAM_ID, ix, local::deploy_at, pda};
use gpufuel_core::{GpuFuelError, instruction::GpuClassArgs, seeds, state::GpuClass};
use gpufuel_fixtures::{market::validator_set_account, world::*};
use solana_address::Address;
use solana_instruction::Instruction;
use solana_signer::Signer;

/// `ix` addressed to the deployment at `program`: its program id, and each of the first
/// deployment's PDAs in `pdas` swapped for the one `program` derives from the same seeds.
fn at(program: &Address, mut ix: Instruction, pdas: &[&[&[u8]]]) -> Instruction {
    ix.program_id = *program;
    for seeds in pdas {
        let (first, second) =
            (Address::find_program_address(seeds, &PROGRAM_ID).0, Address::find_program_address(seeds, program).0);
        for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == first) {
            meta.pubkey = second;
        }
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
    let first_market = chain.data(&pda::market()).unwrap();
    let first_class = chain.account::<GpuClass>(&pda::gpu_class(CLASS)).unwrap();

    // The second deployment's market: its PDAs derive from its own address, and its validator
    // set is an account it owns.
    let (set, create) = validator_set_account(chain, &authority.address(), &second);
    let init = ix::init_market(&authority.address(), &chain.mint(), &set.pubkey(), Default::default());
    let program_data = (pda::program_data(), pda::program_data_of(&second));
    let mut init = at(&second, init, &[&[seeds::MARKET], &[seeds::VAULT]]);
    for meta in init.accounts.iter_mut().filter(|m| m.pubkey == program_data.0) {
        meta.pubkey = program_data.1;
    }
    chain.send(&[create, init], &[&authority.keypair, &set]).unwrap();
    let market = Address::find_program_address(&[seeds::MARKET], &second).0;
    assert_ne!(market, pda::market());
    assert_eq!(chain.svm().get_account(&market).unwrap().owner, second);

    // A class of the same id at another price, in the second market only.
    let args = GpuClassArgs { class_id: CLASS, ref_price: 777, min_price: 7 };
    let class_seeds: &[&[u8]] = &[seeds::GPU_CLASS, &[CLASS]];
    let add = at(&second, ix::add_gpu_class(&authority.address(), args), &[&[seeds::MARKET], class_seeds]);
    chain.send(&[add], &[&authority.keypair]).unwrap();
    let class = Address::find_program_address(class_seeds, &second).0;
    let account = chain.svm().get_account(&class).unwrap();
    assert_eq!(account.owner, second);
    assert_eq!(<GpuClass as borsh::BorshDeserialize>::try_from_slice(&account.data).unwrap().ref_price, 777);
    assert_eq!(chain.data(&pda::market()).unwrap(), first_market, "the first market is untouched");
    assert_eq!(chain.account::<GpuClass>(&pda::gpu_class(CLASS)).unwrap(), first_class);

    // Each deployment refuses the other's market (owned by the other program) and a class
    // address derived from the other's id.
    let args = GpuClassArgs { class_id: OTHER_CLASS + 1, ref_price: 50, min_price: 5 };
    let other_seeds: &[&[u8]] = &[seeds::GPU_CLASS, &[OTHER_CLASS + 1]];
    let cross = at(&second, ix::add_gpu_class(&authority.address(), args), &[other_seeds]);
    refused(chain.send(&[cross], &[&authority.keypair]), GpuFuelError::InvalidAccountOwner);
    let mut cross = ix::add_gpu_class(&authority.address(), args);
    for meta in cross.accounts.iter_mut().filter(|m| m.pubkey == pda::market()) {
        meta.pubkey = market;
    }
    refused(chain.send(&[cross], &[&authority.keypair]), GpuFuelError::InvalidAccountOwner);
    let wrong_class = at(&second, ix::add_gpu_class(&authority.address(), args), &[&[seeds::MARKET]]);
    refused(chain.send(&[wrong_class], &[&authority.keypair]), GpuFuelError::InvalidPda);
    assert!(chain.data(&pda::gpu_class(OTHER_CLASS + 1)).is_none());
    assert!(chain.data(&Address::find_program_address(other_seeds, &second).0).is_none());
}
