use anchor_lang::prelude::*;
declare_id!("ELCB4LRXnxZzkSvVAvAWVUghXK2TBPZ6Pxvu3sTBapsK");
#[program]
pub mod ballast_amm {
    use super::*;
    pub fn noop(_ctx: Context<Noop>) -> Result<()> { Ok(()) }
}
#[derive(Accounts)]
pub struct Noop {}
