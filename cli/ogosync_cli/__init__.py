"""`ogosync`: the command-line tool of the operator API (a thin HTTP client of it)."""
