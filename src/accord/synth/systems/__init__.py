"""The record systems of the synthetic world, one module each."""
