"""The authority registry: legal regimes, record systems, purposes and roles.

The registry is data (``registry/*.yaml`` in the package). Loading it checks that no purpose
or routine use opens a statutory floor of a regime; a registry that would is refused, so an
agency can narrow the defaults but never widen them past the statute. The same holds for
separation of duties: ``roles.yaml`` declares which roles one person may not hold together,
and a registry that drops one of the :data:`DUTY_FLOORS` is refused.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accord.errors import AccordError
from accord.sources.fields import catalogue

Access = Literal["identity", "full"]


class RegistryError(AccordError):
    """The registry data files are inconsistent or would open a statutory floor."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Floors(_Strict):
    never: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None
    request_only: tuple[str, ...] = ()


class Regime(_Strict):
    title: str
    citation: str
    disclosure: str
    marks: tuple[str, ...]
    floors: Floors = Floors()
    protective_use: bool = False

    def refuses(self, purpose: str) -> bool:
        """True when the statute forbids this purpose any access (no agreement can open it)."""
        if purpose in self.floors.never:
            return True
        return self.floors.only is not None and purpose not in self.floors.only


class System(_Strict):
    title: str
    owner: str
    regime: str
    sorn: str
    routine_uses: dict[str, Access] = Field(default_factory=dict)
    content_marks: dict[str, dict[str, str]] = Field(default_factory=dict)


class PersonRequestRule(_Strict):
    authority: str
    must_match: tuple[str, ...]
    must_state: tuple[str, ...]
    release: tuple[str, ...]


class Purpose(_Strict):
    title: str
    authority: str
    needs_agreement: bool
    law_enforcement: bool = False
    own_records_only: bool = False
    person_data: bool = True
    person_requests: dict[str, PersonRequestRule] = Field(default_factory=dict)


class Role(_Strict):
    title: str
    actions: tuple[str, ...]
    purposes: tuple[str, ...]
    # A grant of the role takes effect only when a second administrator approves it. Always so
    # for a role that reads person data (computed; ``False`` there is refused); ``True`` asks
    # it of a role that reads none.
    second_approver: bool | None = None


class Incompatibility(_Strict):
    """Roles one person may not hold together: each of ``roles`` with each of ``with`` (or,
    without ``with``, the roles of ``roles`` with each other)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    rule: str = Field(min_length=1)
    roles: tuple[str, ...] = Field(min_length=1)
    with_: tuple[str, ...] = Field(default=(), alias="with")
    reason: str = Field(min_length=1)

    def pairs(self) -> list[tuple[str, str]]:
        """The incompatible pairs, each in name order."""
        others = self.with_ or self.roles
        return sorted({_pair(a, b) for a in self.roles for b in others if a != b})


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Conflict:
    """Two roles one user holds (or would hold) that a rule says no one may hold together."""

    roles: tuple[str, str]
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.roles[0]} and {self.roles[1]} are incompatible (rule {self.rule}: {self.reason})"


# Separation-of-duties floors: duties one person may never hold together, whatever roles.yaml
# says. Each side is an action, or PERSON_DATA (a role with a purpose that reads person data).
# roles.yaml must declare every pair of roles these imply as incompatible (an agency may add
# incompatibilities, never remove these); a single role holding both sides is refused.
PERSON_DATA = "person data"
DUTY_FLOORS: tuple[tuple[str, str, str], ...] = (
    ("users.manage", PERSON_DATA, "whoever manages users and tokens must not read person data"),
    ("users.manage", "audit.read", "whoever manages users must not audit their own administration"),
    ("person.view", "audit.read",
     "whoever reads person data for a program must not review or audit those reads"),
    ("annotation.approve", "audit.verify", "whoever approves corrections must not audit them"),
)
INCOMPATIBLE_KEY = "incompatible"   # the top-level list in roles.yaml (no role has this name)


@dataclass(frozen=True)
class Registry:
    regimes: dict[str, Regime]
    systems: dict[str, System]
    purposes: dict[str, Purpose]
    roles: dict[str, Role]
    version: str  # sha256 of the four files' canonical JSON
    incompatible: tuple[Incompatibility, ...] = ()

    def regimes_of(self, system: str) -> set[str]:
        """Every regime a system's records can fall under (its own and its content marks)."""
        sys_ = self.systems[system]
        out = {sys_.regime}
        for values in sys_.content_marks.values():
            out.update(values.values())
        return out

    def access(self, system: str, purpose: str) -> Access | None:
        """What a purpose may read from a system by routine use, after the statutory floors.

        ``subject_access`` reads everything (a person's own records). None: nothing.
        """
        sys_ = self.systems.get(system)
        p = self.purposes.get(purpose)
        if sys_ is None or p is None or not p.person_data:
            return None
        if p.own_records_only:
            return "full"
        regime = self.regimes[sys_.regime]
        if regime.refuses(purpose) or purpose in regime.floors.request_only:
            return None
        return sys_.routine_uses.get(purpose)

    def withheld_regimes(self, purpose: str) -> set[str]:
        """Regimes whose marked records are left out entirely under a purpose (floors)."""
        return {name for name, r in self.regimes.items() if r.refuses(purpose)}

    def protective_systems(self) -> list[str]:
        """Systems whose facts may be used (never shown) to exclude a person from an adverse
        purpose: those whose own regime allows protective use."""
        return [s for s, sys_ in self.systems.items() if self.regimes[sys_.regime].protective_use]

    def actions(self, roles: list[str]) -> set[str]:
        return {a for r in roles if r in self.roles for a in self.roles[r].actions}

    def role_purposes(self, roles: list[str]) -> set[str]:
        return {p for r in roles if r in self.roles for p in self.roles[r].purposes}

    def reads_person_data(self, role: str) -> bool:
        """Whether a role works under any purpose that reads person data."""
        r = self.roles.get(role)
        return r is not None and any(self.purposes[p].person_data for p in r.purposes if p in self.purposes)

    def needs_second_approver(self, role: str) -> bool:
        """Whether granting the role takes a second administrator's approval."""
        return self.reads_person_data(role) or bool(role in self.roles and self.roles[role].second_approver)

    def conflicts(self, roles: Iterable[str]) -> list[Conflict]:
        """Every incompatible pair among ``roles``, once each, in name order (the first rule
        declaring a pair names it)."""
        held = set(roles)
        out: dict[tuple[str, str], Conflict] = {}
        for inc in self.incompatible:
            for pair in inc.pairs():
                if pair[0] in held and pair[1] in held and pair not in out:
                    out[pair] = Conflict(pair, inc.rule, " ".join(inc.reason.split()))
        return [out[k] for k in sorted(out)]

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "regimes": {k: v.model_dump() for k, v in self.regimes.items()},
            "systems": {k: v.model_dump() for k, v in self.systems.items()},
            "purposes": {k: v.model_dump() for k, v in self.purposes.items()},
            "roles": {k: v.model_dump() for k, v in self.roles.items()},
            "incompatible": [i.model_dump(by_alias=True) for i in self.incompatible],
        }


_FILES = ("regimes", "systems", "purposes", "roles")


def _read(name: str) -> Any:
    text = resources.files("accord.governance").joinpath("registry", f"{name}.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def build_registry(raw: dict[str, Any]) -> Registry:
    """Validate raw registry data (the four files' contents) into a Registry."""
    models: dict[str, type[_Strict]] = {"regimes": Regime, "systems": System, "purposes": Purpose,
                                        "roles": Role}
    parsed: dict[str, dict[str, Any]] = {}
    incompatible: tuple[Incompatibility, ...] = ()
    for name in _FILES:
        section = raw.get(name)
        if not isinstance(section, dict):
            raise RegistryError(f"registry/{name}.yaml: expected a mapping of entries")
        if name == "roles":
            section = dict(section)
            incompatible = _incompatible(section.pop(INCOMPATIBLE_KEY, []))
        parsed[name] = {}
        for key, value in section.items():
            try:
                parsed[name][key] = models[name].model_validate(value)
            except ValidationError as e:
                first = e.errors()[0]
                loc = ".".join(str(x) for x in first["loc"])
                raise RegistryError(f"registry/{name}.yaml: {key}.{loc}: {first['msg']}") from None
    version = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    reg = Registry(parsed["regimes"], parsed["systems"], parsed["purposes"], parsed["roles"], version,
                   incompatible)
    _check(reg)
    _check_duties(reg)
    return reg


def _incompatible(raw: Any) -> tuple[Incompatibility, ...]:
    where = f"registry/roles.yaml: {INCOMPATIBLE_KEY}"
    if not isinstance(raw, list):
        raise RegistryError(f"{where}: expected a list of rules (rule, roles, with, reason)")
    out = []
    for i, entry in enumerate(raw):
        try:
            out.append(Incompatibility.model_validate(entry))
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(x) for x in first["loc"])
            raise RegistryError(f"{where}[{i}].{loc}: {first['msg']}") from None
    return tuple(out)


def _roles_with(reg: Registry, duty: str) -> list[str]:
    if duty == PERSON_DATA:
        return [r for r in reg.roles if reg.reads_person_data(r)]
    return [r for r, role in reg.roles.items() if duty in role.actions]


def _check_duties(reg: Registry) -> None:
    """Incompatibilities name known roles, each pair once; the duty floors all hold."""
    where = f"registry/roles.yaml: {INCOMPATIBLE_KEY}"
    declared: dict[tuple[str, str], str] = {}
    rules: set[str] = set()
    for i, inc in enumerate(reg.incompatible):
        if inc.rule in rules:
            raise RegistryError(f"{where}[{i}].rule: rule {inc.rule!r} is declared twice")
        rules.add(inc.rule)
        for key, names in (("roles", inc.roles), ("with", inc.with_)):
            for role in names:
                if role not in reg.roles:
                    raise RegistryError(f"{where}[{i}].{key}: unknown role {role!r} (rule {inc.rule})")
        if set(inc.roles) & set(inc.with_):
            both = sorted(set(inc.roles) & set(inc.with_))
            raise RegistryError(f"{where}[{i}]: rule {inc.rule} makes {', '.join(both)} incompatible "
                                "with itself")
        if not inc.with_ and len(set(inc.roles)) < 2:
            raise RegistryError(f"{where}[{i}].roles: rule {inc.rule} needs two roles or a `with` list")
        for pair in inc.pairs():
            if pair in declared:
                raise RegistryError(f"{where}[{i}]: {pair[0]} and {pair[1]} are already incompatible "
                                    f"by rule {declared[pair]}")
            declared[pair] = inc.rule
    for name, spec in reg.roles.items():
        if spec.second_approver is False and reg.reads_person_data(name):
            raise RegistryError(f"registry/roles.yaml: {name}.second_approver: {name} reads person data; "
                                "granting it always needs a second approver")
    for left, right, why in DUTY_FLOORS:
        for a in _roles_with(reg, left):
            for b in _roles_with(reg, right):
                if a == b:
                    raise RegistryError(f"registry/roles.yaml: {a}: one role cannot hold both {left} and "
                                        f"{right} ({why})")
                if _pair(a, b) not in declared:
                    raise RegistryError(f"{where}: {a} ({left}) and {b} ({right}) must be incompatible "
                                        f"({why}); an agency may add incompatibilities, never remove "
                                        "this one")


def _check(reg: Registry) -> None:
    fields = catalogue()
    for name, r in reg.regimes.items():
        for p in (*r.floors.never, *(r.floors.only or ()), *r.floors.request_only):
            if p not in reg.purposes:
                raise RegistryError(f"registry/regimes.yaml: {name}: unknown purpose {p!r}")
    for name, s in reg.systems.items():
        if s.regime not in reg.regimes:
            raise RegistryError(f"registry/systems.yaml: {name}.regime: unknown regime {s.regime!r}")
        regime = reg.regimes[s.regime]
        for purpose in s.routine_uses:
            if purpose not in reg.purposes:
                raise RegistryError(
                    f"registry/systems.yaml: {name}.routine_uses: unknown purpose {purpose!r}")
            if regime.refuses(purpose) or purpose in regime.floors.request_only:
                raise RegistryError(
                    f"registry/systems.yaml: {name}.routine_uses.{purpose}: {s.regime} ({regime.citation}) "
                    f"does not allow {purpose}; a routine use cannot open a statutory floor")
        for field, values in s.content_marks.items():
            if field not in fields:
                raise RegistryError(f"registry/systems.yaml: {name}.content_marks: unknown field {field!r}")
            for value, marked in values.items():
                if marked not in reg.regimes:
                    where = f"{name}.content_marks.{field}.{value}"
                    raise RegistryError(f"registry/systems.yaml: {where}: unknown regime {marked!r}")
    for name, purpose_ in reg.purposes.items():
        for regime_name, rule in purpose_.person_requests.items():
            req_regime = reg.regimes.get(regime_name)
            if req_regime is None:
                raise RegistryError(
                    f"registry/purposes.yaml: {name}.person_requests: unknown regime {regime_name!r}")
            if req_regime.refuses(name):
                raise RegistryError(
                    f"registry/purposes.yaml: {name}.person_requests.{regime_name}: {req_regime.citation} "
                    f"forbids {name}; a per-person request cannot open it")
            for f in (*rule.release, *(m for m in rule.must_match if m != "address")):
                if f not in fields:
                    raise RegistryError(
                        f"registry/purposes.yaml: {name}.person_requests: unknown field {f!r}")
    for name, role in reg.roles.items():
        for purpose in role.purposes:
            if purpose not in reg.purposes:
                raise RegistryError(f"registry/roles.yaml: {name}.purposes: unknown purpose {purpose!r}")


@cache
@functools.lru_cache(maxsize=1)
def registry() -> Registry:
    """The packaged registry, validated once per process (the files ship with the package and
    do not change while it runs)."""
    return build_registry({name: _read(name) for name in _FILES})


def raw_registry() -> dict[str, Any]:
    """The packaged registry files as plain data (for tests that try to widen a floor)."""
    return {name: _read(name) for name in _FILES}
