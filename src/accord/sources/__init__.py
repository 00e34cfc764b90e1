"""Source mapping contract and readers for agency extracts."""
