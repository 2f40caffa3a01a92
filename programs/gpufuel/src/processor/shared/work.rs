//! A node taking and releasing work (the auctions it leads and the jobs it runs): its GPUs, its
//! locked cover, its count of work in flight, and its class's idle supply move together.

use gpufuel_core::{
    GpuFuelError,
    state::{GpuClass, Job, Node},
};
use pinocchio::ProgramResult;

use super::{err, require};

/// `node` takes `job` (it now leads its auction): the job's GPUs and its cover. Refused unless
/// the node is active, satisfies the job, has the GPUs free and the stake to cover it.
#[inline(never)]
pub fn take_work(node: &mut Node, class: &mut GpuClass, job: &Job, cover: u64) -> ProgramResult {
    require(node.header.is_active(), GpuFuelError::StakerExiting)?;
    require(
        node.gpu_class == job.gpu_class
            && node.vram_mib >= job.min_vram_mib
            && node.gpu_count >= job.gpu_count
            && node.compute_capability >= job.min_compute_capability,
        GpuFuelError::RequirementsNotMet,
    )?;
    require(node.free_gpus() >= job.gpu_count, GpuFuelError::NoFreeGpu)?;
    require(node.free_stake() >= cover, GpuFuelError::InsufficientCover)?;
    if node.is_idle() {
        class.idle_nodes = class.idle_nodes.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    }
    node.gpus_busy += job.gpu_count; // ≤ gpu_count: checked above
    node.locked += cover; // ≤ stake: checked above
    node.header.in_flight = node.header.in_flight.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    Ok(())
}

/// `node` lets go of `job` (outbid, settled, expired, replaced): its GPUs and cover return.
#[inline(never)]
pub fn release_work(node: &mut Node, class: &mut GpuClass, job: &Job) -> ProgramResult {
    node.gpus_busy = node.gpus_busy.checked_sub(job.gpu_count).ok_or(err(GpuFuelError::Overflow))?;
    node.locked = node.locked.checked_sub(job.cover).ok_or(err(GpuFuelError::Overflow))?;
    node.header.in_flight = node.header.in_flight.checked_sub(1).ok_or(err(GpuFuelError::Overflow))?;
    if node.is_idle() {
        class.idle_nodes = class.idle_nodes.checked_add(1).ok_or(err(GpuFuelError::Overflow))?;
    }
    Ok(())
}

/// Whether the node's stake still covers every job it holds (a slash elsewhere may have cut it).
#[inline(always)]
pub fn is_covered(node: &Node) -> bool {
    node.header.stake >= node.locked
}
