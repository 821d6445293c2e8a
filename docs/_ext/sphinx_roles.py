"""A griffe extension for the API pages: Sphinx roles in docstrings made links.

panoptiq's docstrings are numpy style and name other objects with Sphinx roles
(``:class:`PQStat```, ``:func:`panoptiq.pq_compute```), which mkdocstrings would print as they
are. Each role becomes an *optional* cross-reference (``<autoref ... optional>``): a link where
the target is rendered on some page, plain code where it is not (a private or unrendered
object), so a role never fails the strict build. ``~`` shows the last component, as in Sphinx.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const):`(?P<target>[^`]+)`")


def _candidates(obj: griffe.Object, target: str) -> list[str]:
    if target.startswith("panoptiq"):
        return [target]
    scopes = []
    scope: griffe.Object | None = obj
    while scope is not None:  # the object itself (a class's methods), then its parents
        scopes.append(scope.path)
        scope = scope.parent
    return [f"{path}.{target}" for path in scopes]


class SphinxRoles(griffe.Extension):
    """Rewrites Sphinx roles in every docstring of the package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        collection = loader.modules_collection

        def resolve(obj: griffe.Object, target: str) -> str:
            candidates = _candidates(obj, target)
            for path in candidates:
                try:
                    collection.get_member(path)
                except (KeyError, ValueError, AttributeError, griffe.AliasResolutionError):
                    continue
                return path
            return candidates[-1] if not target.startswith("panoptiq") else target

        def rewrite(obj: griffe.Object) -> None:
            docstring = obj.docstring
            if docstring is not None and ":`" in docstring.value:

                def replace(match: re.Match[str]) -> str:
                    target = match["target"].strip()
                    short = target.startswith("~")
                    target = target.lstrip("~!")
                    shown = target.rsplit(".", 1)[-1] if short else target
                    identifier = html.escape(resolve(obj, target), quote=True)
                    return f'<autoref identifier="{identifier}" optional><code>{html.escape(shown)}</code></autoref>'

                docstring.value = ROLE.sub(replace, docstring.value)
            for member in obj.members.values():
                if not member.is_alias:
                    rewrite(member)

        rewrite(pkg)
