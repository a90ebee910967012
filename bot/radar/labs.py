"""The lab registry: which Hub namespaces we follow, and where each lab is based.

The built-in list lives in `data/labs.json` (curated, reviewed like code). Users can add
labs or override/hide built-in ones; those overrides are `Lab` records with
`source="user"` kept in `store.labs`, so the registry is always "built-in + overrides".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from bot.radar.countries import parse_country, region_for_country
from bot.radar.models import Lab, Region

if TYPE_CHECKING:  # the registry only needs the Store protocol's shape
    from bot.radar.ports import Store

_REGION_ORDER = {region: index for index, region in enumerate(Region)}
_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


@lru_cache(maxsize=1)
def _builtin_data() -> dict[str, Any]:
    text = resources.files("bot.radar").joinpath("data/labs.json").read_text(encoding="utf-8")
    return json.loads(text)


def _builtin_entries() -> tuple[dict[str, Any], ...]:
    return tuple(_builtin_data()["labs"])


def left_out() -> dict[str, str]:
    """Namespaces deliberately not followed (they have models in ATOM's lists) -> why.

    Curated next to the labs in `data/labs.json`, so a reviewer sees the decision and its
    reason in one place; the registry never resolves them.
    """
    return {entry["namespace"]: entry["reason"] for entry in _builtin_data().get("left_out", [])}


class LabRegistry:
    """Namespace -> lab lookups, aliases included, plus per-lab flagship family patterns."""

    def __init__(
        self,
        labs: Iterable[Lab],
        *,
        flagships: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._labs: dict[str, Lab] = {}  # includes hidden (removed) ones, to restore them
        self._builtin_keys: set[str] = set()
        self._alias_index: dict[str, str] = {}
        self._loaded_revision: object = None  # the stored labs' revision last read
        for lab in labs:
            if lab.source == "builtin":
                self._builtin_keys.add(lab.key)
            self._put(lab)
        self._flagships: dict[str, list[re.Pattern[str]]] = {
            namespace.lower(): [re.compile(pattern, re.IGNORECASE) for pattern in patterns]
            for namespace, patterns in (flagships or {}).items()
        }

    @classmethod
    def builtin(cls) -> LabRegistry:
        """The curated list shipped with the bot, without user overrides."""
        entries = _builtin_entries()
        labs = [Lab.model_validate({**entry, "source": "builtin"}) for entry in entries]
        flagships = {entry["namespace"]: entry.get("flagship", []) for entry in entries}
        return cls(labs, flagships=flagships)

    @classmethod
    def from_store(cls, store: Store) -> LabRegistry:
        """Built-in labs with the user's additions, overrides and removals applied."""
        base = cls.builtin()
        base._loaded_revision = store.labs.revision()  # before the read (see `refresh`)
        for lab in store.labs.values():
            base._put(lab)
        return base

    def reload(self, store: Store) -> None:
        """Re-read the user's changes from the store: another replica may have made them."""
        fresh = LabRegistry.from_store(store)
        self._labs, self._builtin_keys = fresh._labs, fresh._builtin_keys
        self._alias_index, self._flagships = fresh._alias_index, fresh._flagships
        self._loaded_revision = fresh._loaded_revision

    def refresh(self, store: Store) -> bool:
        """Reload when the stored labs changed since the last load (one cheap revision
        read otherwise); True when it reloaded. Replicas sharing a database call it so
        that a lab tracked through one is listed and polled by all."""
        if store.labs.revision() == self._loaded_revision:
            return False
        self.reload(store)
        return True

    # ------------------------------------------------------------------ lookups

    def _put(self, lab: Lab) -> None:
        self._labs[lab.key] = lab
        self._refresh_aliases()

    def _refresh_aliases(self) -> None:
        """Aliases point at canonical keys; a namespace tracked in its own right wins."""
        self._alias_index = {
            alias.lower(): known.key
            for known in self._labs.values()
            for alias in known.aliases
            if alias.lower() not in self._labs
        }

    def _find(self, namespace: str) -> Lab | None:
        """Lookup that also returns hidden labs, so re-tracking restores their details."""
        key = namespace.strip().split("/", 1)[0].lower()
        if key in self._labs:
            return self._labs[key]
        canonical = self._alias_index.get(key)
        return self._labs.get(canonical) if canonical else None

    def resolve(self, namespace: str) -> Lab | None:
        """The tracked lab for a namespace (any case, legacy aliases, or an "org/repo" id)."""
        lab = self._find(namespace)
        return None if lab is None or lab.removed else lab

    def labs(self, country: str | None = None) -> list[Lab]:
        """Tracked labs, optionally of one country, ordered US, China, Europe, other."""
        wanted = (parse_country(country) or country.upper()) if country else None
        chosen = [
            lab
            for lab in self._labs.values()
            if not lab.removed and (wanted is None or (lab.country or "").upper() == wanted)
        ]
        return sorted(chosen, key=lambda lab: (_REGION_ORDER[lab.region], lab.name.lower()))

    def poll_namespaces(self) -> list[str]:
        """Canonical namespaces of the tracked labs (one per lab)."""
        return [lab.namespace for lab in self.labs()]

    def namespaces_to_list(self) -> list[str]:
        """Every namespace a poll must list to see all of the tracked labs' new repos:
        `listed_namespaces` of each lab, in the order of `labs()`."""
        return [namespace for lab in self.labs() for namespace in self.listed_namespaces(lab)]

    def listed_namespaces(self, lab: Lab) -> list[str]:
        """A lab's namespaces to list: the canonical one, then the aliases that still
        publish (`listed_aliases`: ATOM still sees repos added under `THUDM`, `AIDC-AI`,
        `rednote-hilab`); quiet legacy aliases (renamed orgs the Hub redirects) are left
        out, as is a name tracked as a lab in its own right. Each namespace once."""
        seen: set[str] = set()
        listed: list[str] = []
        for namespace in (lab.namespace, *lab.listed_aliases):
            if namespace.lower() not in seen and self.resolve(namespace) is lab:
                seen.add(namespace.lower())
                listed.append(namespace)
        return listed

    def flagship_patterns(self, namespace: str) -> list[re.Pattern[str]]:
        """Name patterns of a lab's flagship families (empty for user-added labs)."""
        lab = self._find(namespace)
        return list(self._flagships.get(lab.key, [])) if lab else []

    def flagship_family(self, namespace: str, repo_name: str) -> str | None:
        """The flagship family a repo name belongs to ("Qwen3", "Kimi-K2"), if any."""
        name = repo_name.split("/", 1)[-1]
        for pattern in self.flagship_patterns(namespace):
            match = pattern.search(name)
            if match:
                return match.group(0).rstrip("-_. ")
        return None

    # ------------------------------------------------------------ user changes

    def track(self, store: Store, namespace: str, country: str | None) -> Lab:
        """Add a lab (or change a built-in one's country) on a user's request.

        The override is stored as a `source="user"` record; the caller commits the store.
        Raises ValueError for a malformed namespace or an unknown country.
        """
        cleaned = namespace.strip()
        if not _NAMESPACE_RE.match(cleaned):
            raise ValueError(f"`{namespace}` is not a Hugging Face namespace")
        code = None
        if country is not None:
            code = parse_country(country)
            if code is None:
                raise ValueError(f"`{country}` is not a country I know")
        existing = self._find(cleaned)
        if existing is not None:
            new_country = code or existing.country
            lab = existing.model_copy(
                update={
                    "country": new_country,
                    "region": region_for_country(new_country),
                    "source": "user",
                    "removed": False,
                }
            )
        else:
            lab = Lab(
                namespace=cleaned,
                name=cleaned,
                country=code,
                region=region_for_country(code),
                tier=2,
                source="user",
            )
        with store.lock:
            store.labs.put(lab)
        self._put(lab)
        return lab

    def untrack(self, store: Store, namespace: str) -> bool:
        """Stop following a lab; False when it was not tracked.

        A built-in lab gets a stored "removed" marker (so an upgrade does not bring it
        back); a user-added lab is simply deleted. The caller commits the store.
        """
        lab = self.resolve(namespace)
        if lab is None:
            return False
        with store.lock:
            if lab.key in self._builtin_keys:
                hidden = lab.model_copy(update={"removed": True, "source": "user"})
                store.labs.put(hidden)
                self._put(hidden)
            else:
                store.labs.delete(lab.key)
                del self._labs[lab.key]
                self._refresh_aliases()
        return True
