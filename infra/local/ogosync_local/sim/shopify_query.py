"""GraphQL helpers of the Shopify simulator: the query cost estimate, the search syntax and opaque cursors.

The cost estimate follows the rules Shopify publishes for its calculated query cost (docs/api/shopify.md,
"Simulator: cost model"), simplified: a scalar or enum field costs 0, an object field 1, a connection
2 + n x (1 + the cost of one node's selection) where n is its `first`/`last` (the `edges`, `node`, `nodes`,
`pageInfo` wrappers of a connection add nothing themselves), `nodes(ids:)` len(ids) x (1 + one node), and each
mutation field 10. Inline fragments and spreads are summed (Shopify takes the most expensive type of an abstract
field; summing can only over-estimate). Uncertain: the actual cost Shopify refunds after running a query; the
simulator charges the requested cost.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)

MUTATION_COST = 10
CONNECTION_BASE_COST = 2
CONNECTION_WRAPPERS = frozenset({"edges", "node", "nodes", "pageInfo"})
MAX_PAGE_SIZE = 250  # "first"/"last" at most 250, and any input array at most 250 (docs/api/shopify.md)
PAGINATION_CAP = 25_000  # objects one connection pages through (docs/api/shopify.md)


def operation_of(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    """The operation to run: the named one, or the only one; a GraphQLError otherwise."""
    operations = [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]
    if operation_name:
        found = [node for node in operations if node.name and node.name.value == operation_name]
        if not found:
            raise GraphQLError(f"Unknown operation named '{operation_name}'.")
        return found[0]
    if len(operations) != 1:
        raise GraphQLError("Must provide operation name if query contains multiple operations.")
    return operations[0]


def operation_label(operation: OperationDefinitionNode) -> str:
    """What the simulator counts calls by: the operation's name, else its first root field."""
    if operation.name:
        return operation.name.value
    first = operation.selection_set.selections[0]
    return first.name.value if isinstance(first, FieldNode) else operation.operation.value


def query_cost(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> int:
    """The requested cost of `operation` (see the module docstring)."""
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * sum(1 for node in operation.selection_set.selections if isinstance(node, FieldNode))
    fragments = {node.name.value: node for node in document.definitions if isinstance(node, FragmentDefinitionNode)}
    defaults = {
        definition.variable.name.value: _literal(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    walker = _CostWalker(schema, fragments, {**defaults, **variables})
    return walker.selection(schema.query_type, operation.selection_set)


@dataclass
class _CostWalker:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]

    def selection(self, parent: GraphQLNamedType | None, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None or not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        total = 0
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                total += self.field(parent, node)
            elif isinstance(node, InlineFragmentNode):
                condition = self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                total += self.selection(condition, node.selection_set)
            elif isinstance(node, FragmentSpreadNode) and node.name.value in self.fragments:
                fragment = self.fragments[node.name.value]
                total += self.selection(
                    self.schema.get_type(fragment.type_condition.name.value), fragment.selection_set
                )
        return total

    def field(self, parent: GraphQLObjectType | GraphQLInterfaceType, node: FieldNode) -> int:
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        children = self.selection(named, node.selection_set)
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        if parent.name.endswith(("Connection", "Edge")) and node.name.value in CONNECTION_WRAPPERS:
            return children
        arguments = {argument.name.value: self.value(argument.value) for argument in node.arguments or ()}
        if named.name.endswith("Connection"):
            size = arguments.get("first") or arguments.get("last") or 0
            return CONNECTION_BASE_COST + _int(size) * (1 + children)
        if node.name.value == "nodes" and isinstance(arguments.get("ids"), list):
            return len(arguments["ids"]) * (1 + children)
        return 1 + children

    def value(self, node: ValueNode) -> Any:
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, ListValueNode):
            return [self.value(item) for item in node.values]
        return _literal(node)


def _literal(node: ValueNode) -> Any:
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, ListValueNode):
        return [_literal(item) for item in node.values]
    return None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# -- search syntax ------------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"""\(|\)|[a-z_]+:(?:>=|<=|>|<|=)?(?:'[^']*'|"[^"]*"|[^\s()]+)|[^\s()]+""")
_TERM = re.compile(r"""(?P<field>[a-z_]+):(?P<op>>=|<=|>|<|=)?(?P<value>.*)""", re.DOTALL)
Fields = Mapping[str, Any]
Predicate = Callable[[Fields], bool]


@dataclass(frozen=True)
class SearchTerm:
    """One `field:<op>value` term of a search query (`op` "=" when none is given)."""

    field: str
    op: str
    value: str


def parse_search(query: str | None, term_holds: Callable[[SearchTerm, Fields], bool]) -> Predicate:
    """A predicate for Shopify's search syntax: `field:value` terms, AND (also implicit), OR, NOT and parentheses.
    Free text and unbalanced parentheses are ignored (Shopify ignores what it cannot read, filtering less)."""
    tokens = _TOKEN.findall(query or "")
    predicate, _ = _or(tokens, 0, term_holds)
    return predicate


def _or(tokens: list[str], at: int, holds: Callable[[SearchTerm, Fields], bool]) -> tuple[Predicate, int]:
    options = []
    predicate, at = _and(tokens, at, holds)
    options.append(predicate)
    while at < len(tokens) and tokens[at] == "OR":
        predicate, at = _and(tokens, at + 1, holds)
        options.append(predicate)
    return (lambda fields: any(option(fields) for option in options)), at


def _and(tokens: list[str], at: int, holds: Callable[[SearchTerm, Fields], bool]) -> tuple[Predicate, int]:
    parts: list[Predicate] = []
    while at < len(tokens) and tokens[at] not in ("OR", ")"):
        if tokens[at] == "AND":
            at += 1
            continue
        negate = tokens[at] == "NOT"
        part, at = _primary(tokens, at + 1 if negate else at, holds)
        parts.append(_negated(part) if negate else part)
    return (lambda fields: all(part(fields) for part in parts)), at


def _negated(inner: Predicate) -> Predicate:
    return lambda fields: not inner(fields)


def _primary(tokens: list[str], at: int, holds: Callable[[SearchTerm, Fields], bool]) -> tuple[Predicate, int]:
    if at >= len(tokens):
        return (lambda fields: True), at
    if tokens[at] == "(":
        inner, at = _or(tokens, at + 1, holds)
        return inner, at + 1 if at < len(tokens) and tokens[at] == ")" else at
    match = _TERM.fullmatch(tokens[at])
    if match is None:
        return (lambda fields: True), at + 1
    value = match["value"]
    if value[:1] in "'\"" and value[-1:] == value[:1] and len(value) > 1:
        value = value[1:-1]
    term = SearchTerm(match["field"], match["op"] or "=", value)
    return (lambda fields: holds(term, fields)), at + 1


def parse_search_time(value: str) -> datetime:
    """A search date: ISO 8601 with or without time; a time without zone is read as UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise GraphQLError(f"Invalid date in search query: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def matches_term(term: SearchTerm, actual: Any) -> bool:
    """Compare one term with the object's value (datetimes, ints and case-insensitive text)."""
    if isinstance(actual, datetime):
        wanted: Any = parse_search_time(term.value)
    elif isinstance(actual, int):
        try:
            wanted = int(term.value)
        except ValueError:
            return False
    else:
        actual, wanted = str(actual or "").lower(), term.value.lower()
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    return comparisons[term.op](actual, wanted)


# -- cursors ------------------------------------------------------------------------------------------------------
def encode_cursor(key: Sequence[Any]) -> str:
    """An opaque cursor for a sort key (JSON, base64)."""
    return base64.urlsafe_b64encode(json.dumps(list(key), default=str).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    """The sort key inside a cursor; a GraphQLError for one we did not make."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise GraphQLError("Invalid cursor.") from None
    if not isinstance(key, list):
        raise GraphQLError("Invalid cursor.")
    return key
