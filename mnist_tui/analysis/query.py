"""Queries over the test set's view: short filter expressions, parsed once, evaluated with NumPy.

The language (one expression; words are case-insensitive)::

    label 7            true (given) label; also a range:  label 3..5
    pred 9             predicted label;     also:         pred 0..2
    conf < 0.6         the prediction's confidence: < <= > >= = != or a range  conf 0.4..0.6
    ptrue < 0.1        the probability the model gives the given label (p(true) in the browser)
    score > 0.5        the suspicious-label score, 1 - ptrue: higher is more suspicious
    mistakes           predicted != label;  correct: the others
    tag mislabelled    images with that tag;  tagged: any tag;  relabelled: a corrected label
    index 100..200     dataset indices (inclusive); also  index 42  and  index >= 9000
    A and B, A or B, not A, ( ... )      "and" binds tighter than "or"

Probabilities may be written as fractions (``0.6``) or percentages (``60%``). Every error
is a :class:`QueryError` that says where (the column, from 1) and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

PROBABILITY_FIELDS = {"conf": "confidence", "ptrue": "p(true)", "score": "score"}
LABEL_FIELDS = ("label", "pred")
FLAGS = ("mistakes", "correct", "tagged", "relabelled")
COMPARISONS = ("<=", ">=", "!=", "<", ">", "=")
KEYWORDS = (*LABEL_FIELDS, *PROBABILITY_FIELDS, "index", "tag", *FLAGS, "not")
TAG_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}\Z")
"""A tag: a lowercase word of up to 32 letters, digits, ``-`` and ``_``, starting with a letter."""

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?%?|\.\d+%?)|(?P<range>\.\.)|(?P<op><=|>=|!=|<|>|=)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_-]*)|(?P<paren>[()])|(?P<bad>\S))"
)


class QueryError(ValueError):
    """An expression that cannot be read or evaluated.

    Attributes:
        position: Where the problem is, a 0-based offset into the text.
        expected: What would have been valid there (``"a number"``), or empty.
    """

    def __init__(self, message: str, position: int, expected: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.expected = expected

    def __str__(self) -> str:
        return f"column {self.position + 1}: {self.message}"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    """The expression's tokens; an ``end`` token closes the list."""
    tokens = []
    position = 0
    while True:
        match = _TOKEN.match(text, position)
        if match is None:  # only blanks remain
            break
        kind = match.lastgroup or "bad"
        start = match.start(kind)
        if kind == "bad":
            raise QueryError(f"unexpected character {match.group(kind)!r}", start)
        tokens.append(Token(kind, match.group(kind), start))
        position = match.end()
    tokens.append(Token("end", "", len(text.rstrip())))
    return tokens


# ---------------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Compare:
    """``field op value`` or, with ``high``, the inclusive range ``value..high``."""

    field: str
    op: str
    value: float
    high: float | None = None


@dataclass(frozen=True)
class Flag:
    name: str


@dataclass(frozen=True)
class HasTag:
    name: str


@dataclass(frozen=True)
class Not:
    term: Node


@dataclass(frozen=True)
class Both:
    """``and`` (``any_of=False``) or ``or`` (``any_of=True``) of its terms."""

    terms: tuple[Node, ...]
    any_of: bool = False


Node = Compare | Flag | HasTag | Not | Both


# ---------------------------------------------------------------------- parsing


@dataclass
class _Parser:
    text: str
    tokens: list[Token]
    at: int = 0
    classes: int = 10

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def fail(self, expected: str, token: Token | None = None) -> QueryError:
        token = token or self.token
        got = "the end" if token.kind == "end" else repr(token.text)
        return QueryError(f"expected {expected}, got {got}", token.position, expected)

    def either(self) -> Node:
        terms = [self.both()]
        while self.token.kind == "word" and self.token.text.lower() == "or":
            self.take()
            terms.append(self.both())
        return terms[0] if len(terms) == 1 else Both(tuple(terms), any_of=True)

    def both(self) -> Node:
        terms = [self.term()]
        while self.token.kind == "word" and self.token.text.lower() == "and":
            self.take()
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else Both(tuple(terms))

    def term(self) -> Node:
        token = self.token
        if token.kind == "paren" and token.text == "(":
            self.take()
            inner = self.either()
            if not (self.token.kind == "paren" and self.token.text == ")"):
                raise self.fail("')' to close the '(' at column " + str(token.position + 1))
            self.take()
            return inner
        if token.kind != "word":
            got = "the end" if token.kind == "end" else repr(token.text)
            raise QueryError(
                f"expected a condition ({', '.join(KEYWORDS[:-1])}), got {got}", token.position, "a condition"
            )
        word = token.text.lower()
        if word == "not":
            self.take()
            return Not(self.term())
        if word in FLAGS:
            self.take()
            return Flag(word)
        if word == "tag":
            self.take()
            name = self.token
            if name.kind != "word" or not TAG_NAME.match(name.text.lower()):
                raise self.fail("a tag name (a word such as mislabelled)")
            self.take()
            return HasTag(name.text.lower())
        if word in LABEL_FIELDS or word == "index":
            self.take()
            return self.comparison(word, whole=True)
        if word in PROBABILITY_FIELDS:
            self.take()
            return self.comparison(word, whole=False)
        raise QueryError(
            f"unknown word {token.text!r}; expected one of {', '.join(KEYWORDS[:-1])}", token.position, "a condition"
        )

    def comparison(self, name: str, *, whole: bool) -> Compare:
        op = "="
        if self.token.kind == "op":
            op = self.take().text
        low = self.number(name, whole)
        if self.token.kind != "range":
            return Compare(name, op, low)
        if op != "=":
            raise self.fail(f"a condition after {name} {op} {self.tokens[self.at - 1].text} (a range takes no {op})")
        self.take()
        high = self.number(name, whole)
        if high < low:
            raise QueryError(
                f"the range {name} {_fmt(low)}..{_fmt(high)} is empty (its start is after its end)",
                self.tokens[self.at - 1].position,
                f"a number of at least {_fmt(low)}",
            )
        return Compare(name, "..", low, high)

    def number(self, name: str, whole: bool) -> float:
        token = self.token
        what = "a whole number" if whole else "a number from 0 to 1 (or a percentage)"
        if token.kind != "number":
            raise self.fail(f"{what} after {name}")
        self.take()
        text = token.text
        if whole:
            if not text.isdigit():
                raise QueryError(f"{name} takes a whole number, got {text!r}", token.position, what)
            value = float(int(text))
            if name in LABEL_FIELDS and value >= self.classes:
                raise QueryError(
                    f"{name} {text} is not a class (0 to {self.classes - 1})", token.position, "a class number"
                )
            return value
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        if not 0 <= value <= 1:
            raise QueryError(f"{name} is a probability from 0 to 1 (0% to 100%), got {text}", token.position, what)
        return value


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def parse(text: str, classes: int = 10) -> Node:
    """Read an expression into its tree.

    Args:
        text: The expression (see the module's docstring).
        classes: How many classes the dataset has (labels run from 0 to ``classes - 1``).

    Raises:
        QueryError: with the column and what was expected there.
    """
    tokens = tokenize(text)
    if tokens[0].kind == "end":
        raise QueryError("the query is empty", 0, "a condition")
    parser = _Parser(text, tokens, classes=classes)
    node = parser.either()
    if parser.token.kind != "end":
        if parser.token.kind == "paren" and parser.token.text == ")":
            raise QueryError("')' without a '(' before it", parser.token.position, "and, or, or the end")
        raise parser.fail("and, or, or the end")
    return node


# ---------------------------------------------------------------------- evaluation


@dataclass(frozen=True, eq=False)
class QueryData:
    """What a query reads, one entry per image (the arrays the browser already has).

    Attributes:
        labels: ``(n,)`` given labels.
        predicted: ``(n,)`` predicted labels.
        confidence: ``(n,)`` the predicted class's probability.
        ptrue: ``(n,)`` the given label's probability.
        tags: tag name -> ``(n,)`` bool mask of the images that carry it.
        relabelled: ``(n,)`` bool, images with a corrected label (``None``: none).
    """

    labels: np.ndarray
    predicted: np.ndarray
    confidence: np.ndarray
    ptrue: np.ndarray
    tags: Mapping[str, np.ndarray] = field(default_factory=dict)
    relabelled: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    @classmethod
    def from_probabilities(
        cls,
        probabilities: np.ndarray,
        labels: np.ndarray,
        tags: Mapping[str, np.ndarray] | None = None,
        relabelled: np.ndarray | None = None,
    ) -> QueryData:
        probabilities = np.asarray(probabilities)
        labels = np.asarray(labels).astype(np.int64)
        rows = np.arange(len(labels))
        return cls(
            labels=labels,
            predicted=probabilities.argmax(axis=1),
            confidence=probabilities.max(axis=1),
            ptrue=probabilities[rows, labels],
            tags=dict(tags or {}),
            relabelled=relabelled,
        )


_OPS = {
    "=": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


def evaluate(node: Node, data: QueryData) -> np.ndarray:
    """The ``(n,)`` bool mask of the images ``node`` selects."""
    n = len(data)
    if isinstance(node, Both):
        masks = [evaluate(term, data) for term in node.terms]
        return np.logical_or.reduce(masks) if node.any_of else np.logical_and.reduce(masks)
    if isinstance(node, Not):
        return ~evaluate(node.term, data)
    if isinstance(node, HasTag):
        mask = data.tags.get(node.name)
        return np.zeros(n, bool) if mask is None else np.asarray(mask, bool)
    if isinstance(node, Flag):
        if node.name == "mistakes":
            return data.predicted != data.labels
        if node.name == "correct":
            return data.predicted == data.labels
        if node.name == "tagged":
            return np.logical_or.reduce([np.zeros(n, bool), *data.tags.values()])
        return np.zeros(n, bool) if data.relabelled is None else np.asarray(data.relabelled, bool)
    values = _values(node.field, data)
    if node.op == "..":
        return (values >= node.value) & (values <= node.high)
    return _OPS[node.op](values, node.value)


def _values(name: str, data: QueryData) -> np.ndarray:
    if name == "label":
        return data.labels
    if name == "pred":
        return data.predicted
    if name == "conf":
        return data.confidence
    if name == "ptrue":
        return data.ptrue
    if name == "score":
        return 1.0 - data.ptrue
    return np.arange(len(data))


@dataclass(frozen=True)
class Query:
    """A parsed expression with its text: ``Query.read("label 7 and conf < 0.6").mask(data)``."""

    text: str
    node: Node

    @classmethod
    def read(cls, text: str, classes: int = 10) -> Query:
        """Parse ``text``; raises :class:`QueryError`."""
        return cls(" ".join(text.split()), parse(text, classes))

    def mask(self, data: QueryData) -> np.ndarray:
        return evaluate(self.node, data)

    def select(self, indices: np.ndarray, data: QueryData) -> np.ndarray:
        """The ``indices`` (dataset indices, in their order) the query keeps."""
        return indices[self.mask(data)[indices]]

    @property
    def uses_tags(self) -> bool:
        """Whether the answer changes when tags or relabels do (so it must be evaluated again)."""
        return _uses_tags(self.node)


def _uses_tags(node: Node) -> bool:
    if isinstance(node, Both):
        return any(_uses_tags(term) for term in node.terms)
    if isinstance(node, Not):
        return _uses_tags(node.term)
    return isinstance(node, HasTag) or (isinstance(node, Flag) and node.name in ("tagged", "relabelled"))
