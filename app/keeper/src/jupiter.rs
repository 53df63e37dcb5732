//! A Jupiter route for flash rebalances: `GET {base}/quote` and `POST {base}/swap-instructions` in
//! Jupiter's documented (v6) JSON, with a configurable base URL, assembled into
//! `rebalance_begin` → Jupiter's setup and swap instructions (paying the vault's reserve directly) →
//! `rebalance_end`. The program checks the outcome, so the route is not trusted.

use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anyhow::{anyhow, Context as _, Result};
use base64::Engine as _;
use serde_json::{json, Value};

/// A Jupiter API endpoint.
pub struct Jupiter {
    http: reqwest::Client,
    base: String,
}

/// A quote: what Jupiter's route pays for `in_amount`, and the minimum after its slippage.
#[derive(Debug, Clone)]
pub struct JupiterQuote {
    pub out_amount: u64,
    pub other_amount_threshold: u64,
    /// The whole quote response, handed back to `swap-instructions` as Jupiter expects.
    pub raw: Value,
}

/// The instructions of a Jupiter swap.
#[derive(Debug, Clone)]
pub struct JupiterSwap {
    pub setup: Vec<Instruction>,
    pub swap: Instruction,
    pub cleanup: Option<Instruction>,
    /// Address lookup tables the route needs (large routes).
    pub lookup_tables: Vec<Pubkey>,
}

fn amount(v: &Value, field: &str) -> Result<u64> {
    v.get(field).and_then(Value::as_str).and_then(|s| s.parse().ok()).ok_or_else(|| anyhow!("quote has no {field}"))
}

/// One instruction in Jupiter's JSON form: `{programId, accounts: [{pubkey, isSigner, isWritable}], data}`.
pub fn decode_instruction(v: &Value) -> Result<Instruction> {
    let key = |v: &Value, f: &str| -> Result<Pubkey> {
        Pubkey::from_str(v.get(f).and_then(Value::as_str).ok_or_else(|| anyhow!("missing {f}"))?)
            .map_err(|e| anyhow!("{f}: {e}"))
    };
    let accounts = v
        .get("accounts")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("missing accounts"))?
        .iter()
        .map(|a| {
            Ok(AccountMeta {
                pubkey: key(a, "pubkey")?,
                is_signer: a.get("isSigner").and_then(Value::as_bool).unwrap_or(false),
                is_writable: a.get("isWritable").and_then(Value::as_bool).unwrap_or(false),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let data = base64::engine::general_purpose::STANDARD
        .decode(v.get("data").and_then(Value::as_str).ok_or_else(|| anyhow!("missing data"))?)
        .context("instruction data is not base64")?;
    Ok(Instruction { program_id: key(v, "programId")?, accounts, data })
}

/// The JSON form of an instruction (for servers answering in Jupiter's format, e.g. in tests).
pub fn encode_instruction(ix: &Instruction) -> Value {
    json!({
        "programId": ix.program_id.to_string(),
        "accounts": ix.accounts.iter().map(|a| json!({
            "pubkey": a.pubkey.to_string(), "isSigner": a.is_signer, "isWritable": a.is_writable
        })).collect::<Vec<_>>(),
        "data": base64::engine::general_purpose::STANDARD.encode(&ix.data),
    })
}

impl Jupiter {
    pub fn new(base: &str) -> Jupiter {
        Jupiter { http: reqwest::Client::new(), base: base.trim_end_matches('/').to_string() }
    }

    /// `GET /quote` for an exact-in swap.
    pub async fn quote(
        &self,
        input: &Pubkey,
        output: &Pubkey,
        in_amount: u64,
        slippage_bps: u16,
    ) -> Result<JupiterQuote> {
        let raw: Value = self
            .http
            .get(format!("{}/quote", self.base))
            .query(&[
                ("inputMint", input.to_string()),
                ("outputMint", output.to_string()),
                ("amount", in_amount.to_string()),
                ("slippageBps", slippage_bps.to_string()),
                ("swapMode", "ExactIn".to_string()),
            ])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(JupiterQuote {
            out_amount: amount(&raw, "outAmount")?,
            other_amount_threshold: amount(&raw, "otherAmountThreshold")?,
            raw,
        })
    }

    /// `POST /swap-instructions`: the route's instructions for `user`, paying `destination`.
    pub async fn swap_instructions(
        &self,
        quote: &JupiterQuote,
        user: &Pubkey,
        destination: &Pubkey,
    ) -> Result<JupiterSwap> {
        let body = json!({
            "quoteResponse": quote.raw,
            "userPublicKey": user.to_string(),
            "destinationTokenAccount": destination.to_string(),
            "wrapAndUnwrapSol": false,
        });
        let v: Value = self
            .http
            .post(format!("{}/swap-instructions", self.base))
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let list = |f: &str| -> Result<Vec<Instruction>> {
            v.get(f).and_then(Value::as_array).map(|a| a.iter().map(decode_instruction).collect()).unwrap_or(Ok(vec![]))
        };
        // `computeBudgetInstructions` are left out: the keeper sizes and prices its own compute budget.
        let setup = list("setupInstructions")?;
        let swap = decode_instruction(v.get("swapInstruction").ok_or_else(|| anyhow!("no swapInstruction"))?)?;
        let cleanup = match v.get("cleanupInstruction") {
            Some(c) if !c.is_null() => Some(decode_instruction(c)?),
            _ => None,
        };
        let lookup_tables = v
            .get("addressLookupTableAddresses")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|k| k.as_str().and_then(|s| Pubkey::from_str(s).ok())).collect())
            .unwrap_or_default();
        Ok(JupiterSwap { setup, swap, cleanup, lookup_tables })
    }
}
