//! What can go wrong, as types: a [`Refusal`] is the chain saying no to a transaction (a program error or a
//! runtime error), a [`Fault`] is the endpoint failing to answer. Both are classified from the RPC client's
//! error variants and the transaction error, never from message text.

use std::fmt;

use ballast::errors::BallastError;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::request::RpcError;
use solana_transaction::InstructionError;
use solana_transaction_error::TransactionError;

/// Why the chain refused a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// ballast refused with this error code ([`BallastError`]).
    Ballast(u32),
    /// The reference AMM refused with this error code.
    Amm(u32),
    /// Another program's custom error (a DEX, an aggregator).
    Custom(u32),
    /// The runtime refused the transaction (fees, blockhash, accounts, a built-in program's error).
    Transaction(TransactionError),
}

impl Refusal {
    /// The refusal a transaction error stands for.
    pub fn of(err: &TransactionError) -> Refusal {
        match err {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => {
                if BallastError::from_code(*code).is_some() {
                    Refusal::Ballast(*code)
                } else if ballast_amm::AmmError::from_code(*code).is_some() {
                    Refusal::Amm(*code)
                } else {
                    Refusal::Custom(*code)
                }
            }
            other => Refusal::Transaction(other.clone()),
        }
    }

    /// Whether this is ballast's `error`.
    pub fn is(&self, error: BallastError) -> bool {
        *self == Refusal::Ballast(error.into())
    }

    /// The refused transaction's blockhash was unknown to the endpoint (a lagging node): sign again.
    pub fn is_unknown_blockhash(&self) -> bool {
        *self == Refusal::Transaction(TransactionError::BlockhashNotFound)
    }

    /// Expected in a race and nothing to worry about: another keeper was first (the cooldown runs), or prices
    /// moved back inside the bands.
    pub fn is_quiet(&self) -> bool {
        self.is(BallastError::CooldownNotElapsed) || self.is(BallastError::RebalanceNotNeeded)
    }

    /// The name used in logs and as the metrics label (the program error's name when it is one).
    pub fn name(&self) -> String {
        match self {
            Refusal::Ballast(code) | Refusal::Amm(code) | Refusal::Custom(code) => ballast_client::code_name(*code),
            Refusal::Transaction(e) => format!("{e:?}"),
        }
    }
}

impl fmt::Display for Refusal {
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

/// The refusal inside a failed RPC call: a preflight simulation that failed, or a transaction error.
pub fn refusal_of(err: &ClientError) -> Option<Refusal> {
    err.get_transaction_error().map(|e| Refusal::of(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_errors_are_classified_by_code() {
        let code: u32 = BallastError::CooldownNotElapsed.into();
        let r = Refusal::of(&TransactionError::InstructionError(1, InstructionError::Custom(code)));
        assert_eq!(r, Refusal::Ballast(code));
        assert!(r.is(BallastError::CooldownNotElapsed) && r.is_quiet());
        assert_eq!(r.name(), "CooldownNotElapsed");
        let amm: u32 = ballast_amm::AmmError::SlippageExceeded.into();
        assert_eq!(
            Refusal::of(&TransactionError::InstructionError(0, InstructionError::Custom(amm))),
            Refusal::Amm(amm)
        );
        assert_eq!(
            Refusal::of(&TransactionError::InstructionError(0, InstructionError::Custom(6_000_000))),
            Refusal::Custom(6_000_000)
        );
        let stale = Refusal::of(&TransactionError::BlockhashNotFound);
        assert!(stale.is_unknown_blockhash() && !stale.is_quiet());
        assert_eq!(stale.name(), "BlockhashNotFound");
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
