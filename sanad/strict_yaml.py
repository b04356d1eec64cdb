"""YAML for hand-edited configuration: safe loading that refuses a repeated key, fast.

PyYAML silently keeps the last of two equal keys; in a file people edit by hand that
hides a mistake (two ``required:`` lines, two ``date:`` lines), so it is an error here.
Configuration files are read through :class:`sanad.config_file.ConfigFile`, which loads
them with this and checks the values.

Speed: start-up reads every catalogue file. With libyaml, PyYAML parses and composes
in C but still builds the Python objects with its generic constructor, which was two
thirds of the load time; here the node tree is walked directly, with strings and plain
integers (nearly every scalar in a catalogue) built inline and every other scalar
(booleans, nulls, dates, floats) handed to PyYAML's own safe constructor, so values
mean exactly what ``yaml.safe_load`` would make of them.
"""

from __future__ import annotations

import re
from collections.abc import Hashable

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_INT = "tag:yaml.org,2002:int"
_MERGE = "tag:yaml.org,2002:merge"
# The integers YAML 1.1 writes without sign tricks, base prefixes or underscores.
_PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")


# The safe loader's implicit tags by a plain scalar's first character, as
# ``Resolver.resolve`` looks them up ('' for the empty scalar). PyYAML's safe loader has
# no catch-all resolvers and no path resolvers; the fast resolver below relies on both.
if None in Resolver.yaml_implicit_resolvers or Resolver.yaml_path_resolvers:  # pragma: no cover
    raise RuntimeError("PyYAML's safe resolver gained catch-all or path resolvers; strict_yaml must follow")
_IMPLICIT_TAGS: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    first: tuple(resolvers) for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}


class _Composer(_SafeLoader):
    """The safe loader's composer with its tag resolution done in fewer Python steps:
    libyaml calls back into Python for every node, and PyYAML's generic resolver
    (path-resolver bookkeeping, a list concatenation per scalar) was a third of the
    catalogue's load time. Only composing is used; :class:`_Builder` constructs."""

    def descend_resolver(self, current_node: object, current_index: object) -> None:
        pass  # no path resolvers: nothing to track

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, pattern in _IMPLICIT_TAGS.get(value[:1], ()):
                    if pattern.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP


def load_yaml(text: str) -> object:
    """Parse one YAML document as ``yaml.safe_load`` would, but refuse repeated keys and
    merge keys (``<<``). Raises :class:`yaml.YAMLError` with the line of the problem."""
    node = yaml.compose(text, Loader=_Composer)
    return None if node is None else _Builder().build(node)


class _Builder:
    def __init__(self) -> None:
        self._scalars = SafeConstructor()
        # An alias shares its anchor's node: build it once, as PyYAML does.
        self._built: dict[int, object] = {}

    def build(self, node: Node) -> object:
        if isinstance(node, ScalarNode):
            if node.tag == _STR:
                return node.value
            if node.tag == _INT and _PLAIN_INT.fullmatch(node.value):
                return int(node.value)
            return self._scalars.construct_object(node, deep=True)
        if id(node) in self._built:
            return self._built[id(node)]
        if isinstance(node, SequenceNode):
            items: list[object] = []
            self._built[id(node)] = items
            items.extend(self.build(child) for child in node.value)
            return items
        if isinstance(node, MappingNode):
            mapping: dict[object, object] = {}
            self._built[id(node)] = mapping
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE:
                    raise ConstructorError(None, None, "merge keys (<<) are not supported", key_node.start_mark)
                key = self.build(key_node)
                if not isinstance(key, Hashable):
                    raise ConstructorError(None, None, "found an unhashable key", key_node.start_mark)
                if key in mapping:
                    raise ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                mapping[key] = self.build(value_node)
            return mapping
        raise ConstructorError(
            None, None, f"unexpected node {type(node).__name__}", node.start_mark
        )  # pragma: no cover
