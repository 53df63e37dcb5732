//! Account methods: balances, account data (single, multiple, by program with filters), token amounts,
//! rent.

use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};

use super::{Call, Handler};
use crate::wire::encode::ui_token_amount;
use crate::wire::{config, context, encode_account, encoding_of, matches_filters, param, pubkey_param};
use crate::wire::{RpcError, RpcResult};

pub fn methods() -> Vec<(&'static str, Handler)> {
    crate::handlers![
        "getBalance" => get_balance,
        "getMinimumBalanceForRentExemption" => get_minimum_balance,
        "getAccountInfo" => get_account_info,
        "getMultipleAccounts" => get_multiple_accounts,
        "getProgramAccounts" => get_program_accounts,
        "getTokenAccountBalance" => get_token_amount,
        "getTokenSupply" => get_token_amount,
    ]
}

async fn get_balance(c: Call<'_>) -> RpcResult {
    let key = pubkey_param(c.params, 0)?;
    let lamports = c.chain.ctx.banks_client.get_balance(key).await.map_err(|e| RpcError::internal(e.to_string()))?;
    Ok(context(c.slot, json!(lamports)))
}

async fn get_minimum_balance(c: Call<'_>) -> RpcResult {
    let size = param(c.params, 0).and_then(Value::as_u64).ok_or_else(|| RpcError::invalid_params("missing size"))?;
    let rent = c.chain.ctx.banks_client.get_rent().await.map_err(|e| RpcError::internal(e.to_string()))?;
    Ok(json!(rent.minimum_balance(size as usize)))
}

async fn get_account_info(mut c: Call<'_>) -> RpcResult {
    let key = pubkey_param(c.params, 0)?;
    let cfg = config(c.params, 1);
    let acc = c.chain.account(&key).await;
    Ok(context(c.slot, acc.map(|a| encode_account(&a, encoding_of(&cfg))).unwrap_or(Value::Null)))
}

async fn get_multiple_accounts(mut c: Call<'_>) -> RpcResult {
    let keys =
        param(c.params, 0).and_then(Value::as_array).ok_or_else(|| RpcError::invalid_params("missing pubkeys"))?;
    if keys.len() > 100 {
        return Err(RpcError::invalid_params("Too many inputs provided; max 100"));
    }
    let cfg = config(c.params, 1);
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        let key = k
            .as_str()
            .and_then(|s| Pubkey::from_str(s).ok())
            .ok_or_else(|| RpcError::invalid_params("invalid pubkey"))?;
        out.push(c.chain.account(&key).await.map(|a| encode_account(&a, encoding_of(&cfg))).unwrap_or(Value::Null));
    }
    Ok(context(c.slot, Value::Array(out)))
}

async fn get_program_accounts(mut c: Call<'_>) -> RpcResult {
    let program = pubkey_param(c.params, 0)?;
    let cfg = config(c.params, 1);
    let filters = cfg.get("filters").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (key, acc) in c.chain.program_accounts(&program).await {
        if matches_filters(&acc.data, &filters)? {
            out.push(json!({"pubkey": key.to_string(), "account": encode_account(&acc, encoding_of(&cfg))}));
        }
    }
    if cfg.get("withContext").and_then(Value::as_bool).unwrap_or(false) {
        Ok(context(c.slot, Value::Array(out)))
    } else {
        Ok(Value::Array(out))
    }
}

/// `getTokenAccountBalance` and `getTokenSupply`: a `UiTokenAmount`.
async fn get_token_amount(mut c: Call<'_>) -> RpcResult {
    let key = pubkey_param(c.params, 0)?;
    let acc =
        c.chain.account(&key).await.ok_or_else(|| RpcError::invalid_params("Invalid param: could not find account"))?;
    let not_a_mint = || RpcError::invalid_params("Invalid param: not a Token mint");
    let (decimals, amount) = if c.method == "getTokenSupply" {
        ballast_client::decode::mint_info(&acc.data).map_err(|_| not_a_mint())?
    } else {
        let (mint, amount) = ballast_client::decode::token_account(&acc.data)
            .map_err(|_| RpcError::invalid_params("Invalid param: not a Token account"))?;
        let mint = c
            .chain
            .account(&mint)
            .await
            .ok_or_else(|| RpcError::invalid_params("Invalid param: could not find mint"))?;
        let (decimals, _) = ballast_client::decode::mint_info(&mint.data).map_err(|_| not_a_mint())?;
        (decimals, amount)
    };
    Ok(context(c.slot, ui_token_amount(amount, decimals)))
}
