//! What can go wrong, as types: a [`Rejection`] is the chain saying no to a transaction (a program error or a
//! runtime error), a [`Fault`] is the endpoint failing to answer. Both are classified from the RPC client's
//! error variants and the transaction error, never from message text.

use std::fmt;

use anchor_lang::prelude::Pubkey;
use ballast::errors::BallastError;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::request::RpcError;
use solana_transaction::InstructionError;
use solana_transaction_error::TransactionError;

/// Why the chain rejected a transaction: a program's custom error, attributed to the program of the
/// top-level instruction that failed, or a runtime error.
///
/// Codes are not unique across programs (every Anchor program numbers its errors from 6000: Raydium CPMM's
/// 6005 is not ballast's 6005), so a custom error is classified by the program the failing instruction
/// calls, which only the sender knows ([`Rejection::of`] takes the transaction's programs in order).
///
/// The runtime reports the index of the *top-level* instruction an error happened in. An error raised in
/// a cross-program invocation (the reference AMM's or a DEX's inside a direct `rebalance`, the token
/// program's) therefore carries the index of the ballast instruction that made the call, and is classified
/// as [`Rejection::Ballast`] with the invoked program's code: it is named as ballast's error when the code
/// is one, then as the reference AMM's (codes from 7000), so a DEX's code in ballast's range is shown
/// under ballast's name. Only the transaction's logs tell them apart; the keeper does not read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// A ballast instruction failed with this custom code: ballast's own ([`BallastError`]), or the code of
    /// a program it invoked (see above).
    Ballast(u32),
    /// A reference-AMM instruction (the keeper's own swap in a flash route) failed with this code.
    Amm(u32),
    /// Another program's instruction failed with its custom error `code` (a DEX, an aggregator, the
    /// associated token account program).
    Custom { program: Pubkey, code: u32 },
    /// The runtime rejected the transaction (fees, blockhash, accounts, a built-in program's error), or an
    /// instruction failed that the transaction does not have (an endpoint's mistake, kept as it came).
    Transaction(TransactionError),
}

impl Rejection {
    /// The rejection `err` stands for, in a transaction whose top-level instructions call `programs`, in
    /// order (the compute-budget instructions included).
    pub fn of(err: &TransactionError, programs: &[Pubkey]) -> Rejection {
        let TransactionError::InstructionError(index, InstructionError::Custom(code)) = err else {
            return Rejection::Transaction(err.clone());
        };
        match programs.get(usize::from(*index)) {
            Some(p) if *p == ballast::ID => Rejection::Ballast(*code),
            Some(p) if *p == ballast_amm::ID => Rejection::Amm(*code),
            Some(p) => Rejection::Custom { program: *p, code: *code },
            None => Rejection::Transaction(err.clone()),
        }
    }

    /// Whether this is ballast's `error`.
    pub fn is(&self, error: BallastError) -> bool {
        *self == Rejection::Ballast(error.into())
    }

    /// The rejected transaction's blockhash was unknown to the endpoint (a lagging node): sign again.
    pub fn is_unknown_blockhash(&self) -> bool {
        *self == Rejection::Transaction(TransactionError::BlockhashNotFound)
    }

    /// Expected in a race and nothing to worry about: another keeper was first (the cooldown runs), or prices
    /// moved back inside the bands.
    pub fn is_quiet(&self) -> bool {
        self.is(BallastError::CooldownNotElapsed) || self.is(BallastError::RebalanceNotNeeded)
    }

    /// The name used in logs and as the metrics label: the program error's name when the program's errors
    /// are known, the code and the program's id otherwise.
    pub fn name(&self) -> String {
        match self {
            Rejection::Ballast(code) => ballast_client::code_name(*code),
            Rejection::Amm(code) => match ballast_amm::AmmError::from_code(*code) {
                Some(e) => format!("AMM {}", e.name()),
                None => format!("AMM custom error {code}"),
            },
            Rejection::Custom { program, code } => format!("custom error {code} of {program}"),
            Rejection::Transaction(e) => format!("{e:?}"),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// An endpoint failure the keeper survives (counted by kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// HTTP 429 Too Many Requests.
    TooManyRequests,
    /// HTTP 5xx.
    ServerError,
    Timeout,
    /// The connection failed or broke.
    Transport,
    /// The endpoint did not know the transaction's blockhash (it lags, or the blockhash expired).
    BlockhashExpired,
    /// A send whose reply was lost turned out to have landed.
    ConfirmationLost,
    /// A sent transaction was not seen within the confirmation window.
    ConfirmationTimeout,
    /// A JSON-RPC error answer.
    Rpc,
    Other,
}

impl Fault {
    /// The metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Fault::TooManyRequests => "http_429",
            Fault::ServerError => "http_5xx",
            Fault::Timeout => "timeout",
            Fault::Transport => "transport",
            Fault::BlockhashExpired => "blockhash_expired",
            Fault::ConfirmationLost => "confirmation_lost",
            Fault::ConfirmationTimeout => "confirmation_timeout",
            Fault::Rpc => "rpc",
            Fault::Other => "other",
        }
    }

    /// The kind of an RPC client failure.
    pub fn of_client(err: &ClientError) -> Fault {
        if err.get_transaction_error() == Some(TransactionError::BlockhashNotFound) {
            return Fault::BlockhashExpired;
        }
        match err.kind() {
            ErrorKind::Reqwest(e) if e.is_timeout() => Fault::Timeout,
            ErrorKind::Reqwest(e) => match e.status().map(|s| s.as_u16()) {
                Some(429) => Fault::TooManyRequests,
                Some(s) if s >= 500 => Fault::ServerError,
                _ => Fault::Transport,
            },
            ErrorKind::Io(_) => Fault::Transport,
            ErrorKind::RpcError(RpcError::RpcResponseError { .. } | RpcError::RpcRequestError(_)) => Fault::Rpc,
            _ => Fault::Other,
        }
    }

    /// The kind of any keeper error.
    pub fn of(err: &anyhow::Error) -> Fault {
        if let Some(e) = err.downcast_ref::<ClientError>() {
            return Fault::of_client(e);
        }
        if err.downcast_ref::<Unconfirmed>().is_some() {
            return Fault::ConfirmationTimeout;
        }
        Fault::Other
    }
}

/// A sent transaction not seen within the confirmation window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unconfirmed(pub solana_transaction::Signature);

impl fmt::Display for Unconfirmed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transaction {} not confirmed", self.0)
    }
}

impl std::error::Error for Unconfirmed {}

/// The rejection inside a failed RPC call (a preflight simulation that failed, or a transaction error) of a
/// transaction whose top-level instructions call `programs`.
pub fn rejection_of(err: &ClientError, programs: &[Pubkey]) -> Option<Rejection> {
    err.get_transaction_error().map(|e| Rejection::of(&e, programs))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the sender's transactions call: the compute-unit limit, then a body.
    fn programs(body: &[Pubkey]) -> Vec<Pubkey> {
        let mut out = vec![solana_compute_budget_interface::ID];
        out.extend_from_slice(body);
        out
    }

    fn custom(index: u8, code: u32) -> TransactionError {
        TransactionError::InstructionError(index, InstructionError::Custom(code))
    }

    #[test]
    fn program_errors_are_classified_by_the_failing_instructions_program() {
        let ata = anchor_spl::associated_token::ID;
        let flash = programs(&[ata, ballast::ID, ballast_amm::ID, ballast::ID]);
        let code: u32 = BallastError::CooldownNotElapsed.into();
        let r = Rejection::of(&custom(1, code), &programs(&[ballast::ID]));
        assert_eq!(r, Rejection::Ballast(code));
        assert!(r.is(BallastError::CooldownNotElapsed) && r.is_quiet());
        assert_eq!(r.name(), "CooldownNotElapsed");
        let amm: u32 = ballast_amm::AmmError::SlippageExceeded.into();
        let r = Rejection::of(&custom(3, amm), &flash);
        assert_eq!(r, Rejection::Amm(amm));
        assert_eq!(r.name(), "AMM SlippageExceeded");
        assert_eq!(Rejection::of(&custom(3, 2_006), &flash).name(), "AMM custom error 2006");
        // An AMM error raised inside ballast's `rebalance` (a CPI) carries ballast's index.
        let direct = programs(&[ata, ballast::ID]);
        assert_eq!(Rejection::of(&custom(2, amm), &direct), Rejection::Ballast(amm));
        assert_eq!(Rejection::of(&custom(2, amm), &direct).name(), "AMM SlippageExceeded");
        let stale = Rejection::of(&TransactionError::BlockhashNotFound, &direct);
        assert!(stale.is_unknown_blockhash() && !stale.is_quiet());
        assert_eq!(stale.name(), "BlockhashNotFound");
    }

    /// Raydium CPMM's 6005 (its own Anchor error space) is not ballast's 6005 (`MaxTradeOutOfBounds`).
    #[test]
    fn another_programs_code_is_not_read_as_ballasts() {
        let raydium = ballast_client::dex::raydium::ID;
        let flash = programs(&[anchor_spl::associated_token::ID, ballast::ID, raydium, ballast::ID]);
        let code: u32 = BallastError::MaxTradeOutOfBounds.into();
        assert_eq!(code, 6_005);
        let r = Rejection::of(&custom(3, code), &flash);
        assert_eq!(r, Rejection::Custom { program: raydium, code });
        assert!(!r.is(BallastError::MaxTradeOutOfBounds));
        assert_eq!(r.name(), format!("custom error 6005 of {raydium}"));
        assert_eq!(r.to_string(), r.name());
        // The same code from ballast's instruction is ballast's.
        assert_eq!(Rejection::of(&custom(2, code), &flash).name(), "MaxTradeOutOfBounds");
        // An index the transaction does not have is not attributed to any program.
        let unknown = custom(9, code);
        assert_eq!(Rejection::of(&unknown, &flash), Rejection::Transaction(unknown));
    }

    #[test]
    fn unknown_blockhash_in_a_client_error_is_a_blockhash_fault() {
        let err = ClientError::from(ErrorKind::TransactionError(TransactionError::BlockhashNotFound));
        assert_eq!(Fault::of_client(&err), Fault::BlockhashExpired);
        let err = anyhow::Error::new(Unconfirmed(solana_transaction::Signature::default()));
        assert_eq!(Fault::of(&err), Fault::ConfirmationTimeout);
        assert_eq!(Fault::of(&anyhow::anyhow!("something else")), Fault::Other);
    }
}
