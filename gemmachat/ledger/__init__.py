"""The credit ledger: balances change only together with a ledger row."""
