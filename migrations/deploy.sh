#!/usr/bin/env bash
# Deploys ballast to a real cluster and prints the initialisation steps.
#
# Needs a normal Solana development machine: the Solana CLI, Solana's platform tools (cargo-build-sbf)
# and the Anchor CLI 1.2.2. The machines this project is developed on have none of them, so this script is
# documented and reviewed but cannot be exercised there.
#
# Usage: CLUSTER=devnet WALLET=~/.config/solana/id.json migrations/deploy.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER="${CLUSTER:-devnet}"
WALLET="${WALLET:-$HOME/.config/solana/id.json}"

# 1. Program ids. `anchor keys sync` rewrites declare_id! and Anchor.toml to the keypairs under
#    target/deploy/, so a fresh deployment gets its own ids. Commit the result.
anchor keys sync

# 2. Build both programs for SBF. The reference AMM is only needed on localnet/devnet.
anchor build

# 3. Deploy. Keep the upgrade authority on a multisig for mainnet (e.g. Squads): `solana program
#    set-upgrade-authority <PROGRAM_ID> --new-upgrade-authority <MULTISIG_VAULT>` after deploying.
anchor deploy --provider.cluster "$CLUSTER" --provider.wallet "$WALLET"

cat <<'STEPS'
Deployed. Initialise a vault with these instructions, signed as noted (see docs/instructions.md):
  1. initialize_vault { vault_id, governance = <multisig vault>, guardian, params }   signer: creator
  2. add_asset { feed_id, params } once per asset, with the asset's mint, its Pyth
     PriceUpdateV2 (sponsored feed) account and the mint's token program                signer: governance
  3. activate_vault (targets must sum to 10 000 bps)                                     signer: governance
  4. deposit_single for the first deposit (it locks 1 share in the vault)                signer: depositor
  5. add_amm { amm program, pool } for each approved rebalance route                     signer: governance
The instruction builders in app/src/client.rs produce these instructions; wrap them in a Squads
proposal when governance is a multisig.
STEPS
