"""The loaded catalog: compiled rules, the trigger index, the contact policy and templates.

What evaluation reads at run time, however the catalog was loaded (validated from YAML by
`loader`, or from the compiled file by `compiled`).
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from touchpoints.catalog.model import ContactPolicy, Rule
from touchpoints.catalog.problems import did_you_mean, display_path
from touchpoints.catalog.templates import Template, resolve_template_locale
from touchpoints.contract.facts import FactNeeds, fact_needs, merge_needs
from touchpoints.errors import TouchpointsError
from touchpoints.logic import CompiledLogic, read_paths

__all__ = ["Catalog", "CompiledRule", "UnknownRuleError", "UnknownTemplateError", "resolve_locale"]

_LOCALES_MAX = 4096


class UnknownRuleError(TouchpointsError, KeyError):
    """Raised when a rule id is asked for that the catalog does not hold (e.g. `explain --rule typo`)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown rule"


class UnknownTemplateError(TouchpointsError, KeyError):
    """Raised when a template (or any locale of it) is asked for that the catalog does not hold."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown template"


@dataclass(frozen=True)
class CompiledRule:
    """A validated rule with its `when` compiled once, the facts it reads, and where it came from.

    `reads` is every fact path the rule's `when` and `at` read (None: it may read anything, a
    path computed at run time or the whole data); `needs` is the same as sections and keys, what
    the journey's facts builder builds for it. Both are derived at load, once per rule.
    """

    rule: Rule
    condition: CompiledLogic
    path: Path
    line: int
    reads: frozenset[str] | None = field(init=False, repr=False, compare=False)
    needs: FactNeeds | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        paths = read_paths(self.rule.when)
        if paths is not None and self.rule.at is not None:
            paths.add(self.rule.at)
        object.__setattr__(self, "reads", None if paths is None else frozenset(paths))
        object.__setattr__(self, "needs", None if paths is None else fact_needs(paths))

    @property
    def id(self) -> str:
        """The rule's id (recorded on every decision)."""
        return self.rule.id

    @property
    def is_delayed(self) -> bool:
        """True when the rule decides later (after/at): on its trigger, only a timer is set."""
        return self.rule.is_delayed


@dataclass(frozen=True)
class Catalog:
    """The compiled catalog: rules by id, an index by trigger type, the contact policy and templates.

    Disabled rules are kept in `rules` (so `explain` can still show them) but never indexed, so
    `rules_for` never returns them. What every decision would otherwise recompute is derived
    here once per catalog: the index in evaluation order, the facts each trigger's rules read
    together, and (memoised on first use) the locale each template is rendered in.
    """

    root: Path
    rules: Mapping[str, CompiledRule]
    policy: ContactPolicy
    templates: Mapping[tuple[str, str], Template]
    version: str
    by_trigger: Mapping[str, tuple[CompiledRule, ...]] = field(init=False)
    trigger_needs: Mapping[str, FactNeeds | None] = field(init=False, repr=False, compare=False)
    _locales: dict[tuple[str, str], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[CompiledRule]] = {}
        for compiled in self.rules.values():
            if compiled.rule.enabled:
                for trigger in compiled.rule.on:
                    index.setdefault(trigger, []).append(compiled)
        # The one place rules are ordered: highest priority first, ties by id, so the outcome
        # never depends on file order (decide acts on matched rules in this order).
        ordered = {
            trigger: tuple(sorted(rules, key=lambda c: (-c.rule.priority, c.rule.id)))
            for trigger, rules in index.items()
        }
        needs: dict[str, FactNeeds | None] = {}
        for detail_type, indexed in ordered.items():
            merged: FactNeeds | None = {}
            for compiled in indexed:
                merged = merge_needs(merged, compiled.needs)
            needs[detail_type] = merged
        object.__setattr__(self, "by_trigger", types.MappingProxyType(ordered))
        object.__setattr__(self, "trigger_needs", types.MappingProxyType(needs))
        object.__setattr__(self, "_locales", {})

    def rules_for(self, detail_type: str) -> Sequence[CompiledRule]:
        """Enabled rules triggered by this detail-type, highest priority first (then by id)."""
        return self.by_trigger.get(detail_type, ())

    def needs_for(self, detail_type: str) -> FactNeeds | None:
        """The facts the enabled rules of this trigger read together (None: every fact; {}: none)."""
        return self.trigger_needs.get(detail_type, {})

    def rule(self, rule_id: str) -> CompiledRule:
        """The rule with this id (enabled or not); UnknownRuleError with a suggestion otherwise."""
        try:
            return self.rules[rule_id]
        except KeyError:
            raise UnknownRuleError(
                f"no rule '{rule_id}' in {display_path(self.root)}{did_you_mean(rule_id, self.rules)}"
            ) from None

    @property
    def template_names(self) -> list[str]:
        """Every template folder's name, sorted."""
        return sorted({name for name, _ in self.templates})

    @property
    def locales(self) -> list[str]:
        """Every locale some template exists in, sorted."""
        return sorted({locale for _, locale in self.templates})

    def template(self, name: str, locale: str) -> Template:
        """The template `name` in the closest available locale to `locale` (see `resolve_locale`)."""
        return self.templates[(name, self.locale_for(name, locale))]

    def locale_for(self, template_name: str, locale: str) -> str:
        """`resolve_locale` for this catalog, memoised: every decision record names its locale.

        The answer depends on nothing but the catalog and the two names. The memo is bounded
        (cleared when full) because customer locales come from events.
        """
        key = (template_name, locale)
        found = self._locales.get(key)
        if found is None:
            if len(self._locales) >= _LOCALES_MAX:
                self._locales.clear()
            found = self._locales[key] = resolve_locale(self, template_name, locale)
        return found


def resolve_locale(catalog: Catalog, template_name: str, locale: str) -> str:
    """The locale to render `template_name` in for a customer's locale: zh-Hant -> zh -> en, en-GB -> en.

    The chain is the exact locale, the policy's fallbacks for it, its parent tags, then the
    default locale (which validation guarantees every template has).
    """
    resolved = resolve_template_locale(catalog.templates, catalog.policy.locales, template_name, locale)
    if resolved is None:
        raise UnknownTemplateError(
            f"no template '{template_name}'{did_you_mean(template_name, catalog.template_names)}"
        )
    return resolved
