"""Tests of the synthetic agency world (accord.synth)."""
