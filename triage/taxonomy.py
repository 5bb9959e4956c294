"""The label set: types, complaint categories and service areas, with descriptions."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

TYPES: tuple[str, ...] = ("complaint", "compliment", "comment", "enquiry", "other")
#: Types whose messages carry a complaint category.
CATEGORISED_TYPES = frozenset({"complaint", "comment"})
#: Types whose messages are owned by a service area.
ROUTED_TYPES = frozenset({"complaint", "compliment", "comment"})


class TaxonomyError(ValueError):
    """A taxonomy file is malformed."""


@dataclass(frozen=True)
class Taxonomy:
    """Label names with their descriptions, in the order the file gives them."""

    types: dict[str, str]
    categories: dict[str, str]
    service_areas: dict[str, str]
    source: str = "built-in"

    def check(self, type_: str, category: str | None, service_area: str | None) -> list[str]:
        """Return the problems with one labelled example (empty when valid)."""
        problems: list[str] = []
        if type_ not in self.types:
            problems.append(f"unknown type {type_!r} (expected one of {', '.join(self.types)})")
            return problems
        if type_ in CATEGORISED_TYPES:
            if category is None:
                problems.append(f"a {type_} needs a category")
            elif category not in self.categories:
                problems.append(
                    f"unknown category {category!r} (expected one of {', '.join(self.categories)})"
                )
        elif category is not None:
            problems.append(f"a {type_} takes no category, got {category!r}")
        if type_ in ROUTED_TYPES:
            if service_area is None:
                problems.append(f"a {type_} needs a service area")
            elif service_area not in self.service_areas:
                problems.append(
                    f"unknown service area {service_area!r} "
                    f"(expected one of {', '.join(self.service_areas)})"
                )
        elif service_area is not None:
            problems.append(f"a {type_} takes no service area, got {service_area!r}")
        return problems


def _section(data: dict, name: str, where: str) -> dict[str, str]:
    section = data.get(name)
    if not isinstance(section, dict) or not section:
        raise TaxonomyError(f"{where}: missing or empty [{name}] table")
    for key, value in section.items():
        if not isinstance(value, str):
            raise TaxonomyError(f"{where}: [{name}] {key!r} must be a description string")
    return dict(section)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load the built-in taxonomy, or a council's own file replacing categories and service areas."""
    default = tomllib.loads(resources.files("triage").joinpath("taxonomy.toml").read_text("utf-8"))
    if path is None:
        data, where = default, "built-in taxonomy"
    else:
        where = str(path)
        try:
            data = tomllib.loads(Path(path).read_text("utf-8"))
        except FileNotFoundError:
            raise TaxonomyError(f"{where}: no such taxonomy file") from None
        except tomllib.TOMLDecodeError as exc:
            raise TaxonomyError(f"{where}: not valid TOML: {exc}") from None
        if "type" in data and set(data["type"]) != set(TYPES):
            raise TaxonomyError(f"{where}: [type] must list exactly {', '.join(TYPES)}")
        data = {"type": data.get("type", default["type"]), **{k: v for k, v in data.items() if k != "type"}}
    types = _section(data, "type", where)
    return Taxonomy(
        types={t: types[t] for t in TYPES},
        categories=_section(data, "category", where),
        service_areas=_section(data, "service_area", where),
        source=where,
    )
