"""The app's router: Starlette's, with its routes looked up by the literal start of their paths.

Starlette tries every route in order until one matches. With some 180 routes that is a regular
expression per route for every request (decision 130): a pass command, some forty routes down
the list, spent more of the web process's time finding its route than parsing its body, and a
page near the end of the list more again.

A route can match only a path that begins with the literal segments its own path begins with
(`/api/v1/passes/{pass_id}/complete` begins `api`, `v1`, `passes`; Starlette escapes the literal
text of a path, and a parameter never spans the slash before it). So the routes are kept in a
tree of those segments, and a request tries, in their order, only the routes on its path's way
down the tree. Where none of them matches fully, Starlette's own search runs over every route,
so a 405, a redirect to the path with or without its trailing slash, and a 404 are Starlette's
own, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Router
from starlette.types import Receive, Scope, Send


@dataclass
class _Node:
    """The routes whose literal segments lead here (with their places in the list), the nodes a
    further segment leads to, and `tried`: the routes to try for a path whose way ends here,
    these and the ones above, in list order."""

    routes: list[tuple[int, BaseRoute]] = field(default_factory=list)
    below: dict[str, _Node] = field(default_factory=dict)
    tried: list[BaseRoute] = field(default_factory=list)

    def settle(self, above: list[tuple[int, BaseRoute]]) -> None:
        mine = sorted(above + self.routes, key=lambda each: each[0])
        self.tried = [route for _, route in mine]
        for node in self.below.values():
            node.settle(mine)


def literal_start(route: BaseRoute) -> list[str]:
    """The segments a route's path begins with before its first parameter: every path it can
    match begins with them. None known (a route without a path) is every path."""
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return []
    start: list[str] = []
    for segment in path.split("/")[1:]:
        if "{" in segment:
            break
        start.append(segment)
    return start


class IndexedRouter(Router):
    """A `Router` that tries only the routes whose paths could match (see the module). A route
    added after the first request (`add_route`) is seen: the tree is made again when the list
    of routes grows or shrinks."""

    _tree: _Node | None = None
    _made_for = -1

    def candidates(self, path: str) -> list[BaseRoute]:
        """The routes that may match `path`, in their order in the list."""
        if self._tree is None or self._made_for != len(self.routes):
            self._tree = self._make_tree()
            self._made_for = len(self.routes)
        node = self._tree
        for segment in path.split("/")[1:]:
            below = node.below.get(segment)
            if below is None:
                break
            node = below
        return node.tried

    def _make_tree(self) -> _Node:
        tree = _Node()
        for place, route in enumerate(self.routes):
            node = tree
            for segment in literal_start(route):
                node = node.below.setdefault(segment, _Node())
            node.routes.append((place, route))
        tree.settle([])
        return tree

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.candidates(get_route_path(scope)):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)
