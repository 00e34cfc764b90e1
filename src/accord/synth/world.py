"""The generated world: people with histories, identifiers and names, ready to be written
out by the record systems (``accord.synth.systems``)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from accord.synth.config import SynthConfig
from accord.synth.ids import Ids, build_ids
from accord.synth.namebank import NameBank, name_bank
from accord.synth.naming import Names, build_names
from accord.synth.population import People, build_people
from accord.synth.render import NameRenderer
from accord.synth.timeline import Timeline, build_timeline


def stream(seed: int, label: str) -> np.random.Generator:
    """An independent random stream per (seed, step): changing one step's draws does not
    shift any other step."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(label.encode())]))


@dataclass
class World:
    seed: int
    cfg: SynthConfig
    bank: NameBank
    people: People
    timeline: Timeline
    ids: Ids
    names: Names
    renderer: NameRenderer

    def rng(self, label: str) -> np.random.Generator:
        return stream(self.seed, label)


def build_world(persons: int, seed: int, cfg: SynthConfig) -> World:
    bank = name_bank()
    people = build_people(stream(seed, "people"), persons, cfg, bank)
    timeline = build_timeline(stream(seed, "timeline"), people, cfg)
    ids = build_ids(stream(seed, "ids"), people, timeline, cfg, bank)
    names = build_names(stream(seed, "names"), people, timeline, cfg, bank)
    return World(seed=seed, cfg=cfg, bank=bank, people=people, timeline=timeline, ids=ids,
                 names=names, renderer=NameRenderer(people, names, cfg, bank))
