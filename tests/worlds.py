"""Shared builders for governed test stores: a store with the sample users and agreements,
and a small resolved synthetic world behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from accord import services

TODAY = date(2026, 11, 23)
ENGINEER = "dana"


@dataclass
class World:
    db: Path
    world: Any      # accord.synth SynthResult (truth_path, persons_path, extracts)


def governed_store(folder: Path, name: str = "a.duckdb") -> Path:
    """A new store with the admin, the sample users (one per role) and the sample agreements
    in force on TODAY."""
    db = folder / name
    services.init(db, samples=True, today=TODAY)
    return db


def resolved_world(folder: Path, persons: int = 1500, seed: int = 11) -> World:
    """Synthesise, ingest (as the sample data engineer) and resolve a small world."""
    world = services.synth(persons, seed, folder / "world")
    db = governed_store(folder)
    for ex in world.extracts:
        services.ingest(db, ex.mapping_path, user=ENGINEER)
    services.resolve(db, user=ENGINEER)
    return World(db, world)
